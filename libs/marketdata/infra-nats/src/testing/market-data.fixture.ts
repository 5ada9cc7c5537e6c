import { Logger } from '@nestjs/common';
import { DuckDbBarQualityFlagsStore } from '@strata/dataquality-infra-duckdb';
import type { BarQualityFlagsStore } from '@strata/dataquality-contracts';
import type { FeatureStore } from '@strata/features-contracts';
import { CORE_V1, FeatureRefreshService } from '@strata/features-feature';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import type { BarColumns, BarsRepository, CorporateAction } from '@strata/marketdata-contracts';
import { readBarsCsv } from '@strata/marketdata-domain';
import { InProcessMarketDataReader, MarketDataService } from '@strata/marketdata-feature';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { InProcessEventBus } from '@strata/platform-bus';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SeriesChangeTracker } from '../series-change.tracker';

/** The bundled sample data (`data/sample`). */
export const SAMPLE_DIR = resolve(__dirname, '../../../../../data/sample');

/** AAPL daily bars as in `data/sample/AAPL_1d.csv` (raw: four splits show as price jumps). */
export function sampleBars(symbol = 'AAPL'): BarColumns {
  return readBarsCsv(readFileSync(resolve(SAMPLE_DIR, `${symbol}_1d.csv`), 'utf8'), { timeframe: '1d' }).bars;
}

/** The splits of `data/sample/corporate-actions.json` for one symbol. */
export function sampleActions(symbol = 'AAPL'): CorporateAction[] {
  const doc = JSON.parse(readFileSync(resolve(SAMPLE_DIR, 'corporate-actions.json'), 'utf8')) as {
    actions: CorporateAction[];
  };
  return doc.actions.filter((a) => a.symbol === symbol);
}

/** What the market-data fixture holds: the stores (wrapped by the tracker), the in-process reader and its parts. */
export interface MarketDataFixture {
  db: DuckDb;
  bus: InProcessEventBus;
  tracker: SeriesChangeTracker;
  bars: BarsRepository;
  features: FeatureStore;
  flags: BarQualityFlagsStore;
  marketData: MarketDataService;
  reader: InProcessMarketDataReader;
  /** The planted flags' bar times: two unresolved (`open`, `acknowledged`) and one `resolved`. */
  flagged: { open: number; acknowledged: number; resolved: number };
  close(): Promise<void>;
}

/**
 * A marketdata service's data on an in-memory DuckDB, from the bundled files: AAPL daily bars (5,849 raw bars) with
 * its four recorded splits, the `core` v1 features materialised over total-adjusted bars, and three quality flags.
 * Every store is wrapped by one {@link SeriesChangeTracker}, as the marketdata app wires them.
 */
export async function openMarketDataFixture(): Promise<MarketDataFixture> {
  Logger.overrideLogger(false);
  const db = await DuckDb.create(DUCKDB_MEMORY);
  const bus = new InProcessEventBus({ service: 'fixture' });
  const tracker = new SeriesChangeTracker();
  const bars = tracker.trackBars(new DuckDbBarsRepository(db));
  const actions = tracker.trackCorporateActions(new DuckDbCorporateActionsRepository(db));
  const features = tracker.trackFeatureStore(new DuckDbFeatureStore(db));
  const flags = tracker.trackQualityFlags(new DuckDbBarQualityFlagsStore(db));
  const marketData = new MarketDataService(bars, actions, bus);
  const reader = new InProcessMarketDataReader({ marketData, features, qualityFlags: flags });
  const aapl = sampleBars('AAPL');
  await bars.commit({ ingestionId: 'fixture-aapl', symbol: 'AAPL', timeframe: '1d', bars: aapl });
  await bars.commit({ ingestionId: 'fixture-spy', symbol: 'SPY', timeframe: '1d', bars: sampleBars('SPY') });
  await marketData.recordCorporateActions(sampleActions('AAPL'));
  const refresh = new FeatureRefreshService(reader, features, [CORE_V1], bus);
  await refresh.registerAll();
  await refresh.refreshSeries('AAPL', '1d', { reason: 'backfill' });
  const flagged = { open: aapl.ts[4000], acknowledged: aapl.ts[4100], resolved: aapl.ts[4200] };
  await flags.upsert([
    flag(flagged.open, 'bad_tick', 'ev-open', 'HIGH', 'open'),
    flag(flagged.acknowledged, 'spike', 'ev-ack', 'MEDIUM', 'acknowledged'),
    flag(flagged.resolved, 'gap', 'ev-resolved', 'LOW', 'resolved'),
  ]);
  return {
    db,
    bus,
    tracker,
    bars,
    features,
    flags,
    marketData,
    reader,
    flagged,
    close: async () => {
      await bus.close();
      await db.close();
    },
  };
}

function flag(
  ts: number,
  kind: 'bad_tick' | 'spike' | 'gap',
  eventId: string,
  severity: 'LOW' | 'MEDIUM' | 'HIGH',
  status: 'open' | 'acknowledged' | 'resolved',
) {
  return { symbol: 'AAPL', timeframe: '1d' as const, ts, kind, eventId, severity, status };
}
