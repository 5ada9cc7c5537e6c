import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  BAR_QUALITY_FLAGS,
  flaggedBarMask,
  UNRESOLVED_FLAG_STATUSES,
  type BarQualityFlagsStore,
} from '@strata/dataquality-contracts';
import {
  FEATURE_STORE,
  type FeatureColumns,
  type FeatureReader,
  type FeatureSetSummary,
  type FeatureSetVersion,
  type FeatureStore,
  type MaterialisationRecord,
  type QualityFilter,
  type TrainingDataset,
  type TrainingDatasetRequest,
} from '@strata/features-contracts';
import {
  MARKET_DATA_READER,
  type MarketDataReader,
  type SeriesWindow,
  type Timeframe,
} from '@strata/marketdata-contracts';
import { nullWorldBars } from '@strata/shared-indicators';
import { DEFAULT_FEATURE_SETS, FEATURE_SETS, type FeatureSetImplementation } from './feature-set.registry';
import { buildTrainingDataset } from './training-dataset.builder';

/** Raised when a feature set or version is not registered. */
export class FeatureSetNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FeatureSetNotFoundError';
  }
}

/**
 * Read side of the feature store: registered sets and versions, point-in-time values of a series, as-of joins to
 * arbitrary event times, lineage, and training datasets for the signals service.
 */
@Injectable()
export class FeaturesService implements FeatureReader {
  constructor(
    @Inject(FEATURE_STORE) private readonly store: FeatureStore,
    @Inject(MARKET_DATA_READER) private readonly marketData: MarketDataReader,
    @Optional() @Inject(BAR_QUALITY_FLAGS) private readonly qualityFlags?: BarQualityFlagsStore,
    /** Implementations of the sets (for null worlds); default {@link DEFAULT_FEATURE_SETS}. */
    @Optional() @Inject(FEATURE_SETS) private readonly sets: readonly FeatureSetImplementation[] = DEFAULT_FEATURE_SETS,
  ) {}

  listSets(): Promise<FeatureSetSummary[]> {
    return this.store.listSets();
  }

  /** Versions of a set; throws {@link FeatureSetNotFoundError} when it has none. */
  async listVersions(name: string): Promise<FeatureSetVersion[]> {
    const v = await this.store.listVersions(name);
    if (!v.length) throw new FeatureSetNotFoundError(`no feature set named ${name}`);
    return v;
  }

  /** The given version, or the latest when `version` is undefined; throws {@link FeatureSetNotFoundError}. */
  async resolveVersion(name: string, version?: number): Promise<FeatureSetVersion> {
    if (version === undefined) {
      const all = await this.listVersions(name);
      return all[all.length - 1];
    }
    const v = await this.store.getVersion(name, version);
    if (!v) throw new FeatureSetNotFoundError(`feature set ${name} has no version ${version}`);
    return v;
  }

  /** Stored values of one series (ascending), NaN = NULL. */
  async read(
    req: SeriesWindow & {
      set: string;
      version?: number;
      /** `exclude`: leave out rows of bars with an unresolved data-quality flag (a page may then hold fewer than `limit`). */
      qualityFilter?: QualityFilter;
    },
  ): Promise<FeatureColumns & { definition: FeatureSetVersion }> {
    const definition = await this.resolveVersion(req.set, req.version);
    const values = await this.store.read({
      set: req.set,
      version: definition.version,
      symbol: req.symbol,
      timeframe: req.timeframe,
      from: req.from,
      to: req.to,
      after: req.after,
      limit: req.limit,
    });
    if (req.qualityFilter !== 'exclude' || values.ts.length === 0) return { ...values, definition };
    const mask = flaggedBarMask(
      values.ts,
      await this.unresolvedFlags(req.symbol, req.timeframe, values.ts[0], values.ts[values.ts.length - 1]),
    );
    let kept = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0) kept++;
    const pick = (col: Float64Array) => {
      const out = new Float64Array(kept);
      for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] === 0) out[j++] = col[i];
      return out;
    };
    const columns: Record<string, Float64Array> = {};
    for (const [name, col] of Object.entries(values.columns)) columns[name] = pick(col);
    return { ts: pick(values.ts), columns, definition };
  }

  /** Unresolved bar-quality flags of a series in `[from, to]`; refuses when no flags store is configured. */
  private async unresolvedFlags(symbol: string, timeframe: Timeframe, from?: number, to?: number) {
    if (!this.qualityFlags)
      throw new Error(
        'qualityFilter "exclude" needs the bar-quality flags store (FeaturesModule.register({ qualityFlags }))',
      );
    return this.qualityFlags.read({ symbol, timeframe, from, to, statuses: UNRESOLVED_FLAG_STATUSES });
  }

  /**
   * Features as of arbitrary event times (epoch ms UTC): for each, the values of the latest bar that had closed by
   * then (bar start + bar length ≤ event time). `ts` is NaN where no bar had closed.
   */
  async asOf(req: {
    set: string;
    version?: number;
    symbol: string;
    timeframe: Timeframe;
    eventTimes: Float64Array;
  }): Promise<FeatureColumns> {
    const definition = await this.resolveVersion(req.set, req.version);
    return this.store.asOf({ ...req, version: definition.version });
  }

  /** Lineage records of a set version (newest first). */
  async lineage(req: {
    set: string;
    version?: number;
    symbol?: string;
    timeframe?: Timeframe;
    limit: number;
  }): Promise<MaterialisationRecord[]> {
    const definition = await this.resolveVersion(req.set, req.version);
    return this.store.listMaterialisations({ ...req, version: definition.version });
  }

  /**
   * A labelled dataset for one series: stored features of the set version plus forward returns of the bars the set
   * was computed from (same adjustment), split into `segments` with purge and embargo (see
   * {@link buildTrainingDataset}). Only bars with materialised features are used. `qualityFilter: 'exclude'` leaves
   * out rows whose bar or label bar carries an unresolved data-quality flag (needs the flags store; see
   * {@link QualityFilter}); the default `include` uses every bar.
   */
  async buildTrainingDataset(
    req: TrainingDatasetRequest,
  ): Promise<TrainingDataset & { definition: FeatureSetVersion }> {
    const definition = await this.resolveVersion(req.set, req.version);
    if (req.nullWorld) return this.buildNullWorldDataset(req, definition, req.nullWorld.seed);
    const values = await this.store.read({
      set: req.set,
      version: definition.version,
      symbol: req.symbol,
      timeframe: req.timeframe,
    });
    const { bars } = await this.marketData.getBars({
      symbol: req.symbol,
      timeframe: req.timeframe,
      adjust: definition.adjust,
    });
    // Align bars to the materialised feature rows (both ascending; features exist for a prefix of the bars' times).
    const close = new Float64Array(values.ts.length);
    let j = 0;
    for (let i = 0; i < values.ts.length; i++) {
      while (j < bars.length && bars.ts[j] < values.ts[i]) j++;
      if (j >= bars.length || bars.ts[j] !== values.ts[i])
        throw new Error(
          `features of ${req.symbol} at ${new Date(values.ts[i]).toISOString()} have no bar; refresh the feature set`,
        );
      close[i] = bars.close[j];
    }
    let options = req.options;
    if (req.qualityFilter === 'exclude')
      options = {
        ...options,
        excludeBars: flaggedBarMask(values.ts, await this.unresolvedFlags(req.symbol, req.timeframe)),
      };
    return {
      ...buildTrainingDataset({ ts: values.ts, close, features: values.columns }, req.segments, options),
      definition,
    };
  }

  /**
   * The dataset of {@link buildTrainingDataset} in a null world (see `TrainingDatasetRequest.nullWorld`): every bar of
   * the series, rebuilt by `nullWorldBars(bars, seed)`, the set's features computed on them by its implementation
   * (nothing stored), labels from the permuted closes; quality flags, segments and options as asked.
   */
  private async buildNullWorldDataset(
    req: TrainingDatasetRequest,
    definition: FeatureSetVersion,
    seed: number,
  ): Promise<TrainingDataset & { definition: FeatureSetVersion }> {
    const impl = this.sets.find(
      (s) => s.registration.name === definition.name && s.registration.version === definition.version,
    );
    if (!impl)
      throw new Error(
        `feature set ${definition.name} v${definition.version} has no implementation in this process: its null world cannot be computed`,
      );
    const { bars } = await this.marketData.getBars({
      symbol: req.symbol,
      timeframe: req.timeframe,
      adjust: definition.adjust,
    });
    const moved = nullWorldBars(bars, seed);
    const ts = bars.ts;
    const features = impl.computeTail(moved, 0, req.timeframe, impl.calendarOf(ts, bars.length));
    let options = req.options;
    if (req.qualityFilter === 'exclude')
      options = { ...options, excludeBars: flaggedBarMask(ts, await this.unresolvedFlags(req.symbol, req.timeframe)) };
    return { ...buildTrainingDataset({ ts, close: moved.close, features }, req.segments, options), definition };
  }
}
