/**
 * The feature store end to end on an in-memory DuckDB: registration and immutability, full and incremental
 * materialisation checked against the domain kernels, lineage, point-in-time correctness (every future bar changed,
 * past features unchanged), the as-of join without leakage, and refresh on market-data events.
 */
import { Logger, Module } from '@nestjs/common';
import { BarsIngestedV1, MARKET_DATA_READER, type BarColumns } from '@strata/marketdata-contracts';
import { FeatureSetRefreshedV1, type FeatureStore } from '@strata/features-contracts';
import { type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { computeCoreFeatures, CORE_V1_FEATURE_NAMES } from '@strata/shared-indicators';
import { barsContentHash } from '@strata/shared-timeseries';
import { readBarsCsv } from '@strata/marketdata-domain';
import { InProcessMarketDataReader, MarketDataService } from '@strata/marketdata-feature';
import { createBusMicroservice, InProcessEventBus } from '@strata/platform-bus';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BarsIngestedHandler } from './bars-ingested.handler';
import { FeatureRefreshService } from './feature-refresh.service';
import { CORE_V1 } from './feature-set.registry';
import { FeaturesService } from './features.service';

jest.setTimeout(120_000);

const SAMPLE = resolve(__dirname, '../../../../data/sample');
const spy = readBarsCsv(readFileSync(resolve(SAMPLE, 'SPY_1d.csv'), 'utf8'), { timeframe: '1d' }).bars;
const DAY = 86_400_000;

function slice(b: BarColumns, from: number, to: number): BarColumns {
  return {
    length: to - from,
    ts: b.ts.slice(from, to),
    open: b.open.slice(from, to),
    high: b.high.slice(from, to),
    low: b.low.slice(from, to),
    close: b.close.slice(from, to),
    volume: b.volume.slice(from, to),
    adjClose: null,
  };
}

/** Bitwise equality of two float columns where NaN equals NaN. */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('feature store (DuckDB, core v1)', () => {
  let db: DuckDb;
  let bus: InProcessEventBus;
  let bars: DuckDbBarsRepository;
  let store: DuckDbFeatureStore;
  let marketData: MarketDataService;
  let refresh: FeatureRefreshService;
  let features: FeaturesService;
  const refreshed: Envelope<PayloadOf<typeof FeatureSetRefreshedV1>>[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await DuckDb.create(DUCKDB_MEMORY);
    bus = new InProcessEventBus({ service: 'test' });
    bars = new DuckDbBarsRepository(db);
    store = new DuckDbFeatureStore(db);
    marketData = new MarketDataService(bars, new DuckDbCorporateActionsRepository(db), bus);
    const reader = new InProcessMarketDataReader({ marketData, features: store });
    refresh = new FeatureRefreshService(reader, store, [CORE_V1], bus);
    features = new FeaturesService(store, reader);
    await bus.subscribe(FeatureSetRefreshedV1, (_d, ctx) => void refreshed.push(ctx.envelope), {
      consumer: 'spec__refreshed',
    });
  });
  afterAll(async () => {
    await bus.close();
    await db.close();
  });

  const waitFor = async (pred: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return pred();
  };

  it('satisfies the FeatureStore port', () => {
    const port: FeatureStore = store;
    expect(port).toBeDefined();
  });

  it('registers core v1 once, immutably, as a view per version; a new version never touches the old one', async () => {
    await refresh.registerAll();
    await refresh.registerAll();
    expect(await features.listSets()).toEqual([{ name: 'core', versions: [1], latestVersion: 1 }]);
    // Versioning on a database of its own, so that `core` stays at v1 (the latest) for the other tests.
    const db2 = await DuckDb.create(DUCKDB_MEMORY);
    try {
      const store2 = new DuckDbFeatureStore(db2);
      const v1 = await store2.register(CORE_V1.registration);
      expect(await store2.register(CORE_V1.registration)).toEqual(v1);
      expect(v1).toMatchObject({
        name: 'core',
        version: 1,
        view: 'features.core_v1',
        adjust: 'total',
        warmUpBars: 33,
        codeVersion: CORE_V1.registration.codeVersion,
      });
      expect(v1.features.map((f) => f.name)).toEqual([...CORE_V1_FEATURE_NAMES]);
      const ts = Float64Array.of(Date.UTC(2020, 0, 2));
      const one = Object.fromEntries(CORE_V1_FEATURE_NAMES.map((f) => [f, Float64Array.of(1)]));
      const lineage = {
        barsContentHash: 'h',
        barsCount: 1,
        adjustmentHash: 'a',
        calendar: 'us-equity',
        reason: 'backfill' as const,
      };
      await store2.writeTail({
        set: 'core',
        version: 1,
        symbol: 'X',
        timeframe: '1d',
        fromTs: ts[0],
        values: { ts, columns: one },
        lineage,
      });
      const changed = {
        ...CORE_V1.registration,
        features: CORE_V1.registration.features.map((f, i) => (i === 0 ? { ...f, description: 'edited' } : f)),
      };
      await expect(store2.register(changed)).rejects.toMatchObject({ name: 'FeatureSetConflictError' });
      const v2 = await store2.register({ ...changed, version: 2, codeVersion: 'x@2' });
      expect(v2.view).toBe('features.core_v2');
      expect(
        (await store2.listVersions('core')).map((v) => [v.version, v.definitionHash === v1.definitionHash]),
      ).toEqual([
        [1, true],
        [2, false],
      ]);
      expect(await store2.listSets()).toEqual([{ name: 'core', versions: [1, 2], latestVersion: 2 }]);
      // v1's values are untouched by v2's registration.
      expect((await store2.read({ set: 'core', version: 1, symbol: 'X', timeframe: '1d' })).columns.rsi_14[0]).toBe(1);
      expect((await store2.read({ set: 'core', version: 2, symbol: 'X', timeframe: '1d' })).ts.length).toBe(0);
      const cols = await db2.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM information_schema.columns WHERE table_schema = 'features' AND table_name = 'core_v1'`,
      );
      expect(Number(cols[0].n)).toBe(4 + 22); // symbol, timeframe, ts, available_at + 22 features
    } finally {
      await db2.close();
    }
  });

  it('materialises the whole history exactly as the domain kernels compute it, with NULL warm-up and lineage', async () => {
    await bars.commit({ ingestionId: 'i-spy', symbol: 'SPY', timeframe: '1d', bars: spy });
    const [out] = await refresh.refreshSeries('SPY', '1d', { reason: 'backfill' });
    expect(out).toMatchObject({ rows: spy.length, full: true, from: spy.ts[0], to: spy.ts[spy.length - 1] });
    const expected = computeCoreFeatures(spy, { timeframe: '1d' });
    const got = await features.read({ set: 'core', symbol: 'SPY', timeframe: '1d' });
    expect(Array.from(got.ts)).toEqual(Array.from(spy.ts.subarray(0, spy.length)));
    for (const f of CORE_V1_FEATURE_NAMES)
      expect({ f, same: sameBits(got.columns[f], expected[f]) }).toEqual({ f, same: true });
    // Warm-up is NULL in SQL, not 0 or NaN.
    const [w] = await db.all<{ nulls: bigint; nans: bigint }>(
      `SELECT count(*) FILTER (WHERE macd IS NULL) AS nulls, count(*) FILTER (WHERE isnan(macd)) AS nans FROM features.core_v1 WHERE symbol = 'SPY'`,
    );
    expect(Number(w.nulls)).toBe(33);
    expect(Number(w.nans)).toBe(0);
    const [lin] = await features.lineage({ set: 'core', symbol: 'SPY', timeframe: '1d', limit: 1 });
    expect(lin).toMatchObject({
      set: 'core',
      version: 1,
      codeVersion: CORE_V1.registration.codeVersion,
      barsCount: spy.length,
      rows: spy.length,
      calendar: 'us-equity',
      reason: 'backfill',
    });
    expect(lin.barsContentHash).toBe(barsContentHash(slice(spy, 0, spy.length)));
    await waitFor(() => refreshed.some((e) => e.data.symbol === 'SPY'));
    expect(refreshed.find((e) => e.data.symbol === 'SPY')!.data).toMatchObject({
      set: 'core',
      version: 1,
      timeframe: '1d',
      rows: spy.length,
      from: '1998-01-02T00:00:00.000Z',
      to: '2021-03-31T00:00:00.000Z',
    });
  });

  it('is point-in-time: changing every future bar leaves every past feature unchanged', async () => {
    const k = 3000;
    const changed = slice(spy, 0, spy.length);
    for (let i = k + 1; i < changed.length; i++) {
      // Rescale and jitter every later bar (keeping it a valid bar).
      const m = 1.7 + 0.3 * Math.sin(i);
      changed.open[i] *= m;
      changed.high[i] *= m * 1.01;
      changed.low[i] *= m * 0.99;
      changed.close[i] *= m;
      changed.volume[i] = changed.volume[i] * 3 + 17;
    }
    await bars.commit({ ingestionId: 'i-fut', symbol: 'FUT', timeframe: '1d', bars: changed });
    await refresh.refreshSeries('FUT', '1d', { reason: 'backfill' });
    const a = await features.read({ set: 'core', symbol: 'SPY', timeframe: '1d' });
    const b = await features.read({ set: 'core', symbol: 'FUT', timeframe: '1d' });
    let differsLater = 0;
    for (const f of CORE_V1_FEATURE_NAMES) {
      expect({ f, same: sameBits(a.columns[f].subarray(0, k + 1), b.columns[f].subarray(0, k + 1)) }).toEqual({
        f,
        same: true,
      });
      if (!sameBits(a.columns[f].subarray(k + 1), b.columns[f].subarray(k + 1))) differsLater++;
    }
    expect(differsLater).toBe(22); // the test can fail: every feature does see the changed bars
  });

  it('as-of join attaches the latest CLOSED bar to arbitrary event times, never a bar still open', async () => {
    const i = 4000;
    const start = spy.ts[i];
    const events = Float64Array.from([
      start + DAY, // the bar closed exactly now → bar i
      start + DAY - 1, // 1 ms before bar i closes → bar i-1
      start + 12 * 3600_000, // intraday on bar i's date → bar i-1
      spy.ts[0] - 1, // before any bar → nothing
      spy.ts[0] + DAY, // first bar just closed → bar 0
      start + 10 * DAY, // later events; order of the answer follows the input
    ]);
    const got = await features.asOf({ set: 'core', symbol: 'SPY', timeframe: '1d', eventTimes: events });
    const closedBy = (t: number) => {
      let j = -1;
      for (let x = 0; x < spy.length; x++) if (spy.ts[x] + DAY <= t) j = x;
      return j;
    };
    const full = await features.read({ set: 'core', symbol: 'SPY', timeframe: '1d' });
    events.forEach((t, e) => {
      const j = closedBy(t);
      if (j < 0) {
        expect(Number.isNaN(got.ts[e])).toBe(true);
        expect(Number.isNaN(got.columns.ret_1[e])).toBe(true);
      } else {
        expect(got.ts[e]).toBe(spy.ts[j]);
        for (const f of CORE_V1_FEATURE_NAMES) expect(Object.is(got.columns[f][e], full.columns[f][j])).toBe(true);
      }
    });
    expect(got.ts[0]).toBe(spy.ts[i]);
    expect(got.ts[1]).toBe(spy.ts[i - 1]);
    expect(got.ts[2]).toBe(spy.ts[i - 1]);
    // No leakage: the as-of answer for events up to bar k's close is identical on the series whose later bars changed.
    const k = 3000;
    const ev = Float64Array.from({ length: 50 }, (_, x) => spy.ts[k - 49 + x] + DAY + 3600_000);
    const a = await features.asOf({ set: 'core', symbol: 'SPY', timeframe: '1d', eventTimes: ev });
    const b = await features.asOf({ set: 'core', symbol: 'FUT', timeframe: '1d', eventTimes: ev });
    for (const f of CORE_V1_FEATURE_NAMES) expect(sameBits(a.columns[f], b.columns[f])).toBe(true);
  });

  it('refreshes only the affected tail on new or corrected bars, bit-identical to a full recomputation', async () => {
    const n = spy.length;
    await bars.commit({ ingestionId: 'i-inc-1', symbol: 'INC', timeframe: '1d', bars: slice(spy, 0, n - 10) });
    await refresh.refreshSeries('INC', '1d', { reason: 'backfill' });
    // Ten new bars.
    const add = await bars.commit({
      ingestionId: 'i-inc-2',
      symbol: 'INC',
      timeframe: '1d',
      bars: slice(spy, n - 10, n),
    });
    const [tail] = await refresh.refreshSeries('INC', '1d', { changedFrom: add.changedFrom!, reason: 'bars_ingested' });
    expect(tail).toMatchObject({ rows: 10, full: false, from: spy.ts[n - 10], to: spy.ts[n - 1] });
    const got = await features.read({ set: 'core', symbol: 'INC', timeframe: '1d' });
    const expected = computeCoreFeatures(spy, { timeframe: '1d' });
    for (const f of CORE_V1_FEATURE_NAMES)
      expect({ f, same: sameBits(got.columns[f], expected[f]) }).toEqual({ f, same: true });
    // A correction in the middle: recompute from that bar on.
    const fixed = slice(spy, 4000, 4001);
    fixed.close[0] = Math.min(fixed.high[0], fixed.close[0] * 1.001);
    const c = await bars.commit({ ingestionId: 'i-inc-3', symbol: 'INC', timeframe: '1d', bars: fixed });
    expect(c.updated).toBe(1);
    const [mid] = await refresh.refreshSeries('INC', '1d', { changedFrom: c.changedFrom!, reason: 'bars_corrected' });
    expect(mid.rows).toBe(n - 4000);
    const all = await bars.read({ symbol: 'INC', timeframe: '1d' });
    const exp2 = computeCoreFeatures(all, { timeframe: '1d' });
    const got2 = await features.read({ set: 'core', symbol: 'INC', timeframe: '1d' });
    for (const f of CORE_V1_FEATURE_NAMES) expect(sameBits(got2.columns[f], exp2[f])).toBe(true);
    // Nothing new: nothing recomputed.
    const [none] = await refresh.refreshSeries('INC', '1d', { reason: 'bars_ingested' });
    expect(none.rows).toBe(0);
  });

  it('builds a training dataset from stored features and adjusted closes, purged and embargoed at the split', async () => {
    const split = Date.parse('2015-01-02T00:00:00Z');
    const ds = await features.buildTrainingDataset({
      set: 'core',
      symbol: 'SPY',
      timeframe: '1d',
      segments: [
        { name: 'train', from: spy.ts[0], to: split },
        { name: 'test', from: split, to: spy.ts[spy.length - 1] + 1 },
      ],
      options: { horizon: 5, embargo: 10 },
    });
    const [train, test] = ds.parts;
    const firstTest = Array.from(spy.ts).findIndex((t) => t >= split);
    expect(train.index[0]).toBe(33); // warm-up rows (MACD needs 33 bars) are left out
    expect(train.index[train.index.length - 1]).toBe(firstTest - 6); // purge: label window [t, t + 5] stays in train
    expect(test.index[0]).toBe(firstTest + 10); // embargo
    expect(test.index[test.index.length - 1]).toBe(spy.length - 6); // the last 5 bars have no label
    const stored = await features.read({ set: 'core', symbol: 'SPY', timeframe: '1d' });
    const j = 1234;
    const i = train.index[j];
    expect(train.y[j]).toBeCloseTo(spy.close[i + 5] / spy.close[i] - 1, 15);
    for (const f of CORE_V1_FEATURE_NAMES) expect(Object.is(train.X[f][j], stored.columns[f][i])).toBe(true);
    expect(ds.dropped).toMatchObject({ missingFeature: 33, purged: 5, embargoed: 10, noLabel: 5 });
  });

  it('reacts to bars.ingested and corporate-actions.recorded events through the bus, recomputing on split-adjusted bars', async () => {
    @Module({
      controllers: [BarsIngestedHandler],
      providers: [
        { provide: FeatureRefreshService, useValue: refresh },
        { provide: MARKET_DATA_READER, useValue: marketData },
      ],
    })
    class RefreshModule {}
    const handler = await createBusMicroservice(RefreshModule, { bus, service: 'features', logger: false });
    try {
      const n = spy.length;
      await bars.commit({ ingestionId: 'i-ev-1', symbol: 'EVT', timeframe: '1d', bars: slice(spy, 0, n - 1) });
      await refresh.refreshSeries('EVT', '1d', { reason: 'backfill' });
      const last = await bars.commit({
        ingestionId: 'i-ev-2',
        symbol: 'EVT',
        timeframe: '1d',
        bars: slice(spy, n - 1, n),
      });
      const t0 = performance.now();
      await bus.publish(BarsIngestedV1, {
        ingestionId: 'i-ev-2',
        symbol: 'EVT',
        timeframe: '1d',
        from: new Date(spy.ts[n - 1]).toISOString(),
        to: new Date(spy.ts[n - 1]).toISOString(),
        rowCount: 1,
        contentHash: 'a'.repeat(64),
        changedFrom: new Date(last.changedFrom!).toISOString(),
        inserted: 1,
        updated: 0,
      });
      expect(await waitFor(() => refreshed.some((e) => e.data.symbol === 'EVT' && e.data.rows === 1))).toBe(true);
      const latencyMs = performance.now() - t0;
      expect(latencyMs).toBeGreaterThan(0);
      // A split recorded after the fact: the symbol is recomputed in full on split-adjusted bars.
      await marketData.recordCorporateActions([
        { kind: 'split', symbol: 'EVT', exDate: '2010-01-04', newShares: 3, oldShares: 1 },
      ]);
      expect(
        await waitFor(() => refreshed.some((e) => e.data.symbol === 'EVT' && e.data.reason === 'corporate_actions')),
      ).toBe(true);
      const adj = (await marketData.getBars({ symbol: 'EVT', timeframe: '1d', adjust: 'total' })).bars;
      const exp = computeCoreFeatures(adj, { timeframe: '1d' });
      const got = await features.read({ set: 'core', symbol: 'EVT', timeframe: '1d' });
      for (const f of CORE_V1_FEATURE_NAMES)
        expect({ f, same: sameBits(got.columns[f], exp[f]) }).toEqual({ f, same: true });
      // Price-unit features changed before the ex-date, scale-free ones (returns) did not (up to rounding).
      const before = await features.read({ set: 'core', symbol: 'SPY', timeframe: '1d' });
      const i = 2000;
      expect(got.columns.macd[i]).toBeCloseTo(before.columns.macd[i] / 3, 10);
      expect(got.columns.ret_1[i]).toBeCloseTo(before.columns.ret_1[i], 12);
    } finally {
      await handler.close();
    }
  });
});
