import { Inject, Injectable } from '@nestjs/common';
import { type Timeframe } from '@strata/marketdata-contracts';
import {
  DOCUMENT_STORE,
  DuplicateKeyError,
  type DocumentCollection,
  type DocumentStore,
  type Page,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  type HmmRegimeLabel,
  type RegimeModelDto,
  type RegimeRecordDto,
  type RegimeRefitTrigger,
} from '@strata/regime-contracts';
import { REGIME_MODEL_DEFAULTS, type RegimeFilterState, type RegimeModel } from '@strata/regime-domain';
import { createHash } from 'node:crypto';

/** Injection token of the regime service's settings ({@link RegimeSettings}). */
export const REGIME_SETTINGS = Symbol('REGIME_SETTINGS');

/** Settings of the regime service (environment variables in brackets). */
export interface RegimeSettings {
  /** Refit a series after this many newly filtered bars (`REGIME_REFIT_EVERY_BARS`, default 21: monthly on daily bars). */
  refitEveryBars: number;
  /** Most bars a late or corrected bar may recompute from a checkpoint (`REGIME_RECOMPUTE_MAX_BARS`, default 500). */
  recomputeMaxBars: number;
  /** Superseded model versions expire this long after being superseded, seconds (`REGIME_SUPERSEDED_TTL_DAYS`, default 30 days). */
  supersededTtlSeconds: number;
  /** Realised-volatility window of the observations, bars, 10 to 20 (`REGIME_VOL_WINDOW`, default 12). */
  volWindow: number;
  /** A fit uses the last this many bars (`REGIME_FIT_MAX_BARS`, default 5040: 20 years of daily bars). */
  fitMaxBars: number;
  /** Seeded restarts of each fit (default 4). */
  restarts?: number;
}

/** Defaults of {@link RegimeSettings}. */
export const DEFAULT_REGIME_SETTINGS: RegimeSettings = {
  refitEveryBars: 21,
  recomputeMaxBars: 500,
  supersededTtlSeconds: 30 * 86_400,
  volWindow: REGIME_MODEL_DEFAULTS.volWindow,
  fitMaxBars: 5040,
};

/**
 * A regime record document (collection `regime_records`): the served {@link RegimeRecordDto} plus `asOfMs`.
 * Append-only: written once under the deterministic id of (symbol, timeframe, model version, as-of bar), never updated.
 */
export type RegimeRecordDoc = RegimeRecordDto & {
  /** `asOf` in epoch ms UTC. */
  asOfMs: number;
};

/** JSON form of a fitted {@link RegimeModel} (typed arrays as number arrays). */
export type StoredRegimeModel = Omit<RegimeModel, 'params'> & {
  params: { k: number; d: number; startProb: number[]; transition: number[]; means: number[]; covariances: number[] };
};

/** A model-version document (collection `regime_models`, id {@link modelDocId}); expires once superseded (TTL). */
export interface RegimeModelDoc {
  symbol: string;
  timeframe: Timeframe;
  modelVersion: number;
  status: 'queued' | 'ready' | 'failed';
  trigger: RegimeRefitTrigger;
  requestedAt: string;
  lastBarFitted: string | null;
  states: number | null;
  error: string | null;
  model: StoredRegimeModel | null;
  /** When a newer version replaced this one, ISO-8601 UTC; the TTL field (null while current: never expires). */
  supersededAt: string | null;
}

/** The cached filter state of one series (collection `regime_series`, id {@link seriesDocId}); mutable. */
export interface RegimeSeriesDoc {
  symbol: string;
  timeframe: Timeframe;
  /** The model version filtering new bars (null before the first fit). */
  modelVersion: number | null;
  /** Highest model version allocated so far (0: none). */
  versions: number;
  /** Forward-filter state after `filter.lastBarTime` under `modelVersion` (null before the first fit). */
  filter: Omit<RegimeFilterState, 'closes'> | null;
  /** Time of the oldest close the next step needs (the `volWindow + 1` closes end at `filter.lastBarTime`). */
  windowStartMs: number | null;
  /** Bars filtered under `modelVersion` since it was fitted (schedule trigger). */
  barsSinceFit: number;
  /** A refit is queued (not yet ready): no second one is queued meanwhile. */
  refitPending: boolean;
  /** Newest bar the service was told about, epoch ms UTC (null: none yet). */
  latestBarMs: number | null;
}

/** Document id of a series: `<symbol>~<timeframe>`. */
export function seriesDocId(symbol: string, timeframe: Timeframe): string {
  return `${symbol}~${timeframe}`;
}

/** Document id of a model version: `<symbol>~<timeframe>~v<n>`. */
export function modelDocId(symbol: string, timeframe: Timeframe, version: number): string {
  return `${seriesDocId(symbol, timeframe)}~v${version}`;
}

/** Deterministic id of a record (and of its state-changed event): `rg_` + 32 hex of SHA-256 of the key. */
export function regimeRecordId(symbol: string, timeframe: Timeframe, modelVersion: number, asOfMs: number): string {
  return `rg_${createHash('sha256').update(`${symbol}|${timeframe}|${modelVersion}|${asOfMs}`).digest('hex').slice(0, 32)}`;
}

/** A fitted model as JSON. */
export function storeModel(m: RegimeModel): StoredRegimeModel {
  const p = m.params;
  return {
    ...m,
    params: {
      k: p.k,
      d: p.d,
      startProb: Array.from(p.startProb),
      transition: Array.from(p.transition),
      means: Array.from(p.means),
      covariances: Array.from(p.covariances),
    },
  };
}

/** A stored model back as a {@link RegimeModel}. */
export function loadModel(s: StoredRegimeModel): RegimeModel {
  const p = s.params;
  return {
    ...s,
    params: {
      k: p.k,
      d: p.d,
      startProb: Float64Array.from(p.startProb),
      transition: Float64Array.from(p.transition),
      means: Float64Array.from(p.means),
      covariances: Float64Array.from(p.covariances),
    },
  };
}

/** The REST form of a model-version document. */
export function toModelDto(d: RegimeModelDoc): RegimeModelDto {
  return {
    symbol: d.symbol,
    timeframe: d.timeframe,
    modelVersion: d.modelVersion,
    status: d.status,
    trigger: d.trigger,
    requestedAt: d.requestedAt,
    lastBarFitted: d.lastBarFitted,
    states: d.states,
    error: d.error,
  };
}

/** The REST form of a record document. */
export function toRecordDto(d: RegimeRecordDoc): RegimeRecordDto {
  return {
    symbol: d.symbol,
    timeframe: d.timeframe,
    modelVersion: d.modelVersion,
    asOf: d.asOf,
    label: d.label,
    since: d.since,
    probabilities: d.probabilities,
    transition: d.transition,
    states: d.states,
    lastBarFitted: d.lastBarFitted,
    predictiveLogLik: d.predictiveLogLik,
    recordedAt: d.recordedAt,
  };
}

/** Probabilities in label order as a record by state name. */
export function probabilitiesByLabel(labels: HmmRegimeLabel[], p: number[]): Partial<Record<HmmRegimeLabel, number>> {
  return Object.fromEntries(labels.map((l, i) => [l, p[i]]));
}

/**
 * The regime cache in the document store (MongoDB / FerretDB, or the embedded DuckDB store): append-only records
 * (`regime_records`), model versions (`regime_models`, TTL on superseded versions only) and the per-series filter
 * state (`regime_series`).
 */
@Injectable()
export class RegimeRepository {
  readonly records: DocumentCollection<RegimeRecordDoc>;
  readonly models: DocumentCollection<RegimeModelDoc>;
  readonly series: DocumentCollection<RegimeSeriesDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore, @Inject(REGIME_SETTINGS) settings: RegimeSettings) {
    this.records = store.collection<RegimeRecordDoc>({
      name: 'regime_records',
      indexes: [
        { fields: ['symbol', 'timeframe', 'modelVersion', 'asOfMs'], unique: true, name: 'regime_record_key' },
        { fields: ['symbol', 'timeframe', 'asOfMs'] },
      ],
    });
    this.models = store.collection<RegimeModelDoc>({
      name: 'regime_models',
      indexes: [{ fields: ['symbol', 'timeframe', 'modelVersion'], unique: true }],
      ttl: { field: 'supersededAt', expireAfterSeconds: settings.supersededTtlSeconds },
    });
    this.series = store.collection<RegimeSeriesDoc>({ name: 'regime_series' });
  }

  /**
   * Appends a record; `false` when the record of this key exists already (a redelivery or another replica wrote the
   * same deterministic record): the stored one is kept, never rewritten.
   */
  async append(doc: RegimeRecordDoc): Promise<boolean> {
    try {
      await this.records.insert({
        ...doc,
        id: regimeRecordId(doc.symbol, doc.timeframe, doc.modelVersion, doc.asOfMs),
      });
      return true;
    } catch (e) {
      if (e instanceof DuplicateKeyError) return false;
      throw e;
    }
  }

  /** The latest record of a series (by as-of bar), or null. */
  async latest(symbol: string, timeframe: Timeframe): Promise<StoredDocument<RegimeRecordDoc> | null> {
    const p = await this.records.page({
      filter: { symbol, timeframe },
      sort: { field: 'asOfMs', direction: 'desc' },
      limit: 1,
    });
    return p.items[0] ?? null;
  }

  /** Records with `asOf` in `[from, to]` (epoch ms, inclusive), ascending, one page. */
  history(
    symbol: string,
    timeframe: Timeframe,
    range: { from?: number; to?: number },
    req: { limit: number; cursor?: string | null },
  ): Promise<Page<RegimeRecordDoc>> {
    const asOfMs: { $gte?: number; $lte?: number } = {};
    if (range.from !== undefined) asOfMs.$gte = range.from;
    if (range.to !== undefined) asOfMs.$lte = range.to;
    return this.records.page({
      filter: { symbol, timeframe, ...(Object.keys(asOfMs).length ? { asOfMs } : {}) },
      sort: { field: 'asOfMs', direction: 'asc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
  }

  /** The last `n` records strictly before `beforeMs`, newest first. */
  async before(symbol: string, timeframe: Timeframe, beforeMs: number, n: number): Promise<RegimeRecordDoc[]> {
    const p = await this.records.page({
      filter: { symbol, timeframe, asOfMs: { $lt: beforeMs } },
      sort: { field: 'asOfMs', direction: 'desc' },
      limit: n,
    });
    return p.items;
  }
}
