import type { BarQualityFlagsStore } from '@strata/dataquality-contracts';
import type {
  FeatureColumns,
  FeatureSetRegistration,
  FeatureStore,
  MaterialisationRecord,
  WriteTailRequest,
} from '@strata/features-contracts';
import {
  MarketDataNotFoundError,
  type BarColumns,
  type BarCorrection,
  type BarsCommitOutcome,
  type BarsRepository,
  type SymbolSeries,
  SetQualityFlagStatusCommandV1,
  UpsertQualityFlagsCommandV1,
  type BarQualityFlag,
  type DataQualityStatus,
  type FeatureSetVersion,
  type MarketDataReader,
  type SeriesWindow,
  type Timeframe,
} from '@strata/marketdata-contracts';
import type { EventBus } from '@strata/platform-contracts';

/** Why a read-only feature store refuses a write. */
export const FEATURE_TABLES_OWNED = 'feature tables are owned by the marketdata service';

/**
 * A read-only `FeatureStore` over a {@link MarketDataReader} (the bus adapter), so the features module (training
 * datasets, as-of joins, `GET /features` of signals) runs unchanged in processes that do not own the DuckDB file.
 * Writes (`register`, `writeTail`) reject with {@link FEATURE_TABLES_OWNED}; materialisation lineage is served by the
 * marketdata service only.
 */
export class ReadOnlyFeatureStore implements FeatureStore {
  constructor(private readonly reader: MarketDataReader) {}

  /** Refused: {@link FEATURE_TABLES_OWNED}. */
  register(_def: FeatureSetRegistration): Promise<FeatureSetVersion> {
    return Promise.reject(new Error(FEATURE_TABLES_OWNED));
  }

  /** Refused: {@link FEATURE_TABLES_OWNED}. */
  writeTail(_req: WriteTailRequest): Promise<MaterialisationRecord> {
    return Promise.reject(new Error(FEATURE_TABLES_OWNED));
  }

  /** Registered sets with their versions. */
  async listSets(): Promise<{ name: string; versions: number[]; latestVersion: number }[]> {
    const byName = new Map<string, number[]>();
    for (const v of await this.reader.listFeatureSetVersions())
      byName.set(v.name, [...(byName.get(v.name) ?? []), v.version]);
    return [...byName].map(([name, versions]) => ({ name, versions, latestVersion: Math.max(...versions) }));
  }

  /** Versions of a set, ascending (empty when unknown). */
  listVersions(name: string): Promise<FeatureSetVersion[]> {
    return this.reader.listFeatureSetVersions(name);
  }

  /** One version, or undefined. */
  async getVersion(name: string, version: number): Promise<FeatureSetVersion | undefined> {
    return (await this.reader.listFeatureSetVersions(name)).find((v) => v.version === version);
  }

  /** Stored values of a window (ascending; NaN = NULL); an unknown series reads as empty, as the DuckDB store does. */
  async read(req: SeriesWindow & { set: string; version: number }): Promise<FeatureColumns> {
    try {
      const w = await this.reader.getFeatures(req);
      return { ts: w.ts, columns: w.columns };
    } catch (e) {
      if (e instanceof MarketDataNotFoundError && (await this.getVersion(req.set, req.version)))
        return { ts: new Float64Array(0), columns: {} };
      throw e;
    }
  }

  /** As-of join to event times (no value of a bar still open at the event time). */
  async asOf(req: {
    set: string;
    version: number;
    symbol: string;
    timeframe: Timeframe;
    eventTimes: Float64Array;
  }): Promise<FeatureColumns> {
    const w = await this.reader.getFeatures({ ...req, asOf: req.eventTimes });
    return { ts: w.ts, columns: w.columns };
  }

  /** Not served over the bus: lineage is read from the marketdata service (`GET /features/lineage`). */
  lastMaterialisation(): Promise<MaterialisationRecord | undefined> {
    return Promise.reject(new Error('materialisation lineage is served by the marketdata service'));
  }

  /** Not served over the bus: lineage is read from the marketdata service (`GET /features/lineage`). */
  listMaterialisations(): Promise<MaterialisationRecord[]> {
    return Promise.reject(new Error('materialisation lineage is served by the marketdata service'));
  }
}

/**
 * The `BarQualityFlagsStore` of processes that do not own the DuckDB file (the sentinel, backtests, signals): reads
 * go through the {@link MarketDataReader}, writes are commands to the marketdata service
 * (`marketdata.cmd.quality-flags.upsert.v1` / `.set-status.v1`, durable work queue, idempotent), which applies them to
 * its `DuckDbBarQualityFlagsStore`. Writes resolve once the bus has accepted the command (applied shortly after);
 * `setStatus` therefore answers 0 (the count is not known to the sender).
 */
export class BusBarQualityFlagsStore implements BarQualityFlagsStore {
  constructor(
    private readonly reader: MarketDataReader,
    private readonly bus: EventBus,
    /** Flags per command (default 5 000: well under the inline limit). */
    private readonly batch = 5_000,
  ) {}

  /** Sends the flags to the marketdata service (in batches). */
  async upsert(flags: readonly BarQualityFlag[]): Promise<void> {
    for (let i = 0; i < flags.length; i += this.batch)
      await this.bus.publish(UpsertQualityFlagsCommandV1, { flags: flags.slice(i, i + this.batch) });
  }

  /** Sends the status change to the marketdata service; answers 0 (applied asynchronously). */
  async setStatus(eventId: string, status: DataQualityStatus): Promise<number> {
    await this.bus.publish(SetQualityFlagStatusCommandV1, { eventId, status });
    return 0;
  }

  /** Flags of one series (ascending); an unknown series has none. */
  async read(req: {
    symbol: string;
    timeframe: Timeframe;
    from?: number;
    to?: number;
    statuses?: readonly DataQualityStatus[];
  }): Promise<BarQualityFlag[]> {
    try {
      return await this.reader.getQualityFlags(req);
    } catch (e) {
      if (e instanceof MarketDataNotFoundError) return [];
      throw e;
    }
  }
}

/** Why a read-only bars repository refuses a write. */
export const BARS_OWNED = 'bars are written by the marketdata service only';

/**
 * The `BarsRepository` shape over a {@link MarketDataReader}, for modules of other processes that read raw bars
 * through it (the sentinel's scoring): `read` is a raw window (an unknown series reads as empty, like the DuckDB
 * repository), `listSeries` and `listCorrections` go over the bus; `commit` rejects with {@link BARS_OWNED};
 * `count` and `lastClosesBefore` are served by the marketdata service only.
 */
export class ReadOnlyBarsRepository implements BarsRepository {
  constructor(private readonly reader: MarketDataReader) {}

  /** Raw bars of a window, ascending. */
  async read(req: SeriesWindow): Promise<BarColumns> {
    try {
      return (await this.reader.getBars({ ...req, adjust: 'raw' })).bars;
    } catch (e) {
      if (!(e instanceof MarketDataNotFoundError)) throw e;
      const z = () => new Float64Array(0);
      return { length: 0, ts: z(), open: z(), high: z(), low: z(), close: z(), volume: z(), adjClose: null };
    }
  }

  /** Stored series, paged. */
  listSeries(opts: Parameters<BarsRepository['listSeries']>[0]): Promise<SymbolSeries[]> {
    return this.reader.listSeries(opts);
  }

  /** Correction audits of a series, newest first. */
  listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]> {
    return this.reader.listCorrections(opts);
  }

  /** Refused: {@link BARS_OWNED}. */
  commit(): Promise<BarsCommitOutcome> {
    return Promise.reject(new Error(BARS_OWNED));
  }

  /** Not served over the bus. */
  count(): Promise<number> {
    return Promise.reject(new Error('bar counts are served by the marketdata service only'));
  }

  /** Not served over the bus. */
  lastClosesBefore(): Promise<Float64Array> {
    return Promise.reject(new Error('lastClosesBefore is served by the marketdata service only'));
  }
}
