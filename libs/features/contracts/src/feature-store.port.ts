import type { Adjustment, FeatureColumns, SeriesWindow, Timeframe } from '@strata/marketdata-contracts';

export type { FeatureColumns } from '@strata/marketdata-contracts';
import type { FeatureSetSummary, FeatureSetVersion, QualityFilter } from './features.contracts';

/** A feature-set version to register: its immutable definition. */
export interface FeatureSetRegistration {
  name: string;
  version: number;
  codeVersion: string;
  /** Bars the values are computed from. */
  adjust: Adjustment;
  warmUpBars: number;
  /** Feature columns in stable order; names are SQL identifiers (`^[a-z][a-z0-9_]*$`). */
  features: readonly {
    name: string;
    description: string;
    params: Readonly<Record<string, number | string>>;
    lookback: number;
  }[];
}

/** Lineage of one materialisation: what was computed from what, when. Times are epoch ms UTC. */
export interface MaterialisationLineage {
  /** SHA-256 of the (adjusted) input bars, `barsContentHash` of `@strata/shared-timeseries`. */
  barsContentHash: string;
  /** Number of input bars (the whole history the values depend on). */
  barsCount: number;
  /** Fingerprint of the adjustment applied to the input (actions and factors). */
  adjustmentHash: string;
  /** Trading calendar used for annualisation. */
  calendar: string;
  reason: 'bars_ingested' | 'bars_corrected' | 'corporate_actions' | 'backfill';
}

/** A stored materialisation record. */
export interface MaterialisationRecord extends MaterialisationLineage {
  id: string;
  set: string;
  version: number;
  codeVersion: string;
  symbol: string;
  timeframe: Timeframe;
  /** First and last bar written, epoch ms UTC. */
  fromTs: number;
  toTs: number;
  rows: number;
  /** When it was written, epoch ms UTC. */
  createdAt: number;
}

/**
 * Port: the feature store. Guarantees every adapter keeps:
 * - a registered version is immutable: registering the same (name, version) with another definition fails with
 *   {@link FeatureSetConflictError}; registering an identical one is a no-op; new versions never touch old ones;
 * - values are kept per (set, version, symbol, timeframe, ts); `writeTail` atomically replaces every value from
 *   `fromTs` on and records the lineage;
 * - reads are in ascending time; NULL (warm-up, undefined) reads as NaN;
 * - `asOf` attaches to each event time the features of the latest bar that had CLOSED by then (bar start +
 *   timeframe length ≤ event time): no value from a bar still open at the event time leaks in.
 * The DuckDB adapter is `DuckDbFeatureStore` (`@strata/features-infra-duckdb`).
 */
export interface FeatureStore {
  register(def: FeatureSetRegistration): Promise<FeatureSetVersion>;
  listSets(): Promise<FeatureSetSummary[]>;
  listVersions(name: string): Promise<FeatureSetVersion[]>;
  getVersion(name: string, version: number): Promise<FeatureSetVersion | undefined>;
  writeTail(req: WriteTailRequest): Promise<MaterialisationRecord>;
  read(req: SeriesWindow & { set: string; version: number }): Promise<FeatureColumns>;
  asOf(req: {
    set: string;
    version: number;
    symbol: string;
    timeframe: Timeframe;
    eventTimes: Float64Array;
  }): Promise<FeatureColumns>;
  lastMaterialisation(
    set: string,
    version: number,
    symbol: string,
    timeframe: Timeframe,
  ): Promise<MaterialisationRecord | undefined>;
  listMaterialisations(req: {
    set: string;
    version: number;
    symbol?: string;
    timeframe?: Timeframe;
    limit: number;
  }): Promise<MaterialisationRecord[]>;
}

/** Thrown when a (name, version) is registered again with a different definition. */
export class FeatureSetConflictError extends Error {
  constructor(
    readonly setName: string,
    readonly version: number,
  ) {
    super(`feature set ${setName} v${version} is registered with another definition; register a new version instead`);
    this.name = 'FeatureSetConflictError';
  }
}

/** Injection token of {@link FeatureStore}. */
export const FEATURE_STORE = Symbol('FEATURE_STORE');

/** A time segment `[from, to)` (epoch ms UTC, bar start times) with a name. Segments must not overlap. */
export interface DatasetSegment {
  name: string;
  from: number;
  to: number;
}

/** Options of a training dataset (`buildTrainingDataset` of `@strata/features-feature`). */
export interface TrainingDatasetOptions {
  /** Label horizon in bars: `y[t] = close[t + horizon] / close[t] − 1` (a fraction). ≥ 1. */
  horizon: number;
  /**
   * Dead zone, a fraction ≥ 0: `direction` is +1 when y > deadZone, −1 when y < −deadZone, else 0. Default 0.
   */
  deadZone?: number;
  /**
   * Names of the segments whose dead-zone rows are left out: the TRAINING segments of a binary classifier (fitting on
   * clear moves only). Every other segment keeps its dead-zone rows (direction 0): a test fold that left them out
   * would keep rows by their realised return, i.e. select its rows on the outcome it is scoring. Default: none.
   */
  dropDeadZoneFrom?: readonly string[];
  /**
   * Purge, in bars (default = `horizon`): a row of the earlier segment at a boundary is dropped when its label
   * window `[t, t + purge]` reaches the first bar of the later segment.
   */
  purge?: number;
  /** Embargo, in bars (default 0): the first `embargo` bars of the later segment at each boundary are dropped. */
  embargo?: number;
  /**
   * Bars to leave out (1 = flagged by the data-quality sentinel, aligned with `ts`; see `qualityFilter`): a row is
   * dropped when its own bar or the bar its label ends on (t + horizon) is flagged, since either would put a bad
   * price into the features or the label. Counted in `dropped.qualityFlagged`.
   */
  excludeBars?: Uint8Array;
}

/** One segment's rows. `index` are bar indices into the input. */
export interface DatasetPart {
  name: string;
  index: Int32Array;
  ts: Float64Array;
  /** Feature columns, aligned with `index`. */
  X: Record<string, Float64Array>;
  /** Forward return over `horizon` bars (fraction). */
  y: Float64Array;
  /** +1, −1 or 0 (inside the dead zone). */
  direction: Int8Array;
}

/** Why rows were left out, counted over all segments. */
export interface DatasetDropCounts {
  /** A feature was NULL (warm-up or undefined). */
  missingFeature: number;
  /** Fewer than `horizon` bars after the row (no label). */
  noLabel: number;
  /** Inside the dead zone, in a segment named in `dropDeadZoneFrom`. */
  deadZone: number;
  /** Label window reaches the next segment. */
  purged: number;
  /** Within `embargo` bars after a boundary. */
  embargoed: number;
  /** In no segment. */
  outsideSegments: number;
  /** The bar or its label bar is flagged (only present when `excludeBars` was given). */
  qualityFlagged?: number;
}

/**
 * A labelled dataset for supervised signals: features at bar t, a forward-return label over `horizon` bars, and
 * chronological segments separated by purge and embargo (López de Prado, Advances in Financial Machine Learning, ch. 7).
 */
export interface TrainingDataset {
  parts: DatasetPart[];
  dropped: DatasetDropCounts;
  featureNames: string[];
  horizon: number;
}

/**
 * Port: the read side of the feature store as other capabilities use it (the signals service trains on datasets and
 * scores stored values). Implemented by the features capability's `FeaturesService` and provided under
 * {@link FEATURE_READER} by its `FeaturesModule`.
 */
export interface FeatureReader {
  /** The given version, or the latest when `version` is undefined; rejects when the set or version is unknown. */
  resolveVersion(name: string, version?: number): Promise<FeatureSetVersion>;
  /**
   * Stored values of one series (ascending), NaN = NULL. `qualityFilter: 'exclude'` leaves out rows of bars with an
   * unresolved data-quality flag (a page may then hold fewer than `limit`).
   */
  read(
    req: SeriesWindow & { set: string; version?: number; qualityFilter?: QualityFilter },
  ): Promise<FeatureColumns & { definition: FeatureSetVersion }>;
  /**
   * A labelled dataset for one series: stored features of the set version plus forward returns of the bars the set
   * was computed from (same adjustment), split into `segments` with purge and embargo.
   */
  buildTrainingDataset(req: TrainingDatasetRequest): Promise<TrainingDataset & { definition: FeatureSetVersion }>;
}

/** Injection token of {@link FeatureReader}. */
export const FEATURE_READER = Symbol('FEATURE_READER');

/** A tail of feature values to store: every value of the series from `fromTs` on is replaced by `values`. */
export interface WriteTailRequest {
  set: string;
  version: number;
  symbol: string;
  timeframe: Timeframe;
  /** First bar time replaced (epoch ms UTC); `values.ts` starts at or after it. */
  fromTs: number;
  values: FeatureColumns;
  lineage: MaterialisationLineage;
}

/** A training dataset to build from stored features: the series, its walk-forward segments and the label options. */
export interface TrainingDatasetRequest {
  set: string;
  /** Feature-set version; the latest when absent. */
  version?: number;
  symbol: string;
  timeframe: Timeframe;
  segments: readonly DatasetSegment[];
  options: TrainingDatasetOptions;
  /** `exclude` leaves out bars with open quality flags. */
  qualityFilter?: QualityFilter;
  /**
   * Build the dataset in a NULL WORLD instead (the leakage guard): the series' bars rebuilt from a seeded permutation
   * of its bar-to-bar moves (`nullWorldBars` of `@strata/shared-indicators`), the set's features recomputed on them by
   * the set's own implementation, labels from the permuted closes, same segments and options. Nothing is predictable
   * there except through look-ahead. Needs the set's implementation in the process (else rejected).
   */
  nullWorld?: { seed: number };
}
