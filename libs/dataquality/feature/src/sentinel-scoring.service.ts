import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  AnomalyDetectedV1,
  BAR_QUALITY_FLAGS,
  type BarQualityFlagsStore,
  type BarQualityFlag,
} from '@strata/dataquality-contracts';
import { DuplicateKeyError, EVENT_BUS, type EventBus, type StoredDocument } from '@strata/platform-contracts';
import {
  type BarCorrection,
  type Timeframe,
  type BarColumns,
  BARS_REPOSITORY,
  type BarsRepository,
} from '@strata/marketdata-contracts';
import {
  correctionAnomaly,
  DEFAULT_SENTINEL_CONFIG,
  requiredContextBars,
  RULES_VERSION,
  scoreBars,
  type BarAnomaly,
  type DetectorName,
  type SentinelConfig,
} from '@strata/dataquality-domain';
import { inferTradingCalendar, TIMEFRAME_MS, type TradingCalendar } from '@strata/shared-timeseries';
import {
  dataQualityEventId,
  DataQualityEventsRepository,
  openEventTriage,
  SEVERITY_RANK,
  toDetected,
  type DataQualityEventDoc,
} from './data-quality-events.repository';

/** Settings of the scorer. */
export interface SentinelScoringOptions {
  /** Detector configuration (default `DEFAULT_SENTINEL_CONFIG` of `@strata/dataquality-domain`). */
  config?: SentinelConfig;
  /** New bars scored per batch (default 5,000): a backfill streams through in batches, never one giant read. */
  batchBars?: number;
  /**
   * Stored bars after the changed range scored with it (default 1): the scorer decides a bar's price findings (bad
   * tick, spike) when the next bar arrives, so a correction in the middle of history needs the bar after it.
   */
  lookaheadBars?: number;
}

/** Injection token of {@link SentinelScoringOptions}. */
export const SENTINEL_SCORING_OPTIONS = Symbol('SENTINEL_SCORING_OPTIONS');

/** What one scoring pass did. */
export interface ScoringOutcome {
  /** New bars scored. */
  scoredBars: number;
  /** Scorer calls (batches). */
  batches: number;
  /** Anomalies found (including ones already stored by an earlier pass). */
  anomalies: number;
  /** DataQualityEvents stored by this pass (new documents). */
  stored: number;
  /** Events published by this pass (new ones, plus stored ones whose publication had not gone out). */
  published: number;
}

/** Where a scoring pass comes from, for the stored events and the envelopes. */
export interface ScoringCause {
  ingestionId: string | null;
  correlationId?: string;
  causationId?: string | null;
}

/**
 * Scores stored bars and records what it finds: for a committed batch, reads the new bars (raw, as stored) in
 * batches of `batchBars` after `requiredContextBars` bars of history, runs `scoreBars` of `@strata/dataquality-domain`
 * (rules, Isolation Forest, forecast residual, combined score → severity), stores ONE DataQualityEvent document per
 * anomaly, publishes `dataquality.evt.anomaly.detected.v1` and marks the bar in the bar-quality flags table.
 *
 * Idempotent: an event's id derives from (symbol, timeframe, bar time, kind), so rescoring the same bars (a
 * redelivered `bars.ingested`, an overlapping backfill) stores nothing twice; a stored event whose publication did
 * not go out (crash in between) is published on the next pass with the same envelope id (deduplicated by the bus).
 */
@Injectable()
export class SentinelScoringService {
  private readonly logger = new Logger('sentinel');
  readonly config: SentinelConfig;
  private readonly batchBars: number;
  private readonly lookahead: number;

  constructor(
    @Inject(BARS_REPOSITORY) private readonly bars: BarsRepository,
    private readonly events: DataQualityEventsRepository,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Optional() @Inject(BAR_QUALITY_FLAGS) private readonly flags?: BarQualityFlagsStore,
    @Optional() @Inject(SENTINEL_SCORING_OPTIONS) options?: SentinelScoringOptions,
  ) {
    this.config = options?.config ?? DEFAULT_SENTINEL_CONFIG;
    this.batchBars = Math.max(1, options?.batchBars ?? 5000);
    this.lookahead = Math.max(0, options?.lookaheadBars ?? 1);
  }

  /**
   * Scores the stored bars of a series from `fromMs` to `toMs` (bar start, epoch ms UTC, inclusive), streaming in
   * batches with the context before each batch carried over from the previous one.
   */
  async scoreRange(
    symbol: string,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    cause: ScoringCause,
  ): Promise<ScoringOutcome> {
    const out: ScoringOutcome = { scoredBars: 0, batches: 0, anomalies: 0, stored: 0, published: 0 };
    const contextBars = requiredContextBars(this.config);
    let context = await this.barsBefore(symbol, timeframe, fromMs, contextBars);
    let calendar: TradingCalendar | undefined;
    let after = fromMs - 1;
    for (;;) {
      const batch = await this.bars.read({ symbol, timeframe, after, limit: this.batchBars });
      // Changed bars of this batch (ts ≤ toMs), plus up to `lookahead` stored bars after the range: the scorer decides
      // a bar's price findings when the next bar arrives, so the last changed bar needs its successor if one exists.
      let n = 0;
      while (n < batch.length && batch.ts[n] <= toMs) n++;
      const m = n + Math.min(this.lookahead, batch.length - n);
      if (m === 0) break;
      const cols = concatColumns(context, batch, 0, m);
      calendar ??= inferTradingCalendar(cols.ts);
      // Findings may sit before `firstNew` (one-bar decision lag, the start of a stale run): all are this batch's
      // decisions, and storing is keyed, so a finding seen twice is stored once.
      const res = scoreBars({ bars: cols, firstNew: context.length, timeframe, symbol, calendar }, this.config);
      out.batches++;
      out.scoredBars += n;
      out.anomalies += res.anomalies.length;
      if (res.anomalies.length) {
        const r = await this.record(symbol, timeframe, res.anomalies, res.modelVersions, cause);
        out.stored += r.stored;
        out.published += r.published;
      }
      context = tailColumns(cols, contextBars);
      after = batch.ts[m - 1];
      if (n < batch.length || batch.length < this.batchBars) break;
    }
    return out;
  }

  /**
   * Records `correction` events for the bars one ingestion corrected in `[fromMs, toMs]` (from the correction audit
   * records: old and new values).
   */
  async recordCorrections(
    symbol: string,
    timeframe: Timeframe,
    fromMs: number,
    toMs: number,
    corrected: number,
    cause: ScoringCause & { ingestionId: string },
  ): Promise<ScoringOutcome> {
    const audits = await this.bars.listCorrections({
      symbol,
      timeframe,
      limit: Math.min(100_000, corrected * 4 + 100),
    });
    const mine: BarCorrection[] = audits.filter(
      (c) => c.ingestionId === cause.ingestionId && Date.parse(c.ts) >= fromMs && Date.parse(c.ts) <= toMs,
    );
    const anomalies = mine.map((c) => correctionAnomaly(c));
    const r = anomalies.length
      ? await this.record(symbol, timeframe, anomalies, correctionModelVersions(), cause)
      : { stored: 0, published: 0 };
    return { scoredBars: mine.length, batches: anomalies.length ? 1 : 0, anomalies: anomalies.length, ...r };
  }

  /** Stores, publishes and flags anomalies of one batch. */
  private async record(
    symbol: string,
    timeframe: Timeframe,
    anomalies: readonly BarAnomaly[],
    modelVersions: Record<DetectorName, string> | Record<string, string>,
    cause: ScoringCause,
  ): Promise<{ stored: number; published: number }> {
    let stored = 0;
    let published = 0;
    const flags: BarQualityFlag[] = [];
    for (const a of anomalies) {
      const id = dataQualityEventId(symbol, timeframe, a.ts, a.kind);
      const detectedAt = new Date().toISOString();
      const doc: DataQualityEventDoc = {
        symbol,
        timeframe,
        barTs: new Date(a.ts).toISOString(),
        kind: a.kind,
        scores: {
          rules: a.scores.rules,
          isolation_forest: a.scores.isolation_forest,
          forecast_residual: a.scores.forecast_residual,
        },
        combined: a.combined,
        severity: a.severity,
        severityRank: SEVERITY_RANK[a.severity],
        reason: a.reason,
        modelVersions: { ...modelVersions },
        proposedSplit: a.proposedSplit
          ? { newShares: a.proposedSplit.newShares, oldShares: a.proposedSplit.oldShares }
          : null,
        ingestionId: cause.ingestionId,
        detectedAt,
        ...openEventTriage(),
        published: false,
      };
      let current: StoredDocument<DataQualityEventDoc> | null;
      try {
        current = await this.events.insert({ id, ...doc });
        stored++;
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        current = await this.events.get(id);
      }
      if (!current) continue; // expired between insert and read: nothing to flag
      flags.push({
        symbol,
        timeframe,
        ts: a.ts,
        kind: a.kind,
        eventId: id,
        severity: current.severity,
        status: current.status,
      });
      if (!current.published) {
        await this.bus.publish(AnomalyDetectedV1, toDetected(id, current), {
          id,
          correlationId: cause.correlationId,
          causationId: cause.causationId ?? null,
        });
        await this.events.updateWithRetry(id, (d) => (d.published ? null : { set: { published: true } }));
        published++;
      }
    }
    if (this.flags && flags.length) await this.flags.upsert(flags);
    return { stored, published };
  }

  /** The last `n` stored bars strictly before `beforeMs` (ascending), read with a widening window. */
  private async barsBefore(symbol: string, timeframe: Timeframe, beforeMs: number, n: number): Promise<BarColumns> {
    if (n <= 0) return emptyColumns();
    const [series] = await this.bars
      .listSeries({ symbol, limit: 100 })
      .then((all) => all.filter((s) => s.timeframe === timeframe));
    if (!series) return emptyColumns();
    const seriesFrom = Date.parse(series.from);
    if (seriesFrom >= beforeMs) return emptyColumns();
    const step = TIMEFRAME_MS[timeframe];
    // Start with twice the span of n bars (calendars skip nights, weekends, holidays) and double until enough.
    let span = 2 * n * step;
    for (;;) {
      const from = Math.max(seriesFrom, beforeMs - span);
      const got = await this.bars.read({ symbol, timeframe, from, to: beforeMs - 1 });
      if (got.length >= n || from <= seriesFrom) return tailColumns(got, n);
      span *= 2;
    }
  }
}

/** Model versions recorded on `correction` events (a rule: no statistical model involved). */
function correctionModelVersions(): Record<string, string> {
  return { rules: RULES_VERSION };
}

function emptyColumns(): BarColumns {
  const z = new Float64Array(0);
  return { length: 0, ts: z, open: z, high: z, low: z, close: z, volume: z, adjClose: null };
}

/** `a` followed by rows [from, to) of `b`, as scorer columns (one copy per column). */
function concatColumns(a: BarColumns, b: BarColumns, from: number, to: number): BarColumns {
  const n = a.length + (to - from);
  const col = (x: Float64Array, y: Float64Array) => {
    const out = new Float64Array(n);
    out.set(x.subarray(0, a.length), 0);
    out.set(y.subarray(from, to), a.length);
    return out;
  };
  return {
    length: n,
    ts: col(a.ts, b.ts),
    open: col(a.open, b.open),
    high: col(a.high, b.high),
    low: col(a.low, b.low),
    close: col(a.close, b.close),
    volume: col(a.volume, b.volume),
    adjClose: null,
  };
}

/** The last `n` rows (views, no copy). */
function tailColumns(c: BarColumns, n: number): BarColumns {
  const s = Math.max(0, c.length - n);
  return {
    length: c.length - s,
    ts: c.ts.subarray(s),
    open: c.open.subarray(s),
    high: c.high.subarray(s),
    low: c.low.subarray(s),
    close: c.close.subarray(s),
    volume: c.volume.subarray(s),
    adjClose: null,
  };
}
