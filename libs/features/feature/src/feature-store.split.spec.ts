/**
 * Point-in-time across corporate actions, through the feature store on real bundled data: recording a split dated
 * after t must change no feature value at or before t that a training dataset or a backtest reads.
 *
 * Pipeline (the production one): bundled daily bars committed to DuckDB with their bundled corporate actions,
 * materialised by `FeatureRefreshService` (total-adjusted bars), then a split dated after t recorded through
 * `MarketDataService.recordCorporateActions` and the symbol recomputed as the `corporate-actions.recorded` handler
 * does (`BarsIngestedHandler.onCorporateActions`). Compared before and after, for every bar ≤ t:
 * - the stored values (`FeaturesService.read`: scoring, `GET /features`);
 * - the training dataset (`FeaturesService.buildTrainingDataset`: features and labels of a segment ending at t);
 * - what a backtest computes (the engine computes `core` from the adjusted bars it trades,
 *   `CORE_FEATURE_SET_VERSIONS[v].computeTail(bars, 0, …)`, see `@strata/backtests-domain` signals.ts).
 * `core` v2 must not move; `core` v1 does (its price- and volume-unit columns), which is the leak v2 removes.
 */
import { Logger } from '@nestjs/common';
import { CorporateActionSchema, type BarColumns, type CorporateAction } from '@strata/marketdata-contracts';
import { InProcessEventBus } from '@strata/platform-bus';
import { CORE_FEATURE_SET_VERSIONS, type AnnualisationCalendar } from '@strata/shared-indicators';
import { readBarsCsv } from '@strata/marketdata-domain';
import { InProcessMarketDataReader, MarketDataService } from '@strata/marketdata-feature';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { BarsIngestedHandler } from './bars-ingested.handler';
import { FeatureRefreshService } from './feature-refresh.service';
import { CORE_V1, CORE_V2 } from './feature-set.registry';
import { FeaturesService } from './features.service';

jest.setTimeout(120_000);

const SAMPLE = resolve(__dirname, '../../../../data/sample');
const ACTIONS: CorporateAction[] = z
  .object({ actions: z.array(CorporateActionSchema) })
  .parse(JSON.parse(readFileSync(resolve(SAMPLE, 'corporate-actions.json'), 'utf8'))).actions;
const T = Date.UTC(2010, 11, 31); // t: compare every bar at or before it
const HORIZON = 5;

/** Every value at or before T, per feature, for one way of reading the features. */
type Snapshot = Record<string, Float64Array>;

/** Per feature, the number of values at bars ≤ T that differ (NaN equals NaN; `tol` relative to max(1, |a|)). */
function changed(a: Snapshot, b: Snapshot, tol = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of Object.keys(a)) {
    let k = 0;
    for (let i = 0; i < a[f].length; i++) {
      const x = a[f][i];
      const y = b[f][i];
      if (Object.is(x, y)) continue;
      if (tol > 0 && Math.abs(x - y) <= tol * Math.max(1, Math.abs(x))) continue;
      k++;
    }
    if (k > 0) out[f] = k;
  }
  return out;
}

/*
 * IBM 2:1 — a power-of-two factor: every v2 value bit-identical.
 * BAC 3:1 — the factor is inexact in binary: v2 equal to rounding (1e-10 of max(1, |x|)), EXCEPT `adx_14`: TA-Lib's
 * ADX counts a directional move only when the up and down moves differ strictly, and rescaling by an inexact factor
 * breaks some exact ties of the raw prices (measured: 356 of 3,001 BAC values up to t moved, by up to 0.58 ADX
 * points). That residual is documented in docs/features.md and left out of the 3:1 check (`exempt`).
 */
describe.each([
  ['IBM', 2, 1, 0, [] as string[]],
  ['BAC', 3, 1, 1e-10, ['adx_14']],
])(
  'recording a %s %i:%i split dated after t (real bundled daily bars)',
  (symbol, newShares, oldShares, tol, exempt) => {
    let db: DuckDb;
    let bus: InProcessEventBus;
    let marketData: MarketDataService;
    let refresh: FeatureRefreshService;
    let features: FeaturesService;
    let handler: BarsIngestedHandler;
    let reader: InProcessMarketDataReader;

    beforeAll(async () => {
      Logger.overrideLogger(false);
      db = await DuckDb.create(DUCKDB_MEMORY);
      bus = new InProcessEventBus({ service: 'test' });
      const bars = new DuckDbBarsRepository(db);
      const store = new DuckDbFeatureStore(db);
      marketData = new MarketDataService(bars, new DuckDbCorporateActionsRepository(db), bus);
      reader = new InProcessMarketDataReader({ marketData, features: store });
      refresh = new FeatureRefreshService(reader, store, [CORE_V1, CORE_V2], bus);
      features = new FeaturesService(store, reader);
      handler = new BarsIngestedHandler(refresh, reader);
      const raw = readBarsCsv(readFileSync(resolve(SAMPLE, `${symbol}_1d.csv`), 'utf8'), { timeframe: '1d' }).bars;
      await bars.commit({ ingestionId: `i-${symbol}`, symbol, timeframe: '1d', bars: raw as BarColumns });
      // The symbol's real history of corporate actions first, so the adjusted bars are the ones the platform serves.
      await marketData.recordCorporateActions(ACTIONS.filter((a) => a.symbol === symbol));
      await refresh.refreshSeries(symbol, '1d', { full: true, reason: 'backfill' });
    });
    afterAll(async () => {
      await bus.close();
      await db.close();
    });

    /** What a training dataset, the store and a backtest read at bars ≤ T, for one `core` version. */
    async function read(version: number): Promise<{ stored: Snapshot; dataset: Snapshot; backtest: Snapshot }> {
      const stored = await features.read({ set: 'core', version, symbol, timeframe: '1d', to: T });
      const ds = await features.buildTrainingDataset({
        set: 'core',
        version,
        symbol,
        timeframe: '1d',
        segments: [{ name: 'train', from: -8.64e15, to: T + 1 }],
        options: { horizon: HORIZON, purge: 0 },
      });
      const [train] = ds.parts;
      // Rows whose label window ends after T read later closes: keep the rows whose label ends by T as well.
      const keep = Array.from(train.ts.keys()).filter((j) => train.index[j] + HORIZON < stored.ts.length);
      const dataset: Snapshot = {
        label: Float64Array.from(keep, (j) => train.y[j]),
        ts: Float64Array.from(keep, (j) => train.ts[j]),
      };
      for (const f of Object.keys(train.X)) dataset[f] = Float64Array.from(keep, (j) => train.X[f][j]);
      const { bars } = await reader.getBars({ symbol, timeframe: '1d', adjust: 'total' });
      const upTo = stored.ts.length;
      const cols = CORE_FEATURE_SET_VERSIONS[version].computeTail(bars, 0, {
        timeframe: '1d',
        calendar: CORE_V2.calendarOf(bars.ts, bars.length) as AnnualisationCalendar,
      });
      const backtest: Snapshot = {};
      for (const [f, col] of Object.entries(cols)) backtest[f] = col.subarray(0, upTo);
      return { stored: stored.columns, dataset, backtest };
    }

    let before: Record<number, Awaited<ReturnType<typeof read>>>;
    let after: Record<number, Awaited<ReturnType<typeof read>>>;

    it('records the split and recomputes the symbol (the split really rescales the history before t)', async () => {
      before = { 1: await read(1), 2: await read(2) };
      const rawBefore = (await reader.getBars({ symbol, timeframe: '1d', adjust: 'total' })).bars.close[1000];
      const r = await marketData.recordCorporateActions([
        { kind: 'split', symbol, exDate: '2015-01-02', newShares, oldShares },
      ]);
      expect(r.symbolsChanged).toEqual([symbol]);
      // What the feature service does on `marketdata.evt.corporate-actions.recorded.v1`.
      await handler.onCorporateActions({
        symbol,
        actions: [{ kind: 'split', exDate: '2015-01-02' }],
        latestExDate: '2015-01-02',
      });
      const rawAfter = (await reader.getBars({ symbol, timeframe: '1d', adjust: 'total' })).bars.close[1000];
      expect(rawAfter).toBeCloseTo((rawBefore * oldShares) / newShares, 9);
      after = { 1: await read(1), 2: await read(2) };
      expect(before[2].stored.rsi_14.length).toBeGreaterThan(3000);
      expect(before[2].dataset.label.length).toBeGreaterThan(3000);
    });

    it.each(['stored', 'dataset', 'backtest'] as const)('core v2: no %s value at or before t changes', (what) => {
      const c = changed(before[2][what], after[2][what], tol);
      for (const f of exempt) delete c[f];
      expect(c).toEqual({});
    });

    it.each(['stored', 'dataset', 'backtest'] as const)(
      'core v1: its price- and volume-unit %s values change (the leak v2 removes), nothing else',
      (what) => {
        const c = changed(before[1][what], after[1][what], tol);
        for (const f of exempt) delete c[f];
        expect(Object.keys(c).sort()).toEqual(['atr_14', 'macd', 'macd_hist', 'macd_signal', 'obv']);
        for (const n of Object.values(c)) expect(n).toBeGreaterThan(2500);
      },
    );
  },
);
