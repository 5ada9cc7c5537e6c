import { type TreeEnsemble, type TreeObjective } from '@strata/signals-domain';

/** One reason a model was refused by the runtime's import check. */
export interface ModelProblem {
  field: string;
  reason: string;
}

/** What the runtime learnt about an accepted model. */
export interface SignalModelInfo {
  objective: TreeObjective;
  featureNames: string[];
  nTrees: number;
  producer: string;
  /** The model as a tree ensemble when representable (TreeSHAP, TypeScript scoring); null otherwise. */
  ensemble: TreeEnsemble | null;
  /** The ensemble carries training covers (TreeSHAP can run). */
  hasCover: boolean;
}

/** An open model: scores row-major feature rows (NaN = missing). */
export interface SignalModelScorer {
  readonly nFeatures: number;
  readonly info: SignalModelInfo;
  /** Probability of class 1 (binary) or the prediction (regression), one per row. */
  score(X: Float64Array, nRows: number): Promise<Float64Array>;
}

/** What a model must fit: the feature-set version's columns in order, and its id. */
export interface ModelExpectation {
  featureNames: readonly string[];
  featureSet?: { name: string; version: number };
}

/**
 * Port: the model format and runtime (ONNX + onnxruntime in `@strata/signals-infra-onnx`, `OnnxModelRuntime`).
 * - `exportModel` serialises a tree ensemble with its metadata (feature names, feature set, objective, model id);
 * - `inspect` checks a model against a feature-set version before it is accepted (never fixes anything up);
 * - `scorer` opens (once, then cached under `key`) a scorer for the model bytes loaded by `load`.
 */
export interface SignalModelRuntime {
  exportModel(
    model: TreeEnsemble,
    opts: { modelId: string; featureSet: { name: string; version: number } },
  ): Uint8Array;
  inspect(
    bytes: Uint8Array,
    expect: ModelExpectation,
  ): { ok: true; info: SignalModelInfo } | { ok: false; problems: ModelProblem[] };
  scorer(key: string, load: () => Promise<Uint8Array>, expect: ModelExpectation): Promise<SignalModelScorer>;
}

/** Injection token of {@link SignalModelRuntime}. */
export const SIGNAL_MODEL_RUNTIME = Symbol('SIGNAL_MODEL_RUNTIME');
