import type { Timeframe } from './marketdata.contracts';
import type { Adjustment, BarCorrection, CorporateAction, SymbolSeries } from './market-data-api.contracts';
import type {
  BarQualityFlag,
  DataQualityStatus,
  FeatureColumns,
  FeatureSetVersion,
  QualityFilter,
} from './market-data-reads.contracts';

/**
 * One series of OHLCV bars as columns: one typed array per field, all of one length, rows strictly increasing in `ts`.
 * Times are bar start times in epoch milliseconds UTC (daily bars: 00:00 UTC of the trading date); prices in quote
 * currency (raw or adjusted: the type that extends or the function that takes it says which); volume in units traded
 * (shares, coins, contracts). The shape every domain lib (sentinel, backtest, synthetic) reads bars in.
 */
export interface OhlcvSeries {
  /** Bar start time, epoch ms UTC. */
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/**
 * A window of one (symbol, timeframe) series, as read from a store of bars or of values computed from bars.
 * Times in epoch ms UTC: `from` / `to` inclusive, `after` exclusive (the cursor of a page); `limit` caps the rows
 * returned (ascending `ts`). Absent bounds mean unbounded.
 */
export interface SeriesWindow {
  symbol: string;
  timeframe: Timeframe;
  from?: number;
  to?: number;
  after?: number;
  limit?: number;
}

/**
 * A batch of OHLCV bars in columnar form, all columns of length `length`. Prices are in currency units exactly as
 * given by the source (no adjustment).
 */
export interface BarColumns extends OhlcvSeries {
  /** Number of bars. */
  length: number;
  /** Split- and dividend-adjusted close when the source has an `adj_close` column, otherwise null. */
  adjClose: Float64Array | null;
}

/** A validated batch of one series to commit. `bars.ts` strictly increasing, epoch ms UTC. */
export interface BarsCommitRequest {
  ingestionId: string;
  symbol: string;
  timeframe: Timeframe;
  bars: BarColumns;
}

/** What a commit changed. Times are epoch ms UTC. */
export interface BarsCommitOutcome {
  /** Bars new to the store. */
  inserted: number;
  /** Stored bars replaced by different values (each with an audit record). */
  updated: number;
  /** Bars identical to the stored ones (not written). */
  unchanged: number;
  /** Earliest / latest inserted or updated bar; null when nothing changed. */
  changedFrom: number | null;
  changedTo: number | null;
  /** Earliest / latest corrected bar; null when nothing was corrected. */
  correctedFrom: number | null;
  correctedTo: number | null;
}

/**
 * Port: storage of raw OHLCV bars keyed by (symbol, timeframe, ts UTC). Guarantees every adapter keeps:
 * - at most one bar per key; bars are stored exactly as committed (never adjusted);
 * - `commit` is atomic and idempotent: committing identical bars again changes nothing (`unchanged` = all);
 * - a bar committed with other values replaces the stored one, and the old and new values are kept as a
 *   {@link BarCorrection} audit record naming both ingestions;
 * - `read` returns bars in ascending time.
 * The DuckDB adapter is `DuckDbBarsRepository` (`@strata/marketdata-infra-duckdb`).
 */
export interface BarsRepository {
  commit(req: BarsCommitRequest): Promise<BarsCommitOutcome>;
  read(req: SeriesWindow): Promise<BarColumns>;
  /** Number of stored bars over all series. */
  count(): Promise<number>;
  /** Stored series ordered by symbol, then timeframe, after the `after` key (exclusive). */
  listSeries(opts: {
    after?: { symbol: string; timeframe: string };
    limit: number;
    symbol?: string;
  }): Promise<SymbolSeries[]>;
  /** Audit records of a series' corrections, newest first. */
  listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]>;
  /** For each instant, the raw close of the series' last bar strictly before it (NaN when none). */
  lastClosesBefore(symbol: string, timeframe: Timeframe, instants: readonly number[]): Promise<Float64Array>;
}

/** Injection token of {@link BarsRepository}. */
export const BARS_REPOSITORY = Symbol('BARS_REPOSITORY');

/** Outcome of {@link CorporateActionsRepository.upsert}. */
export interface CorporateActionsUpsert {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Actions inserted or changed, in input order. */
  changed: CorporateAction[];
}

/**
 * Port: splits and dividends keyed by (symbol, kind, exDate). Recording an identical action is a no-op; other
 * values for an existing key replace it. The DuckDB adapter is `DuckDbCorporateActionsRepository`.
 */
export interface CorporateActionsRepository {
  upsert(actions: readonly CorporateAction[]): Promise<CorporateActionsUpsert>;
  /** A symbol's actions ordered by ex-date. */
  list(symbol: string): Promise<CorporateAction[]>;
}

/** Injection token of {@link CorporateActionsRepository}. */
export const CORPORATE_ACTIONS_REPOSITORY = Symbol('CORPORATE_ACTIONS_REPOSITORY');

/**
 * One adjustment step: every bar starting before `exTs` has its prices divided by `priceDivisor` and its volume
 * multiplied by `volumeMultiplier`.
 */
export interface AdjustmentStep {
  /** Ex-date instant, epoch ms UTC. */
  exTs: number;
  /** Divides prices of earlier bars (split ratio for a split; 1 / (1 − d/P) for a dividend). */
  priceDivisor: number;
  /** Multiplies volume of earlier bars (split ratio for a split; 1 for a dividend). */
  volumeMultiplier: number;
}

/** What {@link MarketDataReader.getBars} reads: a window of one series, and which adjustment to apply. */
export interface BarsRequest extends SeriesWindow {
  /**
   * Default `total`: programmatic consumers (features, backtests) get split- and dividend-adjusted bars unless they
   * ask otherwise. (The REST query defaults to `raw`.) See `AdjustmentSchema` for the formulas.
   */
  adjust?: Adjustment;
}

/** The adjustment applied to a read, for clients and lineage. */
export interface AppliedAdjustment {
  adjust: Adjustment;
  /** Actions taken into account (sorted by ex-date). */
  actions: CorporateAction[];
  /** Dividends that could not be applied (no earlier bar, or amount ≥ previous close). */
  skipped: CorporateAction[];
  /** The factors applied (empty for `raw`). */
  steps: AdjustmentStep[];
}

/** A window of bars as read, with the adjustment applied to it. */
export interface BarsWindow {
  bars: BarColumns;
  adjustment: AppliedAdjustment;
}

/**
 * What {@link MarketDataReader.getFeatures} reads: a window of one feature-set version (the latest registered when
 * `version` is absent), or, with `asOf`, the values as of arbitrary event times.
 */
export interface FeaturesRequest extends SeriesWindow {
  set: string;
  version?: number;
  /**
   * Event times (epoch ms UTC): for each, the values of the latest bar that had CLOSED by then (bar start + timeframe
   * length ≤ event time), as the FeatureStore port's `asOf` defines it; `ts` is then the start of that bar (NaN where
   * none had closed). Excludes `from` / `to` / `after` / `limit` and `qualityFilter: 'exclude'`.
   */
  asOf?: Float64Array;
  /** `exclude` leaves out rows of bars with an unresolved quality flag (a page may then hold fewer than `limit`). */
  qualityFilter?: QualityFilter;
}

/** Feature values of one set version and the definition they were read with. */
export interface FeaturesWindow extends FeatureColumns {
  definition: FeatureSetVersion;
}

/** What {@link MarketDataReader.getQualityFlags} reads: flags of one series in `[from, to]` (inclusive), by status. */
export interface QualityFlagsRequest {
  symbol: string;
  timeframe: Timeframe;
  from?: number;
  to?: number;
  statuses?: readonly DataQualityStatus[];
}

/**
 * Port: what other capabilities read of market data (features, backtests, signals training, the sentinel): bar
 * windows (any adjustment), feature windows of a set version (with as-of joins and the quality filter), the
 * bar-quality flags of a window, the correction audits and the stored series. The marketdata service owns the data. Guarantees every
 * adapter keeps (one conformance suite, `@strata/marketdata-contracts/testing`):
 * - reads are in ascending time (as-of reads: in event-time order); NaN stands for NULL feature values;
 * - adjustment factors take every recorded action of the symbol into account wherever the window lies, so pages of
 *   one query fit together;
 * - a series, feature set or version that does not exist rejects with {@link MarketDataNotFoundError}; a window of
 *   an existing series that holds nothing is empty, not an error.
 * Adapters: `InProcessMarketDataReader` (`@strata/marketdata-feature`, the all-in-one and the marketdata process) and
 * `NatsMarketDataReader` (`@strata/marketdata-infra-nats`: request/reply, Arrow IPC, Object Store snapshots).
 */
export interface MarketDataReader {
  /**
   * Bars of one series in ascending time, adjusted as asked. Adjustment factors always take every recorded action of
   * the symbol into account, wherever the requested window lies, so pages of one query fit together.
   */
  getBars(req: BarsRequest): Promise<BarsWindow>;
  /** Feature values of one set version (latest when `version` is absent), over a window or as of event times. */
  getFeatures(req: FeaturesRequest): Promise<FeaturesWindow>;
  /** Registered feature-set versions (of one set when `name` is given; none when it is unknown), by name and version. */
  listFeatureSetVersions(name?: string): Promise<FeatureSetVersion[]>;
  /** Bar-quality flags of one series, ascending by `ts`. */
  getQualityFlags(req: QualityFlagsRequest): Promise<BarQualityFlag[]>;
  /** Correction audit records of one series, newest first (empty for a series never corrected). */
  listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]>;
  /** Stored series, paged by (symbol, timeframe). */
  listSeries(opts: {
    after?: { symbol: string; timeframe: string };
    limit: number;
    symbol?: string;
  }): Promise<SymbolSeries[]>;
}

/** Injection token of {@link MarketDataReader}. */
export const MARKET_DATA_READER = Symbol('MARKET_DATA_READER');
