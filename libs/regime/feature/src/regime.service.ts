import { Inject, Injectable, Logger } from '@nestjs/common';
import { MARKET_DATA_READER, type MarketDataReader, type Timeframe } from '@strata/marketdata-contracts';
import {
  DuplicateKeyError,
  EVENT_BUS,
  VersionConflictError,
  type EventBus,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  RefitRegimeCommandV1,
  RegimeStateChangedV1,
  type RegimeCurrentDto,
  type RegimeHistoryPage,
  type RegimeHistoryPoints,
  type RegimeHistoryQuery,
  type RegimeModelDto,
  type RegimeRefitTrigger,
} from '@strata/regime-contracts';
import {
  initialFilterState,
  refitSignal,
  regimeFilterStep,
  type RegimeFilterState,
  type RegimeModel,
  type RegimePoint,
} from '@strata/regime-domain';
import {
  loadModel,
  modelDocId,
  probabilitiesByLabel,
  REGIME_SETTINGS,
  regimeRecordId,
  RegimeRepository,
  seriesDocId,
  storeModel,
  toModelDto,
  toRecordDto,
  type RegimeModelDoc,
  type RegimeRecordDoc,
  type RegimeSeriesDoc,
  type RegimeSettings,
} from './regime.repository';
import { RegimeFitWorker } from './regime-fit.worker';

/** No regime for the series yet (no bars, or too few to fit). HTTP 404. */
export class RegimeNotFoundError extends Error {}

/** Outcome of one {@link RegimeService.onBars} call. */
export interface RegimeAdvance {
  /** `filtered`: new bars stepped; `fitted`: first fit of the series; `too_few_bars`; `unchanged`: nothing new. */
  status: 'filtered' | 'fitted' | 'too_few_bars' | 'unchanged';
  /** Records appended. */
  appended: number;
  /** Bars re-filtered from a checkpoint after a late or corrected bar (0 when none). */
  recomputed: number;
  /** Model version filtering the series afterwards. */
  modelVersion: number | null;
  /** A refit was queued (schedule or predictive log-likelihood). */
  refitQueued: RegimeRefitTrigger | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The regime service: keeps the regime cache of every series fresh from bar events. Each new bar is ONE forward-filter
 * step from the cached state ({@link regimeFilterStep}), idempotent per (symbol, timeframe, bar time); a late or
 * corrected bar re-filters a bounded window from the checkpoint before it (served records are never rewritten, only
 * the current state moves); a refit (schedule, falling predictive log-likelihood, operator) is a new model version
 * whose states are matched by name to the previous one. Labels come from filtered probabilities only.
 */
@Injectable()
export class RegimeService {
  private readonly logger = new Logger('regime');
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repo: RegimeRepository,
    @Inject(MARKET_DATA_READER) private readonly reader: MarketDataReader,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(REGIME_SETTINGS) private readonly settings: RegimeSettings,
    private readonly fits: RegimeFitWorker,
  ) {}

  /** Fewest bars of a first fit: the observation window plus 20 observations per state of the largest model. */
  get minBars(): number {
    return this.settings.volWindow + 60;
  }

  /** Runs `fn` after every earlier call for the same series in this process (replicas are kept apart by versions). */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.chains.set(key, tail);
    void tail.then(() => {
      if (this.chains.get(key) === tail) this.chains.delete(key);
    });
    return next;
  }

  /** Retries `fn` when another replica updated the series document in between (optimistic concurrency). */
  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof VersionConflictError) || attempt >= 8) throw e;
      }
    }
  }

  private async seriesDoc(symbol: string, timeframe: Timeframe): Promise<StoredDocument<RegimeSeriesDoc>> {
    const id = seriesDocId(symbol, timeframe);
    const got = await this.repo.series.get(id);
    if (got) return got;
    try {
      return await this.repo.series.insert({
        id,
        symbol,
        timeframe,
        modelVersion: null,
        versions: 0,
        filter: null,
        windowStartMs: null,
        barsSinceFit: 0,
        refitPending: false,
        latestBarMs: null,
      });
    } catch (e) {
      if (e instanceof DuplicateKeyError) return (await this.repo.series.get(id))!;
      throw e;
    }
  }

  private async readBars(
    symbol: string,
    timeframe: Timeframe,
    from?: number,
  ): Promise<{ ts: Float64Array; close: Float64Array }> {
    const w = await this.reader.getBars({ symbol, timeframe, from, adjust: 'total' });
    return { ts: w.bars.ts.subarray(0, w.bars.length), close: w.bars.close.subarray(0, w.bars.length) };
  }

  private async readyModel(
    symbol: string,
    timeframe: Timeframe,
    version: number,
  ): Promise<RegimeModelDoc & { model: NonNullable<RegimeModelDoc['model']> }> {
    const d = await this.repo.models.get(modelDocId(symbol, timeframe, version));
    if (!d || d.status !== 'ready' || !d.model)
      throw new Error(`regime model ${modelDocId(symbol, timeframe, version)} is missing or not ready`);
    return d as RegimeModelDoc & { model: NonNullable<RegimeModelDoc['model']> };
  }

  /**
   * New or corrected bars of a series (from `marketdata.evt.bars.ingested.v1`): `changedFromMs` is the earliest bar the
   * commit inserted or corrected, `toMs` its last bar. Idempotent: bars already filtered are not stepped again.
   */
  onBars(symbol: string, timeframe: Timeframe, changedFromMs: number, toMs: number): Promise<RegimeAdvance> {
    return this.serial(seriesDocId(symbol, timeframe), () =>
      this.withRetry(() => this.advance(symbol, timeframe, changedFromMs, toMs)),
    );
  }

  private async advance(
    symbol: string,
    timeframe: Timeframe,
    changedFromMs: number,
    toMs: number,
  ): Promise<RegimeAdvance> {
    const s = await this.seriesDoc(symbol, timeframe);
    const latestBarMs = Math.max(s.latestBarMs ?? -Infinity, toMs);
    if (s.modelVersion === null || s.filter === null) return this.firstFit(s, latestBarMs);
    const { model: stored, lastBarFitted } = await this.readyModel(symbol, timeframe, s.modelVersion);
    const model = loadModel(stored);
    const last = s.filter.lastBarTime!;
    let state: RegimeFilterState;
    let recomputed = 0;
    let bars: { ts: Float64Array; close: Float64Array };
    if (changedFromMs <= last) {
      // A late or corrected bar at or before the last filtered one: re-filter from the checkpoint before it (bounded),
      // or from the series' first bar when there is none under this model. The records already served stay as they
      // were (as-of history); only the current state takes the correction in.
      const cp = await this.checkpoint(symbol, timeframe, s.modelVersion, model, changedFromMs);
      const bounded = cp !== null && cp.recompute <= this.settings.recomputeMaxBars;
      bars = await this.readBars(symbol, timeframe, bounded ? cp.windowStartMs : undefined);
      state = bounded
        ? { ...cp.state, closes: closesUpTo(bars, cp.state.lastBarTime!, model.volWindow) }
        : initialFilterState();
      recomputed = countBetween(bars.ts, state.lastBarTime ?? -Infinity, last);
    } else {
      bars = await this.readBars(symbol, timeframe, s.windowStartMs ?? undefined);
      state = { ...s.filter, closes: closesUpTo(bars, last, model.volWindow) };
    }
    const points: RegimePoint[] = [];
    let lastLabelBefore = s.filter.label;
    for (let i = 0; i < bars.ts.length; i++) {
      const t = bars.ts[i];
      if (state.lastBarTime !== null && t <= state.lastBarTime) continue;
      const r = regimeFilterStep(model, state, { time: t, close: bars.close[i] });
      state = r.state;
      // Bars up to the last served one were recomputed into the state only; records are appended after it.
      if (r.point && t > last) points.push(r.point);
    }
    if (points.length === 0 && recomputed === 0)
      return { status: 'unchanged', appended: 0, recomputed: 0, modelVersion: s.modelVersion, refitQueued: null };
    const appended = await this.appendPoints(
      symbol,
      timeframe,
      s.modelVersion,
      model,
      lastBarFitted!,
      points,
      lastLabelBefore,
    );
    lastLabelBefore = state.label;
    const barsSinceFit = s.barsSinceFit + points.length;
    let refitQueued: RegimeRefitTrigger | null = null;
    if (!s.refitPending) {
      if (barsSinceFit >= this.settings.refitEveryBars) refitQueued = 'schedule';
      else if (refitSignal(model, state).due) refitQueued = 'likelihood';
    }
    const { closes: _closes, ...filter } = state;
    const updated = await this.repo.series.update(s.id, s._version, {
      set: {
        filter,
        windowStartMs: windowStart(bars, state.lastBarTime!, model.volWindow),
        barsSinceFit,
        latestBarMs,
        ...(refitQueued ? { refitPending: true, versions: s.versions + 1 } : {}),
      },
    });
    if (refitQueued) await this.queueRefit(updated, updated.versions, refitQueued);
    return { status: 'filtered', appended, recomputed, modelVersion: s.modelVersion, refitQueued };
  }

  /**
   * The filter state just before `beforeMs` rebuilt from the served records (probabilities, label and since from the
   * last record before it; the rolling predictive log-likelihoods from the ones before that), or null when there are
   * not enough records (the caller refits).
   */
  private async checkpoint(
    symbol: string,
    timeframe: Timeframe,
    modelVersion: number,
    model: RegimeModel,
    beforeMs: number,
  ): Promise<{ state: Omit<RegimeFilterState, 'closes'>; windowStartMs: number; recompute: number } | null> {
    const need = Math.max(model.predictiveWindow, model.volWindow + 1);
    const recs = await this.repo.before(symbol, timeframe, beforeMs, need);
    // Probabilities are only carried on under the model that produced them; record times are bar times under any.
    if (recs.length < model.volWindow + 1 || recs[0].modelVersion !== modelVersion) return null;
    const r0 = recs[0];
    const sameModel = recs.filter((r) => r.modelVersion === modelVersion);
    return {
      state: {
        lastBarTime: r0.asOfMs,
        probabilities: model.labels.map((l) => r0.probabilities[l] ?? 0),
        label: r0.label,
        labelSince: Date.parse(r0.since),
        recentPredictiveLogLik: sameModel
          .slice(0, model.predictiveWindow)
          .map((r) => r.predictiveLogLik)
          .reverse(),
        observations: sameModel.length,
      },
      windowStartMs: recs[model.volWindow].asOfMs,
      // Bars to re-filter up to the last served one: the records after the checkpoint (one per bar).
      recompute: await this.repo.records.count({ symbol, timeframe, asOfMs: { $gt: r0.asOfMs } }),
    };
  }

  /** Appends one record per point (and a state-changed event per label change); returns how many were new. */
  private async appendPoints(
    symbol: string,
    timeframe: Timeframe,
    modelVersion: number,
    model: RegimeModel,
    lastBarFitted: string,
    points: RegimePoint[],
    previousLabel: RegimeFilterState['label'],
  ): Promise<number> {
    const k = model.k;
    const transition = model.labels.map((from, i) => ({
      from,
      row: Array.from(model.params.transition.subarray(i * k, i * k + k)),
    }));
    const states = model.states.map((st) => ({ ...st }));
    let appended = 0;
    let prev = previousLabel;
    for (const p of points) {
      const probabilities = probabilitiesByLabel(model.labels, p.probabilities);
      const doc: RegimeRecordDoc = {
        symbol,
        timeframe,
        modelVersion,
        asOf: iso(p.time),
        asOfMs: p.time,
        label: p.label,
        since: iso(p.labelSince),
        probabilities,
        transition,
        states,
        lastBarFitted,
        predictiveLogLik: p.predictiveLogLik,
        recordedAt: new Date().toISOString(),
      };
      if (await this.repo.append(doc)) appended++;
      if (p.label !== prev)
        // The envelope id is the record's key: a redelivery republishes the same id, which the server deduplicates.
        await this.bus.publish(
          RegimeStateChangedV1,
          { symbol, timeframe, modelVersion, asOf: doc.asOf, label: p.label, previousLabel: prev, probabilities },
          { id: regimeRecordId(symbol, timeframe, modelVersion, p.time) },
        );
      prev = p.label;
    }
    return appended;
  }

  /** First fit of a series on every stored bar (when there are enough): version 1, one record as of the last bar. */
  private async firstFit(s: StoredDocument<RegimeSeriesDoc>, latestBarMs: number): Promise<RegimeAdvance> {
    const bars = await this.readBars(s.symbol, s.timeframe);
    if (bars.ts.length < this.minBars) {
      if (latestBarMs !== s.latestBarMs) await this.repo.series.update(s.id, s._version, { set: { latestBarMs } });
      return { status: 'too_few_bars', appended: 0, recomputed: 0, modelVersion: null, refitQueued: null };
    }
    const version = s.versions + 1;
    const requestedAt = new Date().toISOString();
    await this.fitVersion(s, version, 'initial', requestedAt, bars, latestBarMs, { recordLast: true });
    return { status: 'fitted', appended: 1, recomputed: 0, modelVersion: version, refitQueued: null };
  }

  /**
   * Fits `version` on `bars` (matched to the current version's states), stores it ready, supersedes the previous one
   * (its TTL starts) and moves the series onto it with the filter state at the last bar served so far (or, on a first
   * fit, at the last bar, with its record). The state is filtered under the new model from the first bar: the filter
   * is a forward pass, so it uses no bar after the one it is as of.
   */
  private async fitVersion(
    s: StoredDocument<RegimeSeriesDoc>,
    version: number,
    trigger: RegimeRefitTrigger,
    requestedAt: string,
    bars: { ts: Float64Array; close: Float64Array },
    latestBarMs: number,
    opts: { recordLast: boolean },
  ): Promise<void> {
    const { symbol, timeframe } = s;
    const previous =
      s.modelVersion !== null ? loadModel((await this.readyModel(symbol, timeframe, s.modelVersion)).model) : undefined;
    // Off the event loop: a fit takes most of a second on a few thousand bars.
    const model = await this.fits.fit(
      bars.close.subarray(Math.max(0, bars.close.length - this.settings.fitMaxBars)),
      { volWindow: previous?.volWindow ?? this.settings.volWindow, restarts: this.settings.restarts, seed: version },
      previous,
    );
    const lastBarFitted = iso(bars.ts[bars.ts.length - 1]);
    const upTo = opts.recordLast || s.filter === null ? bars.ts[bars.ts.length - 1] : s.filter.lastBarTime!;
    let state = initialFilterState();
    let lastPoint: RegimePoint | null = null;
    for (let i = 0; i < bars.ts.length && bars.ts[i] <= upTo; i++) {
      const r = regimeFilterStep(model, state, { time: bars.ts[i], close: bars.close[i] });
      state = r.state;
      if (r.point) lastPoint = r.point;
    }
    const doc: RegimeModelDoc = {
      symbol,
      timeframe,
      modelVersion: version,
      status: 'ready',
      trigger,
      requestedAt,
      lastBarFitted,
      states: model.k,
      error: null,
      model: storeModel(model),
      supersededAt: null,
    };
    // The version it replaces starts its TTL (its records stay: served history never expires).
    if (s.modelVersion !== null && s.modelVersion !== version) {
      const old = modelDocId(symbol, timeframe, s.modelVersion);
      await this.repo.models
        .updateWithRetry(old, () => ({ set: { supersededAt: new Date().toISOString() } }))
        .catch(() => undefined);
    }
    const id = modelDocId(symbol, timeframe, version);
    const existing = await this.repo.models.get(id);
    if (existing) await this.repo.models.update(id, existing._version, { replace: doc });
    else await this.repo.models.insert({ ...doc, id });
    const { closes: _c, ...filter } = state;
    await this.repo.series.update(s.id, s._version, {
      set: {
        modelVersion: version,
        versions: Math.max(s.versions, version),
        filter,
        windowStartMs: windowStart(bars, state.lastBarTime!, model.volWindow),
        barsSinceFit: 0,
        refitPending: false,
        latestBarMs,
      },
    });
    if (opts.recordLast && lastPoint)
      await this.appendPoints(symbol, timeframe, version, model, lastBarFitted, [lastPoint], s.filter?.label ?? null);
    this.logger.log({
      msg: 'regime model fitted',
      symbol,
      timeframe,
      modelVersion: version,
      trigger,
      states: model.k,
      bars: bars.ts.length,
    });
  }

  private async queueRefit(s: RegimeSeriesDoc, version: number, trigger: RegimeRefitTrigger): Promise<RegimeModelDoc> {
    const requestedAt = new Date().toISOString();
    const doc: RegimeModelDoc = {
      symbol: s.symbol,
      timeframe: s.timeframe,
      modelVersion: version,
      status: 'queued',
      trigger,
      requestedAt,
      lastBarFitted: null,
      states: null,
      error: null,
      model: null,
      supersededAt: null,
    };
    const id = modelDocId(s.symbol, s.timeframe, version);
    try {
      await this.repo.models.insert({ ...doc, id });
    } catch (e) {
      if (!(e instanceof DuplicateKeyError)) throw e;
    }
    await this.bus.publish(
      RefitRegimeCommandV1,
      { symbol: s.symbol, timeframe: s.timeframe, modelVersion: version, trigger, requestedAt },
      { id },
    );
    return doc;
  }

  /** `POST /market-data/regime/models`: allocates the next model version and queues its fit (202). */
  async requestRefit(symbol: string, timeframe: Timeframe): Promise<RegimeModelDto> {
    const id = seriesDocId(symbol, timeframe);
    const s = await this.repo.series.get(id);
    if (!s) {
      const bars = await this.readBars(symbol, timeframe);
      if (bars.ts.length === 0) throw new RegimeNotFoundError(`no bars of ${symbol} ${timeframe}`);
    }
    const base = s ?? (await this.seriesDoc(symbol, timeframe));
    const updated = await this.repo.series.updateWithRetry(base.id, (c) => ({
      set: { versions: c.versions + 1, refitPending: true },
    }));
    return toModelDto(await this.queueRefit(updated, updated.versions, 'operator'));
  }

  /** Runs a queued refit (`regime.cmd.refit.v1`); idempotent: a version already fitted is left as is. */
  refit(
    symbol: string,
    timeframe: Timeframe,
    version: number,
    trigger: RegimeRefitTrigger,
    requestedAt: string,
  ): Promise<void> {
    return this.serial(seriesDocId(symbol, timeframe), () =>
      this.withRetry(async () => {
        const existing = await this.repo.models.get(modelDocId(symbol, timeframe, version));
        if (existing?.status === 'ready') return;
        const s = await this.seriesDoc(symbol, timeframe);
        const bars = await this.readBars(symbol, timeframe);
        try {
          if (bars.ts.length < this.minBars)
            throw new Error(
              `a regime fit needs at least ${this.minBars} bars, ${symbol} ${timeframe} has ${bars.ts.length}`,
            );
          await this.fitVersion(s, version, trigger, requestedAt, bars, s.latestBarMs ?? bars.ts[bars.ts.length - 1], {
            recordLast: s.filter === null,
          });
        } catch (e) {
          if (e instanceof VersionConflictError) throw e;
          const id = modelDocId(symbol, timeframe, version);
          await this.repo.models.updateWithRetry(id, () => ({
            set: { status: 'failed', error: (e as Error).message },
          }));
          await this.repo.series.updateWithRetry(s.id, () => ({ set: { refitPending: false } }));
          return;
        }
        // Bars stored after the last filtered one are stepped under the new version.
        const after = await this.repo.series.get(s.id);
        if (after?.latestBarMs && after.filter?.lastBarTime && after.latestBarMs > after.filter.lastBarTime)
          await this.advance(symbol, timeframe, Infinity, after.latestBarMs);
      }),
    );
  }

  /** `GET /market-data/regime`: the latest record, with the series' latest bar and whether the record lags it. */
  async current(symbol: string, timeframe: Timeframe): Promise<RegimeCurrentDto> {
    const [rec, s] = await Promise.all([
      this.repo.latest(symbol, timeframe),
      this.repo.series.get(seriesDocId(symbol, timeframe)),
    ]);
    if (!rec)
      throw new RegimeNotFoundError(
        s
          ? `no regime of ${symbol} ${timeframe} yet: a first fit needs ${this.minBars} bars`
          : `no regime of ${symbol} ${timeframe}: no bars ingested`,
      );
    const latestBarMs = Math.max(s?.latestBarMs ?? rec.asOfMs, rec.asOfMs);
    return { ...toRecordDto(rec), latestBar: iso(latestBarMs), stale: rec.asOfMs < latestBarMs };
  }

  /** `GET /market-data/regime/history`: filtered records in `[from, to]`, ascending, one page. */
  async history(q: RegimeHistoryQuery): Promise<RegimeHistoryPage> {
    const page = await this.repo.history(q.symbol, q.timeframe, { from: q.from, to: q.to }, q);
    return { items: page.items.map(toRecordDto), nextCursor: page.nextCursor };
  }

  /** The as-of points of a series over `[from, to]` (the backtests' `regime` source, over the bus), ascending. */
  async readHistory(req: {
    symbol: string;
    timeframe: Timeframe;
    from?: number;
    to?: number;
  }): Promise<RegimeHistoryPoints['points']> {
    const out: RegimeHistoryPoints['points'] = [];
    let cursor: string | null = null;
    do {
      const page = await this.repo.history(req.symbol, req.timeframe, req, { limit: 1000, cursor });
      for (const r of page.items)
        out.push({ time: r.asOfMs, label: r.label, modelVersion: r.modelVersion, probabilities: r.probabilities });
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }
}

/** The last `volWindow + 1` closes at or before `lastMs` (oldest first): the closes the next step needs. */
function closesUpTo(bars: { ts: Float64Array; close: Float64Array }, lastMs: number, volWindow: number): number[] {
  let end = 0;
  while (end < bars.ts.length && bars.ts[end] <= lastMs) end++;
  return Array.from(bars.close.subarray(Math.max(0, end - volWindow - 1), end));
}

/** Time of the oldest of the `volWindow + 1` closes ending at `lastMs`. */
function windowStart(bars: { ts: Float64Array }, lastMs: number, volWindow: number): number {
  let end = 0;
  while (end < bars.ts.length && bars.ts[end] <= lastMs) end++;
  return bars.ts[Math.max(0, end - volWindow - 1)];
}

/** Bars with `lo < ts <= hi`. */
function countBetween(ts: Float64Array, lo: number, hi: number): number {
  let n = 0;
  for (const t of ts) if (t > lo && t <= hi) n++;
  return n;
}
