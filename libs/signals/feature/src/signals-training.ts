import { type ModelVersionDto, type TrainingSpec } from '@strata/signals-contracts';
import {
  evaluateWalkForward as evaluateBinaryWalkForward,
  expectedMargin,
  gainImportance as gainPerFeature,
  informationCoefficient,
  predictMargin,
  runLeakageGuard,
  trainGbdt,
  treeShap,
  walkForwardSplits,
  type FoldData,
  type LeakageGuardResult,
  type WalkForwardSplit,
  type GbdtParams,
  type LabelledRows,
  type SignalMetrics,
  type TreeEnsemble,
} from '@strata/signals-domain';
import type { FeatureReader } from '@strata/features-contracts';
import { createHash } from 'node:crypto';

/**
 * The training side of the signals service, between the feature store and `@strata/signals-domain`: walk-forward folds cut
 * by `walkForwardSplits` and labelled, purged and embargoed by the feature store's training-dataset builder (one purge
 * implementation), evaluation against baselines with the leakage guard (`evaluateWalkForward`), the final fit, and
 * TreeSHAP explanations.
 */

/** Rows of every symbol of a spec, pooled and ordered by bar time (then symbol order). Row-major X, NaN = missing. */
export interface PooledDataset extends LabelledRows {
  /** Bar start, epoch ms UTC. */
  ts: Float64Array;
  /** Index into `symbols`. */
  symbol: Int32Array;
  symbols: string[];
  featureNames: string[];
}

/** The spec leaves too few rows for its walk-forward folds (the model fails with reason `insufficient_data`). */
export class InsufficientDataError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'InsufficientDataError';
  }
}

const FAR_PAST = -8.64e15;
const FAR_FUTURE = 8.64e15;

/**
 * Labelled rows of each segment, pooled over the spec's symbols (builder run per symbol with purge and embargo). For a
 * binary objective the dead zone is dropped from the FIRST segment only (the training one); later segments (test
 * folds) keep their dead-zone rows, labelled by the sign of the forward return. `nullSeed`: the same in a null world
 * (the leakage guard), each symbol's bars permuted with its own seed.
 */
async function pooledSegments(
  features: FeatureReader,
  spec: TrainingSpec,
  segments: { name: string; from: number; to: number }[],
  nullSeed?: number,
): Promise<PooledDataset[]> {
  const perSymbol: {
    sym: number;
    parts: { ts: Float64Array; X: Record<string, Float64Array>; y: Float64Array; direction: Int8Array }[];
  }[] = [];
  let featureNames: string[] = [];
  for (const [k, symbol] of spec.symbols.entries()) {
    const ds = await features.buildTrainingDataset({
      set: spec.featureSet.name,
      version: spec.featureSet.version,
      symbol,
      timeframe: spec.timeframe,
      segments,
      qualityFilter: spec.qualityFilter,
      options: {
        horizon: spec.label.horizon,
        deadZone: spec.label.deadZone,
        dropDeadZoneFrom: spec.objective === 'binary' ? [segments[0].name] : [],
        purge: spec.walkForward.purge,
        embargo: spec.walkForward.embargo,
      },
      ...(nullSeed === undefined ? {} : { nullWorld: { seed: nullSeed * 1009 + k } }),
    });
    featureNames = ds.definition.features.map((f) => f.name);
    perSymbol.push({ sym: k, parts: ds.parts });
  }
  const d = featureNames.length;
  return segments.map((_, s) => {
    const order: [number, number][] = [];
    perSymbol.forEach((p, pi) => p.parts[s].ts.forEach((_t, i) => order.push([pi, i])));
    order.sort((a, b) => perSymbol[a[0]].parts[s].ts[a[1]] - perSymbol[b[0]].parts[s].ts[b[1]] || a[0] - b[0]);
    const n = order.length;
    const out: PooledDataset = {
      X: new Float64Array(n * d),
      y: new Float64Array(n),
      forwardReturn: new Float64Array(n),
      ts: new Float64Array(n),
      symbol: new Int32Array(n),
      symbols: [...spec.symbols],
      nRows: n,
      featureNames,
    };
    order.forEach(([pi, i], r) => {
      const p = perSymbol[pi].parts[s];
      for (let j = 0; j < d; j++) out.X[r * d + j] = p.X[featureNames[j]][i];
      out.forwardReturn[r] = p.y[i];
      // Binary: up = a positive forward return (training rows are outside the dead zone, so this is direction > 0).
      out.y[r] = spec.objective === 'binary' ? (p.y[i] > 0 ? 1 : 0) : p.y[i];
      out.ts[r] = p.ts[i];
      out.symbol[r] = perSymbol[pi].sym;
    });
    return out;
  });
}

/** The whole train window as one labelled dataset (the final model's training rows). */
export async function buildPooledDataset(features: FeatureReader, spec: TrainingSpec): Promise<PooledDataset> {
  const [all] = await pooledSegments(features, spec, [
    { name: 'train', from: spec.trainWindow.from ?? FAR_PAST, to: spec.trainWindow.to ?? FAR_FUTURE },
  ]);
  return all;
}

/**
 * Walk-forward folds of a spec: expanding training windows over the distinct bar times of the pooled dataset (the
 * first `1 / (folds + 1)` of them train the first fold), each fold's rows labelled by the training-dataset builder with
 * the spec's purge (default = label horizon) and embargo at the train/test boundary.
 */
export async function buildWalkForwardFolds(
  features: FeatureReader,
  spec: TrainingSpec,
  all: PooledDataset,
): Promise<WalkForwardFold[]> {
  const times = Float64Array.from(new Set(all.ts)).sort();
  const K = spec.walkForward.folds;
  if (times.length < (K + 1) * 20)
    throw new InsufficientDataError(
      `${times.length} labelled bar times are too few for ${K} walk-forward folds (need ≥ ${(K + 1) * 20})`,
    );
  const splits = walkForwardSplits(times, { folds: K, minTrainBars: Math.floor(times.length / (K + 1)) });
  const out: WalkForwardFold[] = [];
  for (const s of splits) {
    const [train, test] = await pooledSegments(features, spec, [s.train, s.test]);
    if (train.nRows === 0 || test.nRows === 0)
      throw new InsufficientDataError(
        `walk-forward fold ${s.fold} has no ${train.nRows === 0 ? 'training' : 'test'} rows`,
      );
    out.push({ name: `fold_${s.fold}`, train, test, testFrom: test.ts[0], testTo: test.ts[test.nRows - 1], split: s });
  }
  return out;
}

/**
 * The folds of {@link buildWalkForwardFolds} rebuilt in null world `permutation` (same segments and options; every
 * symbol's bars permuted and its features recomputed by the feature store, see `TrainingDatasetRequest.nullWorld`).
 */
export async function buildNullWorldFolds(
  features: FeatureReader,
  spec: TrainingSpec,
  folds: readonly WalkForwardFold[],
  permutation: number,
): Promise<FoldData[]> {
  const out: FoldData[] = [];
  for (const f of folds) {
    const [train, test] = await pooledSegments(
      features,
      spec,
      [f.split.train, f.split.test],
      spec.params.seed * 7 + permutation + 1,
    );
    out.push({ name: f.name, train, test });
  }
  return out;
}

/** SHA-256 (hex) of a dataset's content: feature names, symbols, X, y, bar times and symbol of each row, in row order. */
export function datasetHash(ds: PooledDataset): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ featureNames: ds.featureNames, symbols: ds.symbols, nRows: ds.nRows }));
  for (const a of [ds.X, ds.y, ds.ts, ds.symbol]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex');
}

/** One walk-forward fold of a spec: its pooled rows, first and last test bar time, and the time segments. */
export type WalkForwardFold = FoldData & { testFrom: number; testTo: number; split: WalkForwardSplit };

/** GBDT parameters of a spec. */
export function gbdtParams(spec: TrainingSpec): GbdtParams {
  return { objective: spec.objective, ...spec.params };
}

/** Evaluation report stored with a model version. */
export type ModelMetrics = NonNullable<ModelVersionDto['metrics']>;

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);
const metricsDto = (m: SignalMetrics) => ({
  auc: finite(m.auc),
  logLoss: finite(m.logLoss),
  accuracy: finite(m.accuracy),
  brier: finite(m.brier),
  ic: finite(m.ic),
  rmse: null,
});

/**
 * Out-of-sample evaluation on the folds. Binary: GBDT vs the logistic-regression and majority-class baselines on the
 * same rows, then both leakage guards (`@strata/signals-domain`), each throwing `LeakageDetectedError` when a model
 * trained where nothing is predictable beats chance (|mean AUC − 0.5| ≥ 3 SE, SE inflated by the label horizon):
 * - label shuffle by blocks of `horizon` bar times per symbol, over the rows' (symbol, bar time) identities: catches
 *   the same observation on both sides of a boundary;
 * - null world (`nullFolds`, one fold list per permutation, from {@link buildNullWorldFolds}): catches features or
 *   labels that read later bars.
 * Regression: GBDT information coefficient and RMSE vs a mean-return baseline per fold (no leakage guard: the guard is
 * defined on AUC).
 */
export function evaluateFolds(
  folds: WalkForwardFold[],
  featureNames: string[],
  spec: TrainingSpec,
  nullFolds: FoldData[][] = [],
): ModelMetrics {
  const { earlyStoppingRounds: _es, ...gbdt } = spec.params;
  if (spec.objective === 'binary') {
    const h = spec.label.horizon;
    const report = evaluateBinaryWalkForward(folds, featureNames, {
      gbdt,
      leakageGuard: { seed: spec.params.seed + 1, blockBars: h, varianceInflation: h },
    });
    const g = report.leakageGuard;
    const nw: LeakageGuardResult | null = nullFolds.length
      ? runLeakageGuard(
          folds,
          featureNames,
          { ...gbdt, objective: 'binary' },
          { permutations: nullFolds.length, varianceInflation: h, nullFolds: (p) => nullFolds[p] },
        )
      : null;
    const describe = (r: LeakageGuardResult) =>
      `${r.mode}: mean AUC ${r.meanAuc.toFixed(4)}, tolerance ±${r.tolerance.toFixed(4)} (SE ${r.standardError.toFixed(4)}) over ${r.foldAucs.length} folds × ${r.permutations}`;
    return {
      folds: report.folds.map((f, i) => ({
        fold: i,
        trainRows: f.trainRows,
        testRows: f.testRows,
        testFrom: folds[i].testFrom,
        testTo: folds[i].testTo,
        ...metricsDto(f.gbdt),
        baselines: { logistic: metricsDto(f.logistic), majority: metricsDto(f.majority) },
      })),
      summary: metricsDto(report.mean.gbdt),
      baselines: { logistic: metricsDto(report.mean.logistic), majority: metricsDto(report.mean.majority) },
      leakageGuard: {
        passed: g.passed && (nw?.passed ?? true),
        shuffledAuc: finite(g.meanAuc),
        nullWorldAuc: nw ? finite(nw.meanAuc) : null,
        detail: [g, ...(nw ? [nw] : [])].map(describe).join('; '),
      },
      bestIteration: null,
    };
  }
  const out: ModelMetrics['folds'] = [];
  for (const [i, f] of folds.entries()) {
    const model = trainGbdt(
      { X: f.train.X, nRows: f.train.nRows, featureNames, y: f.train.y },
      { ...gbdt, objective: 'regression', evalTrainLoss: false },
    ).model;
    const pred = predictMargin(model, f.test.X, f.test.nRows);
    let mean = 0;
    for (let r = 0; r < f.train.nRows; r++) mean += f.train.y[r];
    mean /= f.train.nRows;
    let se = 0;
    let seBase = 0;
    for (let r = 0; r < f.test.nRows; r++) {
      se += (pred[r] - f.test.y[r]) ** 2;
      seBase += (mean - f.test.y[r]) ** 2;
    }
    const none = { auc: null, logLoss: null, accuracy: null, brier: null };
    out.push({
      fold: i,
      trainRows: f.train.nRows,
      testRows: f.test.nRows,
      testFrom: f.testFrom,
      testTo: f.testTo,
      ...none,
      ic: finite(informationCoefficient(pred, f.test.forwardReturn)),
      rmse: Math.sqrt(se / f.test.nRows),
      baselines: { mean: { ...none, ic: null, rmse: Math.sqrt(seBase / f.test.nRows) } },
    });
  }
  const avg = (xs: (number | null)[]): number | null => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    folds: out,
    summary: {
      auc: null,
      logLoss: null,
      accuracy: null,
      brier: null,
      ic: avg(out.map((f) => f.ic)),
      rmse: avg(out.map((f) => f.rmse)),
    },
    baselines: { mean: { ic: null, rmse: avg(out.map((f) => f.baselines.mean.rmse)) } },
    leakageGuard: null,
    bestIteration: null,
  };
}

/** Trains the final model on every row (the last 10 % of rows, in time order, as early-stopping validation when asked). */
export function fitFinal(ds: PooledDataset, spec: TrainingSpec): { model: TreeEnsemble; bestIteration: number } {
  const params = { ...gbdtParams(spec), evalTrainLoss: false };
  if (!params.earlyStoppingRounds) {
    const r = trainGbdt({ X: ds.X, nRows: ds.nRows, featureNames: ds.featureNames, y: ds.y }, params);
    return { model: r.model, bestIteration: r.bestIteration };
  }
  const cut = Math.floor(ds.nRows * 0.9);
  const d = ds.featureNames.length;
  const r = trainGbdt(
    { X: ds.X.subarray(0, cut * d), nRows: cut, featureNames: ds.featureNames, y: ds.y.subarray(0, cut) },
    params,
    { X: ds.X.subarray(cut * d), nRows: ds.nRows - cut, featureNames: ds.featureNames, y: ds.y.subarray(cut) },
  );
  return { model: r.model, bestIteration: r.bestIteration };
}

/** Gain importance: total split gain per feature, descending. */
export function gainImportance(model: TreeEnsemble): { feature: string; gain: number }[] {
  const g = gainPerFeature(model);
  return model.featureNames.map((feature, j) => ({ feature, gain: g[j] })).sort((a, b) => b.gain - a.gain);
}

/** Per-row TreeSHAP contributions (raw margin units) with the expected value and global importance. */
export interface RowExplanation {
  /** φ₀: the cover-weighted expected margin; each row's contributions sum to its margin minus this. */
  expectedValue: number;
  contributions: Record<string, number>[];
  /** Per feature: gain (from the registry when known, else from the trees) and mean |SHAP| over the rows. */
  importance: { feature: string; gain: number; meanAbsShap: number }[];
}

/** Exact TreeSHAP explanation of `n` rows of X (see {@link RowExplanation}). */
export function explainRows(
  model: TreeEnsemble,
  X: Float64Array,
  n: number,
  gain: { feature: string; gain: number }[] | null,
): RowExplanation {
  const d = model.featureNames.length;
  const phi = treeShap(model, X, n);
  const contributions: Record<string, number>[] = [];
  const meanAbs = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const row: Record<string, number> = {};
    for (let j = 0; j < d; j++) {
      const v = phi[r * (d + 1) + j];
      row[model.featureNames[j]] = v;
      meanAbs[j] += Math.abs(v) / n;
    }
    contributions.push(row);
  }
  const byName = new Map((gain ?? gainImportance(model)).map((g) => [g.feature, g.gain]));
  return {
    expectedValue: expectedMargin(model),
    contributions,
    importance: model.featureNames
      .map((feature, j) => ({ feature, gain: byName.get(feature) ?? 0, meanAbsShap: meanAbs[j] }))
      .sort((a, b) => b.meanAbsShap - a.meanAbsShap),
  };
}
