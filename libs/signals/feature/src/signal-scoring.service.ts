import { Inject, Injectable } from '@nestjs/common';
import { ModelAliasSchema, type ModelAlias } from '@strata/signals-contracts';
import { ARTIFACT_STORE, type ArtifactStore, type StoredDocument } from '@strata/platform-contracts';
import { type Timeframe } from '@strata/marketdata-contracts';
import { featureRows, type TreeEnsemble } from '@strata/signals-domain';
import { FEATURE_READER, type FeatureReader } from '@strata/features-contracts';
import { SignalAliasesRepository } from './signal-aliases.repository';
import { SignalModelsRepository, type SignalModelDoc } from './signal-models.repository';
import {
  AliasUnsetError,
  ExplanationUnavailableError,
  ModelNotFoundError,
  ModelNotReadyError,
  ScoreInputError,
  SignalDataNotFoundError,
} from './signals.errors';
import { SIGNAL_MODEL_RUNTIME, type SignalModelRuntime, type SignalModelScorer } from './signals.ports';
import { explainRows, type RowExplanation } from './signals-training';

/** A model version ready to score: its document and open scorer. */
export interface ResolvedModel {
  doc: StoredDocument<SignalModelDoc>;
  scorer: SignalModelScorer;
  /** The alias the request named, if any. */
  alias: ModelAlias | null;
}

/** Scores of one request. `scores[i]` is null where the row could not be scored (series: a warm-up bar). */
export interface ScoreResult {
  model: ResolvedModel;
  scores: (number | null)[];
  ts?: number[];
  explanation?: RowExplanation;
}

/** How long an alias → model id lookup is reused (ms). Changes made through this process invalidate it at once. */
const ALIAS_TTL_MS = 1000;

/**
 * Scoring with registered models: resolves a model reference (version id or alias), opens (once, cached by the
 * runtime) the model's session, and scores raw feature rows or a stored feature series. Completed model documents
 * are immutable, so they are cached by id; alias lookups are cached for {@link ALIAS_TTL_MS}. Point-in-time: a score
 * at bar t reads the features of bar t only.
 */
@Injectable()
export class SignalScoringService {
  private readonly docs = new Map<string, StoredDocument<SignalModelDoc>>();
  private readonly aliasCache = new Map<ModelAlias, { modelId: string | null; until: number }>();

  constructor(
    private readonly models: SignalModelsRepository,
    private readonly aliases: SignalAliasesRepository,
    @Inject(FEATURE_READER) private readonly features: FeatureReader,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(SIGNAL_MODEL_RUNTIME) private readonly runtime: SignalModelRuntime,
  ) {}

  /** Forgets a cached alias lookup (after a promote / rollback). */
  invalidateAlias(alias: ModelAlias): void {
    this.aliasCache.delete(alias);
  }

  /** The model id an alias points at (null when unset). */
  async aliasTarget(alias: ModelAlias): Promise<string | null> {
    const hit = this.aliasCache.get(alias);
    if (hit && hit.until > Date.now()) return hit.modelId;
    const doc = await this.aliases.get(alias);
    const modelId = doc?.modelId ?? null;
    this.aliasCache.set(alias, { modelId, until: Date.now() + ALIAS_TTL_MS });
    return modelId;
  }

  /** A completed model version by id or alias, with its scorer. */
  async resolve(ref: string): Promise<ResolvedModel> {
    const parsedAlias = ModelAliasSchema.safeParse(ref);
    const alias = parsedAlias.success ? parsedAlias.data : null;
    let id = ref;
    if (alias) {
      const target = await this.aliasTarget(alias);
      if (!target) throw new AliasUnsetError(alias);
      id = target;
    }
    let doc = this.docs.get(id);
    if (!doc) {
      const d = await this.models.get(id);
      if (!d) throw new ModelNotFoundError(id);
      if (d.status !== 'completed' || !d.artifact) throw new ModelNotReadyError(id, d.status);
      doc = d;
      this.docs.set(id, d);
    }
    const artifact = doc.artifact!;
    const expect = {
      featureNames: doc.featureSet.featureNames,
      featureSet: { name: doc.featureSet.name, version: doc.featureSet.version },
    };
    const scorer = await this.runtime.scorer(
      `${doc.id}:${artifact.sha256}`,
      async () => {
        const bytes = await this.artifacts.get(artifact.key);
        if (!bytes) throw new Error(`artifact ${artifact.uri} of model ${doc!.id} is missing from the artifact store`);
        return bytes;
      },
      expect,
    );
    return { doc, scorer, alias };
  }

  /**
   * Scores raw rows (feature name → value, null = missing; every feature of the model's set, no other key). Missing
   * values follow each split's learned default direction.
   */
  async scoreRows(ref: string, rows: readonly Record<string, number | null>[], explain = false): Promise<ScoreResult> {
    const model = await this.resolve(ref);
    const names = model.doc.featureSet.featureNames;
    const d = names.length;
    const X = new Float64Array(rows.length * d);
    const problems: { field: string; reason: string; message: string }[] = [];
    for (let r = 0; r < rows.length && problems.length < 20; r++) {
      const row = rows[r];
      let seen = 0;
      for (let j = 0; j < d; j++) {
        const v = row[names[j]];
        if (v === undefined)
          problems.push({
            field: `rows.${r}.${names[j]}`,
            reason: 'missing_feature',
            message: `feature ${names[j]} is required (null = missing value)`,
          });
        else {
          seen++;
          X[r * d + j] = v === null ? NaN : v;
        }
      }
      if (seen !== Object.keys(row).length) {
        for (const k of Object.keys(row))
          if (!names.includes(k))
            problems.push({
              field: `rows.${r}.${k}`,
              reason: 'unknown_feature',
              message: `${k} is not a feature of ${model.doc.featureSet.name} v${model.doc.featureSet.version}`,
            });
      }
    }
    if (problems.length) throw new ScoreInputError(problems);
    const out = await model.scorer.score(X, rows.length);
    return { model, scores: Array.from(out), ...(explain ? { explanation: this.explain(model, X, rows.length) } : {}) };
  }

  /**
   * Scores the stored features of a series over `[from, to]` (bar start times, epoch ms, inclusive). Bars with a
   * missing feature (warm-up) get null: the model was trained on complete rows only.
   */
  async scoreSeries(
    ref: string | ResolvedModel,
    req: { symbol: string; timeframe: Timeframe; from?: number; to?: number },
    explain = false,
  ): Promise<ScoreResult & { tsArray: Float64Array; raw: Float64Array }> {
    const model = typeof ref === 'string' ? await this.resolve(ref) : ref;
    const fs = model.doc.featureSet;
    let values;
    try {
      values = await this.features.read({
        set: fs.name,
        version: fs.version,
        symbol: req.symbol,
        timeframe: req.timeframe,
        from: req.from,
        to: req.to,
      });
    } catch (e) {
      if ((e as Error).name === 'FeatureSetNotFoundError') throw new SignalDataNotFoundError((e as Error).message);
      throw e;
    }
    const n = values.ts.length;
    const cols = fs.featureNames.map((name) => {
      const c = values.columns[name];
      if (!c)
        throw new SignalDataNotFoundError(
          `feature ${name} of model ${model.doc.id} is not stored for ${fs.name} v${fs.version}`,
        );
      return c;
    });
    const { X, complete } = featureRows(cols, n);
    const raw = await model.scorer.score(X, n);
    for (let i = 0; i < n; i++) if (!complete[i]) raw[i] = NaN;
    const scores = Array.from(raw, (v) => (Number.isFinite(v) ? v : null));
    return {
      model,
      scores,
      ts: Array.from(values.ts),
      tsArray: values.ts,
      raw,
      ...(explain ? { explanation: this.explain(model, X, n) } : {}),
    };
  }

  private explain(model: ResolvedModel, X: Float64Array, n: number): RowExplanation {
    const ens: TreeEnsemble | null = model.scorer.info.ensemble;
    if (!ens) throw new ExplanationUnavailableError('the ONNX model is not a single-score BRANCH_LEQ tree ensemble');
    if (!model.scorer.info.hasCover)
      throw new ExplanationUnavailableError(
        'the model carries no training covers (external models): TreeSHAP needs them',
      );
    return explainRows(ens, X, n, model.doc.importance);
  }
}
