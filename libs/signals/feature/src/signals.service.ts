import { Inject, Injectable } from '@nestjs/common';
import { ARTIFACT_STORE, EVENT_BUS, type ArtifactStore, type EventBus } from '@strata/platform-contracts';
import {
  ModelAliasChangedV1,
  TrainModelCommandV1,
  type ImportModelBody,
  type LatestScoreDto,
  type ListModelsQuery,
  type ModelAlias,
  type ModelAliasDto,
  type ModelVersionDto,
  type ScoreBody,
  type ScoreResponse,
  type TrainModelBody,
  type TrainingSpec,
} from '@strata/signals-contracts';
import { type Timeframe } from '@strata/marketdata-contracts';
import { FEATURE_READER, type FeatureReader } from '@strata/features-contracts';
import { uuidv7 } from '@strata/shared-util';
import { SignalAliasesRepository, type AliasChange, type SignalAliasDoc } from './signal-aliases.repository';
import { toModelDto } from './signal-model.dto';
import { SignalModelsRepository, queuedModel } from './signal-models.repository';
import { SignalScoresRepository } from './signal-scores.repository';
import { SignalScoringService } from './signal-scoring.service';
import {
  AliasUnsetError,
  ModelNotFoundError,
  ModelNotReadyError,
  ModelRejectedError,
  SignalDataNotFoundError,
} from './signals.errors';
import { SIGNAL_MODEL_RUNTIME, type SignalModelRuntime } from './signals.ports';

const ALIASES: ModelAlias[] = ['champion', 'challenger'];

/**
 * The API side of signals: queues training (`signals.cmd.train.v1`), imports external ONNX models after checking
 * them against a feature-set version, reads the registry, moves aliases (promote / rollback, each published as
 * `signals.evt.alias.changed.v1`), scores, and serves the latest stored champion score of a series.
 */
@Injectable()
export class SignalsService {
  constructor(
    private readonly models: SignalModelsRepository,
    private readonly aliases: SignalAliasesRepository,
    private readonly scores: SignalScoresRepository,
    private readonly scoring: SignalScoringService,
    @Inject(FEATURE_READER) private readonly features: FeatureReader,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(SIGNAL_MODEL_RUNTIME) private readonly runtime: SignalModelRuntime,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  /** Freezes the spec (feature-set version resolved), stores the queued model and sends the train command. */
  async train(body: TrainModelBody, meta: { correlationId?: string } = {}): Promise<ModelVersionDto> {
    const { from, to } = body.trainWindow;
    if (from !== undefined && to !== undefined && from >= to)
      throw new SignalDataNotFoundError('the training window holds no bars: trainWindow.from must be before to');
    const def = await this.featureSet(body.featureSet.name, body.featureSet.version);
    const spec: TrainingSpec = {
      name: body.name,
      description: body.description,
      featureSet: { name: def.name, version: def.version },
      symbols: body.symbols,
      timeframe: body.timeframe,
      objective: body.objective,
      label: body.label,
      trainWindow: { from: body.trainWindow.from ?? null, to: body.trainWindow.to ?? null },
      walkForward: {
        folds: body.walkForward.folds,
        purge: body.walkForward.purge ?? body.label.horizon,
        embargo: body.walkForward.embargo,
      },
      params: body.params,
      qualityFilter: body.qualityFilter,
    };
    const id = uuidv7();
    const createdAt = new Date().toISOString();
    const doc = await this.models.insert(
      queuedModel(
        id,
        spec,
        def.features.map((f) => f.name),
        createdAt,
      ),
    );
    await this.bus.publish(
      TrainModelCommandV1,
      { modelId: id, spec, requestedAt: createdAt },
      { id, correlationId: meta.correlationId ?? id },
    );
    return toModelDto(doc);
  }

  /** Registers an external ONNX tree model once it passes the input-schema check against the feature-set version. */
  async importModel(body: ImportModelBody): Promise<ModelVersionDto> {
    const def = await this.featureSet(body.featureSet.name, body.featureSet.version);
    const bytes = new Uint8Array(Buffer.from(body.onnxBase64, 'base64'));
    if (bytes.length > 32 * 1024 * 1024)
      throw new ModelRejectedError([{ field: 'onnxBase64', reason: 'larger than 32 MiB' }]);
    const featureNames = def.features.map((f) => f.name);
    const res = this.runtime.inspect(bytes, { featureNames, featureSet: { name: def.name, version: def.version } });
    if (!res.ok) throw new ModelRejectedError(res.problems);
    const artifact = await this.artifacts.put(bytes, { extension: '.onnx' });
    const now = new Date().toISOString();
    const doc = await this.models.insert({
      id: uuidv7(),
      name: body.name,
      description: body.description,
      status: 'completed',
      source: 'imported',
      objective: res.info.objective,
      featureSet: { name: def.name, version: def.version, featureNames },
      spec: null,
      params: { producer: res.info.producer, trees: res.info.nTrees },
      metrics: null,
      importance: null,
      artifact,
      lineage: {
        featureSet: `${def.name}@${def.version}`,
        datasetHash: null,
        codeVersion: res.info.producer,
        trainedAt: now,
        trainWindow: { from: null, to: null },
        rows: 0,
        symbols: [],
      },
      progress: null,
      error: null,
      createdAt: now,
      startedAt: null,
      finishedAt: now,
      attempts: 0,
      claim: null,
      finalEventPublished: true,
    });
    return toModelDto(doc);
  }

  async get(id: string): Promise<ModelVersionDto> {
    const doc = await this.models.get(id);
    if (!doc) throw new ModelNotFoundError(id);
    return toModelDto(doc, await this.aliasesOf(id));
  }

  /** Model versions newest first; with `alias`, the one version holding it (or none). */
  async list(q: ListModelsQuery): Promise<{ items: ModelVersionDto[]; nextCursor: string | null }> {
    if (q.alias) {
      const target = (await this.aliases.get(q.alias))?.modelId;
      const doc = target ? await this.models.get(target) : null;
      const items =
        doc && (!q.status || doc.status === q.status) ? [toModelDto(doc, await this.aliasesOf(doc.id))] : [];
      return { items, nextCursor: null };
    }
    const page = await this.models.page({ limit: q.limit, cursor: q.cursor, status: q.status });
    const holders = await this.holders();
    return {
      items: page.items.map((d) =>
        toModelDto(
          d,
          ALIASES.filter((a) => holders[a] === d.id),
        ),
      ),
      nextCursor: page.nextCursor,
    };
  }

  /** Points `alias` at completed model `id`. */
  async promote(id: string, alias: ModelAlias, meta: { correlationId?: string } = {}): Promise<ModelAliasDto> {
    const doc = await this.models.get(id);
    if (!doc) throw new ModelNotFoundError(id);
    if (doc.status !== 'completed') throw new ModelNotReadyError(id, doc.status, doc.error?.reason);
    const { doc: a, change } = await this.aliases.promote(alias, id);
    await this.announce(alias, change, meta);
    return toAliasDto(a);
  }

  /** Restores the previous holder of `alias`. */
  async rollback(alias: ModelAlias, meta: { correlationId?: string } = {}): Promise<ModelAliasDto> {
    const { doc: a, change } = await this.aliases.rollback(alias);
    await this.announce(alias, change, meta);
    return toAliasDto(a);
  }

  /** An alias with its history. */
  async alias(alias: ModelAlias): Promise<ModelAliasDto> {
    const a = await this.aliases.get(alias);
    return a ? toAliasDto(a) : { alias, modelId: null, history: [] };
  }

  /** `POST /signals/score`. */
  async score(body: ScoreBody): Promise<ScoreResponse> {
    const res =
      'rows' in body
        ? await this.scoring.scoreRows(body.model, body.rows, body.explain)
        : await this.scoring.scoreSeries(
            body.model,
            { symbol: body.symbol, timeframe: body.timeframe, from: body.from, to: body.to },
            body.explain,
          );
    const doc = res.model.doc;
    return {
      modelId: doc.id,
      objective: doc.objective,
      featureSet: { name: doc.featureSet.name, version: doc.featureSet.version },
      scores: res.scores,
      ...(res.ts ? { ts: res.ts.map((t) => new Date(t).toISOString()) } : {}),
      ...(res.explanation ? { explanation: res.explanation } : {}),
    };
  }

  /** The latest stored score of the champion for a series. */
  async latest(symbol: string, timeframe: Timeframe): Promise<LatestScoreDto> {
    const modelId = await this.scoring.aliasTarget('champion');
    if (!modelId) throw new AliasUnsetError('champion');
    const s = await this.scores.latest(modelId, symbol, timeframe);
    if (!s)
      throw new SignalDataNotFoundError(
        `the champion ${modelId} has no stored score for ${symbol} ${timeframe} yet (scores are written when the feature set refreshes)`,
      );
    return {
      symbol,
      timeframe,
      modelId,
      alias: 'champion',
      ts: new Date(s.ts).toISOString(),
      score: s.score,
      scoredAt: s.scoredAt,
    };
  }

  private async announce(alias: ModelAlias, change: AliasChange, meta: { correlationId?: string }): Promise<void> {
    this.scoring.invalidateAlias(alias);
    await this.bus.publish(
      ModelAliasChangedV1,
      {
        alias,
        modelId: change.modelId,
        previousModelId: change.previousModelId,
        action: change.action,
        revision: change.revision,
      },
      { id: `alias.${alias}.${change.revision}`, correlationId: meta.correlationId },
    );
  }

  private async featureSet(name: string, version?: number) {
    try {
      return await this.features.resolveVersion(name, version);
    } catch (e) {
      if ((e as Error).name === 'FeatureSetNotFoundError') throw new SignalDataNotFoundError((e as Error).message);
      throw e;
    }
  }

  private async holders(): Promise<Record<ModelAlias, string | null>> {
    const out = {} as Record<ModelAlias, string | null>;
    for (const a of ALIASES) out[a] = (await this.aliases.get(a))?.modelId ?? null;
    return out;
  }

  private async aliasesOf(id: string): Promise<ModelAlias[]> {
    const h = await this.holders();
    return ALIASES.filter((a) => h[a] === id);
  }
}

function toAliasDto(a: SignalAliasDoc): ModelAliasDto {
  return { alias: a.alias, modelId: a.modelId, history: a.history };
}
