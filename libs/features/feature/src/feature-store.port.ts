import { Adjustment, Timeframe } from '@strata/marketdata-contracts';
import { FeatureSetSummary, FeatureSetVersion } from '@strata/features-contracts';
import { SeriesWindow } from '@strata/marketdata-domain';

/** A feature-set version to register: its immutable definition. */
export interface FeatureSetRegistration {
  name: string;
  version: number;
  codeVersion: string;
  /** Bars the values are computed from. */
  adjust: Adjustment;
  warmUpBars: number;
  /** Feature columns in stable order; names are SQL identifiers (`^[a-z][a-z0-9_]*$`). */
  features: readonly { name: string; description: string; params: Readonly<Record<string, number | string>>; lookback: number }[];
}

/** Lineage of one materialisation: what was computed from what, when. Times are epoch ms UTC. */
export interface MaterialisationLineage {
  /** SHA-256 of the (adjusted) input bars, `barsContentHash` of `@strata/marketdata-domain`. */
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

/** Feature values of one series as columns: `ts` (bar start, epoch ms UTC) and one Float64Array per feature (NaN = NULL). */
export interface FeatureColumns {
  ts: Float64Array;
  columns: Record<string, Float64Array>;
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
 */
export interface FeatureStore {
  register(def: FeatureSetRegistration): Promise<FeatureSetVersion>;
  listSets(): Promise<FeatureSetSummary[]>;
  listVersions(name: string): Promise<FeatureSetVersion[]>;
  getVersion(name: string, version: number): Promise<FeatureSetVersion | undefined>;
  writeTail(req: {
    set: string;
    version: number;
    symbol: string;
    timeframe: Timeframe;
    fromTs: number;
    values: FeatureColumns;
    lineage: MaterialisationLineage;
  }): Promise<MaterialisationRecord>;
  read(req: SeriesWindow & { set: string; version: number }): Promise<FeatureColumns>;
  asOf(req: { set: string; version: number; symbol: string; timeframe: Timeframe; eventTimes: Float64Array }): Promise<FeatureColumns>;
  lastMaterialisation(set: string, version: number, symbol: string, timeframe: Timeframe): Promise<MaterialisationRecord | undefined>;
  listMaterialisations(req: { set: string; version: number; symbol?: string; timeframe?: Timeframe; limit: number }): Promise<MaterialisationRecord[]>;
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
