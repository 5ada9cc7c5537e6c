import { Controller, Inject, Injectable, Logger } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  ARTIFACT_STORE,
  EVENT_BUS,
  VersionConflictError,
  type ArtifactStore,
  type EventBus,
  type PayloadOf,
  type StoredDocument,
} from '@strata/platform-contracts';
import { ModelTrainedV1, ModelTrainingFailedV1, TrainModelCommandV1 } from '@strata/signals-contracts';
import { FEATURE_READER, type FeatureReader } from '@strata/features-contracts';
import { BusContext, OnCommand, WorkQueueController, workQueueOptions } from '@strata/platform-messaging';
import { uuidv7 } from '@strata/shared-util';
import { hostname } from 'node:os';
import { SignalModelsRepository, queuedModel, type SignalModelDoc } from './signal-models.repository';
import { SIGNAL_MODEL_RUNTIME, type SignalModelRuntime } from './signals.ports';
import { LeakageDetectedError } from '@strata/signals-domain';
import {
  buildNullWorldFolds,
  buildPooledDataset,
  buildWalkForwardFolds,
  datasetHash,
  evaluateFolds,
  fitFinal,
  gainImportance,
  InsufficientDataError,
} from './signals-training';
import { SIGNALS_WORKER_OPTIONS } from './signals.tokens';

/** The train command's payload. */
export type TrainModelCommand = PayloadOf<typeof TrainModelCommandV1>;

/** Tuning of {@link SignalsTrainWorker}; times in ms. */
export interface SignalsWorkerOptions {
  workerId?: string;
  /** A claim is void this long after it was taken (default 30 min: training runs without heartbeats). */
  leaseMs?: number;
  /** Bus ack wait of the command consumer (default 1 h). */
  ackWaitMs?: number;
  /** Deliveries before a command is given up (default 10). */
  maxDeliver?: number;
  /** Redelivery backoff (default [1 000, 5 000, 15 000, 30 000]). */
  backoffMs?: number[];
  /** Period of the recovery sweep (default 60 000; 0 disables it). */
  sweepIntervalMs?: number;
  /** A queued model this old is announced again by the sweep (default 60 000). */
  requeueAfterMs?: number;
  /** Code version recorded in lineage (default `STRATA_CODE_VERSION` or `GIT_SHA` from the environment, else `strata@0.1.0`). */
  codeVersion?: string;
}

/** Defaults of {@link SignalsWorkerOptions}. */
export function resolveSignalsWorkerOptions(o: SignalsWorkerOptions = {}): Required<SignalsWorkerOptions> {
  return {
    workerId: o.workerId ?? `${hostname()}:${process.pid}:${uuidv7().slice(-8)}`,
    leaseMs: o.leaseMs ?? 30 * 60_000,
    ackWaitMs: o.ackWaitMs ?? 60 * 60_000,
    maxDeliver: o.maxDeliver ?? 10,
    backoffMs: o.backoffMs ?? [1_000, 5_000, 15_000, 30_000],
    sweepIntervalMs: o.sweepIntervalMs ?? 60_000,
    requeueAfterMs: o.requeueAfterMs ?? 60_000,
    codeVersion: o.codeVersion ?? process.env.STRATA_CODE_VERSION ?? process.env.GIT_SHA ?? 'strata@0.1.0',
  };
}

/** Another worker holds a live claim: thrown to the bus so the delivery is retried later. */
export class TrainingClaimHeldError extends Error {
  constructor(modelId: string, holder: string) {
    super(`model ${modelId} is being trained by ${holder}; retrying later`);
    this.name = 'TrainingClaimHeldError';
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Envelope ids of the final events: one per model, so a republished final event is deduplicated by the bus. */
export const trainedEventId = (modelId: string): string => `${modelId}.trained`;
/** Envelope id of a model's training-failed event. */
export const trainingFailedEventId = (modelId: string): string => `${modelId}.failed`;

/**
 * Trains model versions from `signals.cmd.train.v1` (a work queue shared by every worker). Idempotent by model id:
 * - a model is claimed by compare-and-set on its document (status running + claim token and lease);
 * - a delivery for a model another worker holds (live lease) is thrown back to the bus and retried later; an expired
 *   claim is taken over;
 * - completion is one compare-and-set checking the claim token, so a model completes once; a delivery for a
 *   completed or failed model only makes sure its final event went out (same envelope id), never trains again.
 * Steps: dataset from the feature store's training builder (pooled over symbols) → walk-forward evaluation with both
 * leakage guards (label shuffle by blocks; null world: the same folds over permuted bars, features recomputed) → final
 * fit → ONNX export → artifact store (content-addressed) → registry document. A guard that fails ends the model as
 * `failed` with reason `leakage_detected` (it can never be promoted).
 */
@Injectable()
export class SignalsTrainWorker {
  private readonly logger = new Logger('signals-worker');
  readonly options: Required<SignalsWorkerOptions>;

  constructor(
    private readonly models: SignalModelsRepository,
    @Inject(FEATURE_READER) private readonly features: FeatureReader,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(SIGNAL_MODEL_RUNTIME) private readonly runtime: SignalModelRuntime,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(SIGNALS_WORKER_OPTIONS) options: SignalsWorkerOptions,
  ) {
    this.options = resolveSignalsWorkerOptions(options);
  }

  /** Handles one delivery of `signals.cmd.train.v1`. Resolves = acknowledge; rejects = redeliver later. */
  async handle(cmd: TrainModelCommand, ctx: { deliveryCount: number }): Promise<void> {
    await this.ensureModel(cmd);
    for (;;) {
      const doc = await this.models.get(cmd.modelId);
      if (!doc) throw new Error(`model ${cmd.modelId} vanished`);
      if (doc.status === 'completed' || doc.status === 'failed') return this.publishFinal(doc);
      const now = Date.now();
      if (doc.status === 'running' && doc.claim && Date.parse(doc.claim.leaseUntil) > now) {
        if (ctx.deliveryCount >= this.options.maxDeliver) return;
        throw new TrainingClaimHeldError(cmd.modelId, doc.claim.workerId);
      }
      const token = uuidv7();
      let claimed: StoredDocument<SignalModelDoc>;
      try {
        claimed = await this.models.update(doc.id, doc._version, {
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
            progress: { phase: 'dataset', fraction: 0 },
          },
        });
      } catch (e) {
        if (e instanceof VersionConflictError) continue;
        throw e;
      }
      return this.execute(claimed, token, ctx);
    }
  }

  /** Inserts the model document when the command arrives without one (published by another service). */
  private async ensureModel(cmd: TrainModelCommand): Promise<void> {
    if (await this.models.get(cmd.modelId)) return;
    const def = await this.features
      .resolveVersion(cmd.spec.featureSet.name, cmd.spec.featureSet.version)
      .catch(() => null);
    await this.models
      .insert(queuedModel(cmd.modelId, cmd.spec, def ? def.features.map((f) => f.name) : [], cmd.requestedAt))
      .catch(async (e: unknown) => {
        if (!(await this.models.get(cmd.modelId))) throw e;
      });
  }

  private async execute(
    doc: StoredDocument<SignalModelDoc>,
    token: string,
    ctx: { deliveryCount: number },
  ): Promise<void> {
    let version = doc._version;
    const cas = async (set: Partial<SignalModelDoc>): Promise<StoredDocument<SignalModelDoc> | null> => {
      for (;;) {
        try {
          const d = await this.models.update(doc.id, version, { set });
          version = d._version;
          return d;
        } catch (e) {
          if (!(e instanceof VersionConflictError)) throw e;
          const cur = await this.models.get(doc.id);
          if (!cur || cur.claim?.token !== token || cur.status !== 'running') return null; // lost the claim
          version = cur._version;
        }
      }
    };
    const spec = doc.spec!;
    const started = Date.now();
    try {
      const ds = await buildPooledDataset(this.features, spec);
      if (ds.nRows === 0)
        throw new InsufficientDataError(
          `no labelled rows for ${spec.symbols.join(', ')} ${spec.timeframe} in the train window`,
        );
      if (!(await cas({ progress: { phase: 'walk_forward', fraction: 0.1 } }))) return;
      await yieldToLoop();
      const folds = await buildWalkForwardFolds(this.features, spec, ds);
      await yieldToLoop();
      // The null world of the leakage guard: the same folds over permuted bars with features recomputed (binary only).
      const nullFolds = spec.objective === 'binary' ? [await buildNullWorldFolds(this.features, spec, folds, 0)] : [];
      await yieldToLoop();
      const metrics = evaluateFolds(folds, ds.featureNames, spec, nullFolds);
      if (!(await cas({ progress: { phase: 'final_fit', fraction: 0.7 } }))) return;
      await yieldToLoop();
      const { model, bestIteration } = fitFinal(ds, spec);
      metrics.bestIteration = bestIteration;
      const bytes = this.runtime.exportModel(model, { modelId: doc.id, featureSet: spec.featureSet });
      // The exported file must be accepted by the same check as any import, before it is registered.
      const check = this.runtime.inspect(bytes, { featureNames: ds.featureNames, featureSet: spec.featureSet });
      if (!check.ok) throw new Error(`exported model failed its own import check: ${JSON.stringify(check.problems)}`);
      const artifact = await this.artifacts.put(bytes, { extension: '.onnx' });
      const trainedAt = iso(Date.now());
      const completed = await cas({
        status: 'completed',
        metrics,
        importance: gainImportance(model),
        artifact,
        featureSet: { name: spec.featureSet.name, version: spec.featureSet.version, featureNames: ds.featureNames },
        lineage: {
          featureSet: `${spec.featureSet.name}@${spec.featureSet.version}`,
          datasetHash: datasetHash(ds),
          codeVersion: this.options.codeVersion,
          trainedAt,
          trainWindow: spec.trainWindow,
          rows: ds.nRows,
          symbols: spec.symbols,
        },
        progress: { phase: 'registered', fraction: 1 },
        claim: null,
        finishedAt: trainedAt,
      });
      if (!completed) return;
      this.logger.log({
        msg: 'model trained',
        modelId: doc.id,
        rows: ds.nRows,
        ms: Date.now() - started,
        auc: metrics.summary.auc,
        sha256: artifact.sha256,
      });
      await this.publishFinal(completed);
    } catch (e) {
      const reason =
        e instanceof LeakageDetectedError
          ? 'leakage_detected'
          : e instanceof InsufficientDataError
            ? 'insufficient_data'
            : e instanceof RangeError
              ? 'invalid_spec'
              : (e as Error).name === 'FeatureSetNotFoundError'
                ? 'no_feature_set'
                : null;
      if (reason === null && ctx.deliveryCount < this.options.maxDeliver) {
        // Possibly transient (store, bus): give the model back and let the bus retry.
        await cas({ status: 'queued', claim: null, progress: null }).catch(() => undefined);
        throw e;
      }
      const failed = await cas({
        status: 'failed',
        error: { reason: reason ?? 'internal', detail: (e as Error).message ?? String(e) },
        claim: null,
        finishedAt: iso(Date.now()),
      });
      if (failed) {
        this.logger.warn({
          msg: 'training failed',
          modelId: doc.id,
          reason: reason ?? 'internal',
          detail: (e as Error).message,
        });
        await this.publishFinal(failed);
      }
    }
  }

  /** Publishes the final event of a finished model unless recorded (same envelope id every time). */
  private async publishFinal(doc: StoredDocument<SignalModelDoc>): Promise<void> {
    if (doc.finalEventPublished) return;
    if (doc.status === 'completed' && doc.artifact) {
      await this.bus.publish(
        ModelTrainedV1,
        {
          modelId: doc.id,
          name: doc.name,
          objective: doc.objective,
          featureSet: { name: doc.featureSet.name, version: doc.featureSet.version },
          artifact: { uri: doc.artifact.uri, sha256: doc.artifact.sha256 },
          meanAuc: doc.metrics?.summary.auc ?? null,
          meanIc: doc.metrics?.summary.ic ?? null,
        },
        { id: trainedEventId(doc.id), correlationId: doc.id },
      );
    } else if (doc.status === 'failed' && doc.error) {
      await this.bus.publish(
        ModelTrainingFailedV1,
        { modelId: doc.id, reason: doc.error.reason, detail: doc.error.detail },
        { id: trainingFailedEventId(doc.id), correlationId: doc.id },
      );
    } else return;
    await this.models.models.updateWithRetry(doc.id, (cur) =>
      cur.finalEventPublished ? null : { set: { finalEventPublished: true } },
    );
  }

  /**
   * Recovery sweep: announces again models whose claim expired without completion and models queued for longer than
   * `requeueAfterMs` (per-attempt envelope ids, so several sweeping workers publish once). Returns how many.
   */
  async sweep(now = Date.now()): Promise<number> {
    let n = 0;
    for (const status of ['running', 'queued'] as const) {
      const page = await this.models.stale(status, 100);
      for (const doc of page.items) {
        if (doc.source !== 'trained' || !doc.spec) continue;
        const expired =
          status === 'running'
            ? !doc.claim || Date.parse(doc.claim.leaseUntil) < now
            : Date.parse(doc.createdAt) < now - this.options.requeueAfterMs;
        if (!expired) continue;
        await this.bus.publish(
          TrainModelCommandV1,
          { modelId: doc.id, spec: doc.spec, requestedAt: doc.createdAt },
          { id: `${doc.id}.retry-${doc.attempts}`, correlationId: doc.id },
        );
        n++;
      }
    }
    return n;
  }
}

/**
 * The training work queue on the bus: `@OnCommand(signals.cmd.train.v1)` bound by the bus transport as a durable
 * work-queue consumer `signals__signals_cmd_train__v1` shared by every worker (prefetch 1: one model at a time per
 * worker; the worker's ack wait, max deliveries and backoff; a throw = redelivery), plus the periodic recovery sweep.
 */
@Controller()
export class SignalsTrainController extends WorkQueueController<SignalsTrainWorker> {
  constructor(worker: SignalsTrainWorker) {
    super(worker, 'signals-worker');
  }

  /** One delivery of the command (resolves = ack, rejects = redeliver later). */
  @OnCommand(TrainModelCommandV1, (c: SignalsTrainController) => workQueueOptions(c.worker.options))
  train(@Payload() cmd: TrainModelCommand, @Ctx() ctx: BusContext): Promise<void> {
    return this.worker.handle(cmd, { deliveryCount: ctx.getDeliveryCount() });
  }
}
