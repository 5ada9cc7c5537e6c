import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { BarQualityFlagsStore } from '@strata/dataquality-contracts';
import type { FeatureStore } from '@strata/features-contracts';
import {
  MARKET_DATA_READER,
  MarketDataNotFoundError,
  type BarCorrection,
  type BarQualityFlag,
  type BarsRequest,
  type BarsWindow,
  type FeatureSetVersion,
  type FeaturesRequest,
  type FeaturesWindow,
  type MarketDataReader,
  type QualityFlagsRequest,
  type SymbolSeries,
  type Timeframe,
} from '@strata/marketdata-contracts';
import type { MarketDataService } from './market-data.service';

/** Statuses `qualityFilter: 'exclude'` leaves out (the same list as dataquality-contracts' `UNRESOLVED_FLAG_STATUSES`). */
const UNRESOLVED = ['open', 'acknowledged'] as const;

/** What {@link InProcessMarketDataReader} composes: the market-data service and the stores next to the bars. */
export interface InProcessMarketDataReaderStores {
  /** Bars and series (the `MarketDataService` of the process, or anything with its two read methods). */
  marketData: Pick<MarketDataService, 'getBars' | 'listSeries' | 'listCorrections'>;
  /** Feature tables (`DuckDbFeatureStore`); without it feature reads reject. */
  features?: FeatureStore;
  /** Bar-quality flags (`DuckDbBarQualityFlagsStore`); without it flag reads and `qualityFilter: 'exclude'` reject. */
  qualityFlags?: BarQualityFlagsStore;
}

/**
 * The in-process adapter of the {@link MarketDataReader} port, used where the data lives (the all-in-one platform
 * and the marketdata process, whose bus responder answers through it): bars from `MarketDataService`, feature windows
 * from the feature store (latest version when absent, as-of joins, the quality filter), flags from the flags store.
 * A window of an existing series may be empty; an unknown series, set or version rejects with
 * {@link MarketDataNotFoundError}.
 */
export class InProcessMarketDataReader implements MarketDataReader {
  constructor(private readonly stores: InProcessMarketDataReaderStores) {}

  /** Bars of one series, adjusted as asked (default `total`). */
  async getBars(req: BarsRequest): Promise<BarsWindow> {
    const out = await this.stores.marketData.getBars(req);
    if (out.bars.length === 0) await this.requireSeries(req.symbol, req.timeframe);
    return out;
  }

  /** Feature values of one set version over a window, or as of event times (see {@link FeaturesRequest}). */
  async getFeatures(req: FeaturesRequest): Promise<FeaturesWindow> {
    const store = this.stores.features;
    if (!store) throw new Error('feature reads need the feature store (InProcessMarketDataReader features)');
    if (req.asOf && req.qualityFilter === 'exclude')
      throw new RangeError('qualityFilter "exclude" applies to windows, not to asOf reads');
    const definition = await this.resolveVersion(store, req.set, req.version);
    if (req.asOf) {
      await this.requireSeries(req.symbol, req.timeframe);
      const v = await store.asOf({
        set: req.set,
        version: definition.version,
        symbol: req.symbol,
        timeframe: req.timeframe,
        eventTimes: req.asOf,
      });
      return { ts: v.ts, columns: v.columns, definition };
    }
    const values = await store.read({
      set: req.set,
      version: definition.version,
      symbol: req.symbol,
      timeframe: req.timeframe,
      from: req.from,
      to: req.to,
      after: req.after,
      limit: req.limit,
    });
    if (values.ts.length === 0) {
      await this.requireSeries(req.symbol, req.timeframe);
      return { ...values, definition };
    }
    if (req.qualityFilter !== 'exclude') return { ...values, definition };
    const flags = await this.getQualityFlags({
      symbol: req.symbol,
      timeframe: req.timeframe,
      from: values.ts[0],
      to: values.ts[values.ts.length - 1],
      statuses: UNRESOLVED,
    });
    return { ...dropFlagged(values.ts, values.columns, flags), definition };
  }

  /** Registered feature-set versions (of one set when `name` is given), by name and version. */
  async listFeatureSetVersions(name?: string): Promise<FeatureSetVersion[]> {
    const store = this.stores.features;
    if (!store) throw new Error('feature reads need the feature store (InProcessMarketDataReader features)');
    const names = name !== undefined ? [name] : (await store.listSets()).map((s) => s.name);
    const out: FeatureSetVersion[] = [];
    for (const n of names.sort()) out.push(...(await store.listVersions(n)).sort((a, b) => a.version - b.version));
    return out;
  }

  /** Flags of one series, ascending by `ts`. */
  async getQualityFlags(req: QualityFlagsRequest): Promise<BarQualityFlag[]> {
    const store = this.stores.qualityFlags;
    if (!store) throw new Error('flag reads need the bar-quality flags store (InProcessMarketDataReader qualityFlags)');
    const flags = await store.read(req);
    if (flags.length === 0) await this.requireSeries(req.symbol, req.timeframe);
    return flags;
  }

  /** Correction audit records of one series, newest first. */
  listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]> {
    return this.stores.marketData.listCorrections(opts);
  }

  /** Stored series, paged by (symbol, timeframe). */
  listSeries(opts: {
    after?: { symbol: string; timeframe: string };
    limit: number;
    symbol?: string;
  }): Promise<SymbolSeries[]> {
    return this.stores.marketData.listSeries(opts);
  }

  private async resolveVersion(store: FeatureStore, set: string, version?: number): Promise<FeatureSetVersion> {
    if (version === undefined) {
      const all = await store.listVersions(set);
      if (!all.length) throw new MarketDataNotFoundError(`no feature set named ${set}`);
      return all[all.length - 1];
    }
    const v = await store.getVersion(set, version);
    if (!v) throw new MarketDataNotFoundError(`feature set ${set} has no version ${version}`);
    return v;
  }

  private async requireSeries(symbol: string, timeframe: Timeframe): Promise<void> {
    const series = await this.stores.marketData.listSeries({ symbol, limit: 16 });
    if (!series.some((s) => s.timeframe === timeframe))
      throw new MarketDataNotFoundError(`no stored series ${symbol} ${timeframe}`);
  }
}

/** Rows of `ts` / `columns` whose bar carries none of `flags` (both ascending by time). */
function dropFlagged(
  ts: Float64Array,
  columns: Record<string, Float64Array>,
  flags: readonly Pick<BarQualityFlag, 'ts'>[],
): { ts: Float64Array; columns: Record<string, Float64Array> } {
  const times = Float64Array.from(flags, (f) => f.ts).sort();
  const keep = new Uint8Array(ts.length);
  let kept = 0;
  for (let i = 0, j = 0; i < ts.length; i++) {
    while (j < times.length && times[j] < ts[i]) j++;
    if (j < times.length && times[j] === ts[i]) continue;
    keep[i] = 1;
    kept++;
  }
  const pick = (col: Float64Array): Float64Array => {
    const out = new Float64Array(kept);
    for (let i = 0, k = 0; i < col.length; i++) if (keep[i]) out[k++] = col[i];
    return out;
  };
  const out: Record<string, Float64Array> = {};
  for (const name in columns) out[name] = pick(columns[name]);
  return { ts: pick(ts), columns: out };
}

/**
 * Provides a {@link MarketDataReader} under `MARKET_DATA_READER`, globally: processes that do not own the data
 * register it with the bus adapter (`NatsMarketDataReader` of `@strata/marketdata-infra-nats`), so the feature,
 * backtest and sentinel modules inject the port unchanged. (The marketdata process and the all-in-one get the
 * in-process adapter from `MarketDataModule`.)
 */
@Global()
@Module({})
export class MarketDataReaderModule {
  static register(reader: MarketDataReader): DynamicModule {
    return {
      module: MarketDataReaderModule,
      providers: [{ provide: MARKET_DATA_READER, useValue: reader }],
      exports: [MARKET_DATA_READER],
    };
  }
}
