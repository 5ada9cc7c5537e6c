import { Controller, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  BacktestRunCompletedV1,
  BacktestRunFailedV1,
  BacktestRunProgressedV1,
  RunBacktestCommandV1,
  type BacktestRunSpec,
  type SignalModel,
  BACKTEST_SERIES_STORE,
  BACKTEST_SIGNAL_MODELS,
  type BacktestSeriesStore,
  type BacktestSignalModels,
} from '@strata/backtests-contracts';
import {
  EVENT_BUS,
  VersionConflictError,
  type EventBus,
  type PayloadOf,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  BacktestRun,
  checkLookAhead,
  InvalidBacktestDataError,
  regimeColumns,
  regimeNamesOf,
  signalNamesOf,
  StrategyDefinitionError,
  toResultV1,
  type BacktestData,
  type BacktestRequest,
  type BenchmarkSeries,
  type SymbolBars,
} from '@strata/backtests-domain';
import { BusContext, OnCommand, WorkQueueController, workQueueOptions } from '@strata/platform-messaging';
import { ReadRegimeHistoryCommandV1 } from '@strata/regime-contracts';
import { uuidv7 } from '@strata/shared-util';
import { hostname } from 'node:os';
import { BACKTEST_MARKET_DATA, type BacktestMarketData } from './backtests.ports';
import { BacktestRunsRepository, queuedRun, type BacktestRunDoc } from './backtest-runs.repository';
import { BACKTEST_WORKER_OPTIONS } from './backtests.tokens';

/** The run command's payload. */
export type RunBacktestCommand = PayloadOf<typeof RunBacktestCommandV1>;

/** Tuning of {@link BacktestWorker}; times in ms. */
export interface BacktestWorkerOptions {
  /** Worker name in claims and progress events (default `<host>:<pid>:<random>`). */
  workerId?: string;
  /** A claim is void this long after its last heartbeat (default 60 000). */
  leaseMs?: number;
  /** Heartbeat period (default leaseMs / 3). */
  heartbeatMs?: number;
  /** Timeline steps simulated between heartbeats / progress checks (default 20 000). */
  sliceSteps?: number;
  /** Least time between two progress events of a run (default 1 000). */
  progressIntervalMs?: number;
  /** Bus ack wait of the command consumer (default 900 000: runs are long; crashes are covered by the lease sweep). */
  ackWaitMs?: number;
  /** Deliveries of one command before it is given up (default 20). */
  maxDeliver?: number;
  /** Redelivery backoff (default [1 000, 5 000, 15 000, 30 000]). */
  backoffMs?: number[];
  /** Period of the recovery sweep (default leaseMs; 0 disables it). */
  sweepIntervalMs?: number;
  /** A queued run this old is announced again by the sweep (default 60 000). */
  requeueAfterMs?: number;
  /** Test hook: called after each simulated slice with the run id; may block (simulates a hung or killed worker). */
  afterSlice?: (runId: string, fraction: number) => Promise<void> | void;
}

/** Defaults of {@link BacktestWorkerOptions}. */
export function resolveWorkerOptions(
  o: BacktestWorkerOptions = {},
): Required<Omit<BacktestWorkerOptions, 'afterSlice'>> & Pick<BacktestWorkerOptions, 'afterSlice'> {
  const leaseMs = o.leaseMs ?? 60_000;
  return {
    workerId: o.workerId ?? `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`,
    leaseMs,
    heartbeatMs: o.heartbeatMs ?? Math.max(10, Math.floor(leaseMs / 3)),
    sliceSteps: o.sliceSteps ?? 20_000,
    progressIntervalMs: o.progressIntervalMs ?? 1_000,
    ackWaitMs: o.ackWaitMs ?? 900_000,
    maxDeliver: o.maxDeliver ?? 20,
    backoffMs: o.backoffMs ?? [1_000, 5_000, 15_000, 30_000],
    sweepIntervalMs: o.sweepIntervalMs ?? leaseMs,
    requeueAfterMs: o.requeueAfterMs ?? 60_000,
    afterSlice: o.afterSlice,
  };
}

/** Another worker holds a live claim on the run: the delivery is retried later (thrown to the bus). */
export class ClaimHeldError extends Error {
  constructor(runId: string, holder: string, leaseUntil: string) {
    super(`backtest ${runId} is being run by ${holder} (lease until ${leaseUntil}); retrying later`);
    this.name = 'ClaimHeldError';
  }
}

/** This worker's claim was taken over (its lease had expired): it stops without writing a result. */
class LostClaimError extends Error {
  constructor(readonly runId: string) {
    super(`lost the claim on backtest ${runId}`);
    this.name = 'LostClaimError';
  }
}

/** A symbol of the universe has no bars. */
class NoDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoDataError';
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Envelope ids of the final events: one per run, so a republished final event is deduplicated by the bus. */
export const completedEventId = (runId: string): string => `${runId}.completed`;
export const failedEventId = (runId: string): string => `${runId}.failed`;

/**
 * Runs backtest commands. Idempotent and safe with any number of workers sharing the queue:
 * - a run is claimed by a compare-and-set on its document (`_version`), with a lease kept alive by heartbeats;
 * - a delivery for a run another worker holds (live lease) is thrown back to the bus and retried later; a run whose
 *   holder died (lease expired) is taken over by the next delivery, or announced again by the recovery sweep;
 * - completion is one compare-and-set that also checks the claim token: a worker that lost its claim (it hung past
 *   its lease, then woke up) cannot complete, and its series rows are pruned; so a run completes exactly once;
 * - a delivery for a completed or failed run only makes sure its final event went out (same envelope id, so the bus
 *   deduplicates it), never computes again.
 */
@Injectable()
export class BacktestWorker {
  private readonly logger = new Logger('backtest-worker');
  readonly options: ReturnType<typeof resolveWorkerOptions>;

  constructor(
    private readonly runs: BacktestRunsRepository,
    @Inject(BACKTEST_MARKET_DATA) private readonly marketData: BacktestMarketData,
    @Inject(BACKTEST_SERIES_STORE) private readonly series: BacktestSeriesStore,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(BACKTEST_WORKER_OPTIONS) options: BacktestWorkerOptions,
    @Optional() @Inject(BACKTEST_SIGNAL_MODELS) private readonly signalModels: BacktestSignalModels | null = null,
  ) {
    this.options = resolveWorkerOptions(options);
  }

  /** Handles one delivery of `backtest.cmd.run.v1`. Resolves = acknowledge; rejects = redeliver later. */
  async handle(cmd: RunBacktestCommand, ctx: { deliveryCount: number }): Promise<void> {
    await this.ensureRun(cmd);
    for (;;) {
      const doc = await this.runs.get(cmd.runId);
      if (!doc) throw new Error(`backtest ${cmd.runId} vanished`);
      if (doc.status === 'completed' || doc.status === 'failed') return this.publishFinal(doc);
      const now = Date.now();
      if (doc.status === 'running' && doc.claim && Date.parse(doc.claim.leaseUntil) > now) {
        // The holder is alive (heartbeating). On the last allowed delivery, let it be: the sweep covers a later crash.
        if (ctx.deliveryCount >= this.options.maxDeliver) return;
        throw new ClaimHeldError(cmd.runId, doc.claim.workerId, doc.claim.leaseUntil);
      }
      const token = uuidv7();
      let claimed: StoredDocument<BacktestRunDoc>;
      try {
        claimed = await this.runs.update(doc.id, doc._version, {
          set: {
            status: 'running',
            claim: {
              token,
              workerId: this.options.workerId,
              claimedAt: iso(now),
              leaseUntil: iso(now + this.options.leaseMs),
            },
            attempts: doc.attempts + 1,
            startedAt: doc.startedAt ?? iso(now),
            progress: { phase: 'loading', fraction: 0 },
          },
        });
      } catch (e) {
        if (e instanceof VersionConflictError) continue; // someone else moved first: look again
        throw e;
      }
      if (doc.claim)
        this.logger.warn({
          msg: 'took over an expired claim',
          runId: doc.id,
          previous: doc.claim.workerId,
          attempt: claimed.attempts,
        });
      return this.execute(claimed, token, ctx);
    }
  }

  /** Inserts the run document when the command arrives without one (a command published by another service). */
  private async ensureRun(cmd: RunBacktestCommand): Promise<void> {
    if (await this.runs.get(cmd.runId)) return;
    await this.runs
      .insert(queuedRun(cmd.runId, cmd.spec, cmd.spec.strategy?.id ?? null, cmd.requestedAt))
      .catch(async (e: unknown) => {
        if (!(await this.runs.get(cmd.runId))) throw e; // not a duplicate insert: a real failure
      });
  }

  private async execute(
    doc: StoredDocument<BacktestRunDoc>,
    token: string,
    ctx: { deliveryCount: number },
  ): Promise<void> {
    const lease = new Lease(this.runs, doc, token, this.options.leaseMs);
    const started = Date.now();
    const spec = doc.spec;
    let lastProgress = 0;
    let barsProcessed = 0;
    const progress = async (
      phase: 'loading' | 'signals' | 'simulating' | 'lookahead' | 'persisting',
      fraction: number,
      force = false,
    ): Promise<void> => {
      const now = Date.now();
      if (force || now - lease.lastBeat >= this.options.heartbeatMs) await lease.beat({ phase, fraction });
      if (now - lastProgress >= this.options.progressIntervalMs) {
        lastProgress = now;
        await this.bus.publish(
          BacktestRunProgressedV1,
          { runId: doc.id, phase, fraction, barsProcessed, workerId: this.options.workerId },
          { correlationId: doc.id },
        );
      }
    };
    try {
      const { data, benchmark } = await this.load(spec);
      const signalModels = await this.resolveSignalModels(spec);
      await progress('signals', 0.05, true);
      const request: BacktestRequest = {
        definition: spec.definition,
        params: spec.params,
        data,
        initialCapital: spec.initialCapital,
        execution: spec.execution,
        from: spec.from,
        to: spec.to,
        riskFreeRate: spec.riskFreeRate,
        benchmark,
        signalModels,
      };
      const run = new BacktestRun(request);
      run.signals();
      const sim = run.simulation;
      const weight = spec.lookAheadCheck.enabled ? 0.6 : 0.85;
      for (;;) {
        const done = run.advance(this.options.sliceSteps);
        barsProcessed = sim.barsProcessed;
        const fraction = 0.1 + (weight * sim.step) / Math.max(1, sim.steps);
        await this.options.afterSlice?.(doc.id, fraction);
        await progress('simulating', fraction);
        if (done) break;
        await yieldToLoop();
      }
      const outcome = run.outcome();
      let lookAhead = null;
      if (spec.lookAheadCheck.enabled) {
        await progress('lookahead', 0.1 + weight, true);
        lookAhead = checkLookAhead({ ...request, trustedData: true }, { samples: spec.lookAheadCheck.samples });
      }
      await progress('persisting', 0.95, true);
      await this.series.write(doc.id, token, outcome);
      const result = toResultV1(outcome, {
        data,
        adjust: spec.definition.universe.adjust,
        benchmark: benchmark?.symbol ?? null,
        lookAhead,
        durationMs: Date.now() - started,
        signalModels,
      });
      const completed = await lease.finish({
        status: 'completed',
        result,
        seriesAttempt: token,
        claim: null,
        finishedAt: iso(Date.now()),
        progress: { phase: 'persisting', fraction: 1 },
      });
      await this.series.prune(doc.id, token);
      this.logger.log({
        msg: 'backtest completed',
        runId: doc.id,
        ms: result.durationMs,
        trades: result.counts.trades,
        fingerprint: result.fingerprint,
      });
      await this.publishFinal(completed);
    } catch (e) {
      if (e instanceof LostClaimError) {
        // Another worker owns the run now; whatever we wrote under our token is not the result.
        this.logger.warn({ msg: 'lost the claim; abandoning', runId: doc.id, workerId: this.options.workerId });
        const now = await this.runs.get(doc.id);
        if (now?.status === 'completed' && now.seriesAttempt) await this.series.prune(doc.id, now.seriesAttempt);
        return;
      }
      const reason =
        e instanceof StrategyDefinitionError
          ? 'invalid_strategy'
          : e instanceof InvalidBacktestDataError
            ? 'invalid_data'
            : e instanceof NoDataError
              ? 'no_data'
              : null;
      if (reason === null && ctx.deliveryCount < this.options.maxDeliver) {
        // Possibly transient (store, bus): give the run back and let the bus retry.
        await lease.release().catch(() => undefined);
        throw e;
      }
      const failed = await lease
        .finish({
          status: 'failed',
          error: { reason: reason ?? 'internal', detail: (e as Error).message ?? String(e) },
          claim: null,
          finishedAt: iso(Date.now()),
        })
        .catch((err: unknown) => {
          if (err instanceof LostClaimError) return null;
          throw err;
        });
      if (failed) {
        this.logger.warn({
          msg: 'backtest failed',
          runId: doc.id,
          reason: reason ?? 'internal',
          detail: (e as Error).message,
        });
        await this.publishFinal(failed);
      }
    }
  }

  private async load(spec: BacktestRunSpec): Promise<{ data: BacktestData; benchmark: BenchmarkSeries | null }> {
    const { symbols, timeframe, adjust, benchmark } = spec.definition.universe;
    const { qualityFilter } = spec;
    const out: SymbolBars[] = [];
    const regimes = regimeNamesOf(spec.definition);
    for (const symbol of symbols) {
      const bars = await this.marketData.bars({ symbol, timeframe, adjust, qualityFilter });
      if (!bars) throw new NoDataError(`no ${timeframe} bars stored for ${symbol}`);
      if (regimes.length > 0) {
        // The regime service's served (filtered, never rewritten) history, read as of each bar.
        const { points } = await this.bus.request(ReadRegimeHistoryCommandV1, { symbol, timeframe });
        bars.external = { ...bars.external, ...regimeColumns(bars.ts, points, regimes) };
      }
      out.push(bars);
    }
    let bench: BenchmarkSeries | null = null;
    if (benchmark) {
      const b =
        out.find((x) => x.symbol === benchmark) ??
        (await this.marketData.bars({ symbol: benchmark, timeframe, adjust, qualityFilter }));
      if (b) bench = { symbol: benchmark, ts: b.ts, close: b.close };
    }
    return { data: { timeframe, symbols: out }, benchmark: bench };
  }

  /**
   * The model version behind each `{ signal: alias }` of the definition, resolved once when the run starts: every
   * bar of the run (and of its look-ahead re-runs) is scored by the same version, recorded in the result.
   */
  private async resolveSignalModels(spec: BacktestRunSpec): Promise<Record<string, SignalModel>> {
    const out: Record<string, SignalModel> = {};
    for (const alias of signalNamesOf(spec.definition)) {
      const model = this.signalModels ? await this.signalModels.resolve(alias) : null;
      if (!model) {
        throw new StrategyDefinitionError([
          {
            path: `signal:${alias}`,
            reason: 'unknown_signal',
            message: this.signalModels
              ? `no model holds the alias ${alias}; promote one first`
              : 'ML signals are not available in this process',
          },
        ]);
      }
      out[alias] = model;
    }
    return out;
  }

  /** Publishes the final event of a finished run if that has not been recorded yet (same envelope id every time). */
  private async publishFinal(doc: StoredDocument<BacktestRunDoc>): Promise<void> {
    if (doc.finalEventPublished) return;
    if (doc.status === 'completed' && doc.result) {
      const r = doc.result;
      await this.bus.publish(
        BacktestRunCompletedV1,
        {
          runId: doc.id,
          strategyId: doc.spec.strategy?.id ?? null,
          strategyVersion: doc.spec.strategy?.version ?? null,
          resultSchemaVersion: 1,
          fingerprint: r.fingerprint,
          headline: {
            totalReturn: r.kpis.totalReturn,
            annualReturn: r.kpis.annualReturn,
            sharpe: r.kpis.sharpe,
            maxDrawdown: r.kpis.maxDrawdown,
            trades: r.counts.trades,
            finalEquity: r.finalEquity,
          },
          lookAheadPassed: r.lookAhead ? r.lookAhead.passed : null,
        },
        { id: completedEventId(doc.id), correlationId: doc.id },
      );
    } else if (doc.status === 'failed' && doc.error) {
      await this.bus.publish(
        BacktestRunFailedV1,
        { runId: doc.id, reason: doc.error.reason, detail: doc.error.detail },
        { id: failedEventId(doc.id), correlationId: doc.id },
      );
    } else return;
    await this.runs.runs.updateWithRetry(doc.id, (cur) =>
      cur.finalEventPublished ? null : { set: { finalEventPublished: true } },
    );
  }

  /**
   * Recovery sweep: announces again (with a per-attempt envelope id, so several sweeping workers publish once) runs
   * whose claim expired without completion, and runs queued for longer than `requeueAfterMs` (e.g. the API stopped
   * between storing a run and publishing its command). Returns how many commands were published.
   */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (const status of ['running', 'queued'] as const) {
      const page = await this.runs.stale(status, 100);
      for (const doc of page.items) {
        const expired =
          status === 'running'
            ? !doc.claim || Date.parse(doc.claim.leaseUntil) < now
            : Date.parse(doc.createdAt) < now - this.options.requeueAfterMs;
        if (!expired) continue;
        await this.bus.publish(
          RunBacktestCommandV1,
          { runId: doc.id, spec: doc.spec, requestedAt: doc.createdAt },
          { id: `${doc.id}.retry-${doc.attempts}`, correlationId: doc.id },
        );
        n++;
      }
    }
    return n;
  }
}

/** The lease of one claim: heartbeats, and the final compare-and-set, all checking the claim token. */
class Lease {
  lastBeat = Date.now();
  private version: number;

  constructor(
    private readonly runs: BacktestRunsRepository,
    private readonly doc: StoredDocument<BacktestRunDoc>,
    private readonly token: string,
    private readonly leaseMs: number,
  ) {
    this.version = doc._version;
  }

  /** Extends the lease (and records progress). Throws {@link LostClaimError} when the claim is no longer ours. */
  async beat(progress: { phase: string; fraction: number }): Promise<void> {
    const now = Date.now();
    const claim = { ...this.doc.claim!, leaseUntil: iso(now + this.leaseMs) };
    await this.cas({ set: { claim, progress } });
    this.lastBeat = now;
  }

  /** Final transition (completed / failed), only while the claim is ours. */
  finish(set: Partial<BacktestRunDoc>): Promise<StoredDocument<BacktestRunDoc>> {
    return this.cas({ set });
  }

  /** Gives the run back (status queued, no claim) so that a redelivery can claim it at once. */
  async release(): Promise<void> {
    await this.cas({ set: { status: 'queued', claim: null, progress: null } });
  }

  private async cas(change: { set: Partial<BacktestRunDoc> }): Promise<StoredDocument<BacktestRunDoc>> {
    for (;;) {
      try {
        const d = await this.runs.update(this.doc.id, this.version, change);
        this.version = d._version;
        return d;
      } catch (e) {
        if (!(e instanceof VersionConflictError)) throw e;
        const cur = await this.runs.get(this.doc.id);
        if (!cur || cur.claim?.token !== this.token || cur.status !== 'running') throw new LostClaimError(this.doc.id);
        this.version = cur._version; // our own claim, changed by nobody else in a way that matters: retry
      }
    }
  }
}

/**
 * The backtest work queue on the bus: `@OnCommand(backtest.cmd.run.v1)` bound by the bus transport as a durable
 * work-queue consumer `backtests__backtest_cmd_run__v1` shared by every worker process (prefetch 1: one run at a time
 * per worker; the worker's ack wait, max deliveries and backoff; a throw means redelivery), plus the periodic
 * recovery sweep of runs whose holder died.
 */
@Controller()
export class BacktestWorkerController extends WorkQueueController<BacktestWorker> {
  constructor(worker: BacktestWorker) {
    super(worker, 'backtest-worker');
  }

  /** One delivery of the command (resolves = ack, rejects = redeliver later). */
  @OnCommand(RunBacktestCommandV1, (c: BacktestWorkerController) => workQueueOptions(c.worker.options))
  run(@Payload() cmd: RunBacktestCommand, @Ctx() ctx: BusContext): Promise<void> {
    return this.worker.handle(cmd, { deliveryCount: ctx.getDeliveryCount() });
  }
}
