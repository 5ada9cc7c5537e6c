import { Xoshiro128ss } from '@strata/shared-random';
import { auc, signalMetrics, type SignalMetrics } from './classification.metrics';
import { trainGbdt, type GbdtParams } from './gbdt.trainer';
import { fitLogisticRegression, predictLogistic, type LogisticOptions } from './logistic-regression';
import { predictMargin, sigmoid } from './tree-ensemble';

/**
 * Walk-forward (out-of-sample, time-ordered) evaluation of a directional signal model against baselines, with a
 * leakage guard.
 *
 * Division of labour: {@link walkForwardSplits} cuts the time axis into (train, test) segments; turning a segment pair
 * into labelled rows — forward-return labels, dead zone, purge (training rows whose label window reaches the test
 * segment are dropped) and embargo (the first bars after a boundary are dropped) — is the job of the feature store's
 * training-dataset builder (`buildTrainingDataset` in `@strata/features-feature`), which the caller runs per fold
 * with these segments, so there is one purge implementation. {@link evaluateWalkForward} then trains and scores the
 * models on the given folds over plain arrays.
 */

/** A time segment `[from, to)` of bar start times (epoch ms UTC); the same shape as the dataset builder's segments. */
export interface TimeSegment {
  name: string;
  from: number;
  to: number;
}

/** One walk-forward fold: train strictly before test. */
export interface WalkForwardSplit {
  fold: number;
  train: TimeSegment;
  test: TimeSegment;
}

/** Options of {@link walkForwardSplits}. */
export interface WalkForwardSplitOptions {
  /** Number of test folds, ≥ 1. */
  folds: number;
  /** Bars before the first test fold (the first training window), ≥ 1. */
  minTrainBars: number;
  /** Bars per test fold; default: the bars after `minTrainBars` divided evenly (the last fold takes the remainder). */
  testBars?: number;
  /** `expanding` (train from the first bar, default) or `rolling` (the last `trainBars` bars before the test fold). */
  window?: 'expanding' | 'rolling';
  /** Rolling window length in bars (required for `rolling`). */
  trainBars?: number;
}

/**
 * Walk-forward splits over the ascending distinct bar times `times` (epoch ms): test folds are consecutive blocks in
 * time order after the first `minTrainBars` bars; each fold's training segment ends where its test segment starts.
 * @throws RangeError when the times are not strictly ascending or the options do not fit the number of bars.
 */
export function walkForwardSplits(times: ArrayLike<number>, opts: WalkForwardSplitOptions): WalkForwardSplit[] {
  const T = times.length;
  const { folds, minTrainBars } = opts;
  const window = opts.window ?? 'expanding';
  for (let i = 1; i < T; i++)
    if (!(times[i] > times[i - 1])) throw new RangeError(`times must be strictly ascending (index ${i})`);
  if (!Number.isInteger(folds) || folds < 1) throw new RangeError(`folds must be an integer ≥ 1, got ${folds}`);
  if (!Number.isInteger(minTrainBars) || minTrainBars < 1)
    throw new RangeError(`minTrainBars must be an integer ≥ 1, got ${minTrainBars}`);
  const testBars = opts.testBars ?? Math.floor((T - minTrainBars) / folds);
  if (!Number.isInteger(testBars) || testBars < 1 || minTrainBars + folds * testBars > T) {
    throw new RangeError(
      `${folds} folds of ${testBars} bars after ${minTrainBars} training bars need more than the ${T} bars given`,
    );
  }
  if (window === 'rolling' && !(Number.isInteger(opts.trainBars) && (opts.trainBars ?? 0) >= 1))
    throw new RangeError('rolling windows need trainBars ≥ 1');
  const out: WalkForwardSplit[] = [];
  for (let k = 0; k < folds; k++) {
    const s = minTrainBars + k * testBars;
    const e = k === folds - 1 && opts.testBars === undefined ? T : s + testBars;
    const trainStart = window === 'rolling' ? Math.max(0, s - (opts.trainBars ?? 0)) : 0;
    out.push({
      fold: k,
      train: { name: `train_${k}`, from: times[trainStart], to: times[s] },
      test: { name: `test_${k}`, from: times[s], to: e < T ? times[e] : times[T - 1] + 1 },
    });
  }
  return out;
}

/** Labelled rows of one side of a fold. */
export interface LabelledRows {
  /** Row-major features, `nRows × featureNames.length`, NaN = missing. */
  X: Float64Array;
  nRows: number;
  /** Direction label: 1 (up) or 0 (down). */
  y: Float64Array;
  /** Realised forward return of each row (fraction), for the information coefficient. */
  forwardReturn: Float64Array;
  /**
   * Identity of each row's observation, optional: the symbol (an index) and the bar time (epoch ms) it was computed
   * at. The label-shuffle guard permutes labels between observations, not rows (the same observation in train and test
   * gets the same shuffled label, so overlap is caught), and cuts blocks on each symbol's time axis. Without them every
   * row is its own observation, in row order.
   */
  symbol?: Int32Array;
  ts?: Float64Array;
}

/** One fold's training and test rows (already purged and embargoed by the dataset builder). */
export interface FoldData {
  name: string;
  train: LabelledRows;
  test: LabelledRows;
}

/** Options of the leakage guard ({@link runLeakageGuard}). */
export interface LeakageGuardOptions {
  /** Seed of the label permutations (default 1). */
  seed?: number;
  /** Independent permutations (null worlds) averaged (default 1). */
  permutations?: number;
  /**
   * Label shuffle by blocks (default 1 = by observation): each symbol's time axis is cut into blocks of this many bar
   * times (aligned to each fold's test start, so no block straddles the boundary) and blocks of labels are permuted
   * whole, keeping the serial dependence of overlapping labels; pass the label horizon with `varianceInflation` alike.
   */
  blockBars?: number;
  /** Tolerance in standard errors of the mean null AUC (default 3: a false alarm about 0.3% of the time). */
  z?: number;
  /**
   * Variance inflation for serially dependent labels (default 1). With overlapping label windows of h bars and
   * persistent features, neighbouring test rows are nearly duplicated, so the AUC's null variance is about h times the
   * independent-rows value: pass the label horizon in bars for `null-world` folds.
   */
  varianceInflation?: number;
  /**
   * Null-world folds: a caller-supplied builder of the same walk-forward folds from data whose labels were shuffled
   * upstream (e.g. the return series permuted, then features and labels recomputed by the real pipeline). When absent,
   * the guard permutes the labels (with their forward returns) of each fold's train and test rows jointly.
   */
  nullFolds?: (permutation: number, seed: number) => FoldData[];
}

/** Outcome of the leakage guard. */
export interface LeakageGuardResult {
  mode: 'label-shuffle' | 'null-world';
  passed: boolean;
  /** Mean test AUC of the GBDT over folds and permutations, trained and evaluated on shuffled labels. */
  meanAuc: number;
  /** |meanAuc − 0.5| must stay below this. */
  tolerance: number;
  /** Standard error of meanAuc under the null (see {@link nullAucVariance}). */
  standardError: number;
  /** Test AUC per fold (permutation 0). */
  foldAucs: number[];
  permutations: number;
}

/** Thrown when the model beats chance on shuffled labels: something lets the labels reach the scores. */
export class LeakageDetectedError extends Error {
  constructor(readonly result: LeakageGuardResult) {
    super(
      `leakage guard failed (${result.mode}): mean AUC on shuffled labels ${result.meanAuc.toFixed(4)}, |AUC − 0.5| ≥ tolerance ${result.tolerance.toFixed(4)}`,
    );
    this.name = 'LeakageDetectedError';
  }
}

/**
 * Variance of the AUC of scores that carry no information about the labels (Mann–Whitney U under H0, no ties):
 * (n₁ + n₀ + 1) / (12 n₁ n₀).
 */
export function nullAucVariance(nPositive: number, nNegative: number): number {
  return (nPositive + nNegative + 1) / (12 * nPositive * nNegative);
}

function positives(y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i];
  return s;
}

/**
 * The fold with the labels (and forward returns) of train ∪ test permuted jointly by a seeded shuffle of BLOCKS of
 * observations. An observation is a distinct (symbol, bar time) (`symbol`/`ts` of the rows; without them each row is
 * one, in row order); a block is up to `blockBars` consecutive bar times of one symbol, cut on the fold's grid of
 * distinct bar times from its first test time (so a block never spans the train/test boundary). The blocks (of every
 * symbol) are permuted by Fisher–Yates; the j-th observation of a block takes the label of the j-th observation of its
 * image (cycling when the image is shorter), and every row of one observation gets the same label. `blockBars = 1`
 * is a shuffle by observation. Features are unchanged.
 */
export function shuffleFoldLabels(fold: FoldData, seed: number, blockBars = 1): FoldData {
  if (!Number.isInteger(blockBars) || blockBars < 1)
    throw new RangeError(`blockBars must be an integer ≥ 1, got ${blockBars}`);
  const nTr = fold.train.nRows;
  const n = nTr + fold.test.nRows;
  const ided = !!(fold.train.symbol && fold.train.ts && fold.test.symbol && fold.test.ts);
  const symAt = (k: number) => (!ided ? 0 : k < nTr ? fold.train.symbol![k] : fold.test.symbol![k - nTr]);
  const tsAt = (k: number) => (!ided ? k : k < nTr ? fold.train.ts![k] : fold.test.ts![k - nTr]);
  const yAt = (k: number) => (k < nTr ? fold.train.y[k] : fold.test.y[k - nTr]);
  const rAt = (k: number) => (k < nTr ? fold.train.forwardReturn[k] : fold.test.forwardReturn[k - nTr]);
  // Observations (first row's label), keyed by symbol and time (times < 2^42 ms, symbols < 2^11: exact in a double).
  const obsOf = new Int32Array(n);
  const obsSym: number[] = [];
  const obsTs: number[] = [];
  const obsY: number[] = [];
  const obsR: number[] = [];
  const seen = new Map<number, number>();
  for (let k = 0; k < n; k++) {
    const key = symAt(k) * 2 ** 42 + tsAt(k);
    let o = seen.get(key);
    if (o === undefined) {
      o = obsY.length;
      seen.set(key, o);
      obsSym.push(symAt(k));
      obsTs.push(tsAt(k));
      obsY.push(yAt(k));
      obsR.push(rAt(k));
    }
    obsOf[k] = o;
  }
  // Blocks on the grid of distinct times, aligned to the first test time.
  const grid = Float64Array.from(new Set(obsTs)).sort();
  const gridIndex = new Map<number, number>();
  grid.forEach((t, i) => gridIndex.set(t, i));
  let testStart = Infinity;
  for (let k = nTr; k < n; k++) testStart = Math.min(testStart, gridIndex.get(tsAt(k))!);
  if (testStart === Infinity) testStart = 0;
  const blockKey = new Map<string, number>();
  const blocks: number[][] = [];
  const order = Array.from(obsY.keys()).sort((a, b) => obsSym[a] - obsSym[b] || obsTs[a] - obsTs[b]);
  for (const o of order) {
    const key = `${obsSym[o]}:${Math.floor((gridIndex.get(obsTs[o])! - testStart) / blockBars)}`;
    let b = blockKey.get(key);
    if (b === undefined) {
      b = blocks.length;
      blockKey.set(key, b);
      blocks.push([]);
    }
    blocks[b].push(o);
  }
  const B = blocks.length;
  const perm = new Int32Array(B);
  for (let i = 0; i < B; i++) perm[i] = i;
  const rng = new Xoshiro128ss(seed, 2);
  for (let i = B - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  // Source observation of each observation.
  const src = new Int32Array(obsY.length);
  for (let b = 0; b < B; b++) {
    const from = blocks[perm[b]];
    blocks[b].forEach((o, j) => (src[o] = from[j % from.length]));
  }
  const side = (rows: LabelledRows, off: number): LabelledRows => {
    const y = new Float64Array(rows.nRows);
    const r = new Float64Array(rows.nRows);
    for (let i = 0; i < rows.nRows; i++) {
      const o = src[obsOf[off + i]];
      y[i] = obsY[o];
      r[i] = obsR[o];
    }
    return { ...rows, y, forwardReturn: r };
  };
  return { name: fold.name, train: side(fold.train, 0), test: side(fold.test, nTr) };
}

/**
 * Leakage guard: retrains the GBDT with `params` on shuffled labels within the same walk-forward folds and scores the
 * test rows against their (shuffled) labels. Nothing can be learnt, so the mean AUC must be within
 * `z · SE` of 0.5, SE² = inflation · Σ_folds Var₀(AUC_k) / (K² · P) with Var₀ = {@link nullAucVariance}; otherwise the
 * labels reach the scores by some other path (test rows in training, model selection on the test fold, look-ahead
 * features in a null world) and {@link LeakageDetectedError} is thrown.
 *
 * What each mode catches: `label-shuffle` (default; by blocks with `blockBars`) — the same observation on both sides
 * of the boundary (overlapping segments, duplicated rows; needs the rows' `symbol` and `ts`), since its shuffled label
 * is then learnt in training; `null-world`
 * (`nullFolds`, the caller permutes the underlying returns and recomputes features and labels with the real pipeline)
 * — also features or labels computed with look-ahead, which keep predicting the shuffled future. A feature equal to the
 * future return is invisible to a pure label shuffle (the shuffled labels no longer match it), which is why the
 * evaluation script runs both.
 */
export function runLeakageGuard(
  folds: FoldData[],
  featureNames: string[],
  params: GbdtParams,
  opts: LeakageGuardOptions = {},
): LeakageGuardResult {
  const seed = opts.seed ?? 1;
  const P = opts.permutations ?? 1;
  const z = opts.z ?? 3;
  const inflation = opts.varianceInflation ?? 1;
  let sum = 0;
  let count = 0;
  let variance = 0;
  const foldAucs: number[] = [];
  for (let p = 0; p < P; p++) {
    const nullFolds = opts.nullFolds
      ? opts.nullFolds(p, seed + p)
      : folds.map((f, k) => shuffleFoldLabels(f, seed * 7919 + p * 104729 + k, opts.blockBars ?? 1));
    for (const f of nullFolds) {
      const model = trainGbdt(
        { X: f.train.X, nRows: f.train.nRows, featureNames, y: f.train.y },
        { ...params, objective: 'binary', evalTrainLoss: false },
      ).model;
      const a = auc(f.test.y, predictMargin(model, f.test.X, f.test.nRows));
      if (a !== a) continue;
      const n1 = positives(f.test.y);
      variance += nullAucVariance(n1, f.test.nRows - n1);
      sum += a;
      count++;
      if (p === 0) foldAucs.push(a);
    }
  }
  const meanAuc = sum / count;
  const standardError = Math.sqrt((inflation * variance) / (count * count));
  const tolerance = z * standardError;
  const passed = count > 0 && Math.abs(meanAuc - 0.5) < tolerance;
  const result: LeakageGuardResult = {
    mode: opts.nullFolds ? 'null-world' : 'label-shuffle',
    passed,
    meanAuc,
    tolerance,
    standardError,
    foldAucs,
    permutations: P,
  };
  if (!passed) throw new LeakageDetectedError(result);
  return result;
}

/** Options of {@link evaluateWalkForward}. */
export interface WalkForwardEvaluationOptions {
  /** GBDT parameters (objective forced to `binary`). */
  gbdt: Omit<GbdtParams, 'objective'>;
  /** Logistic-regression baseline options. */
  logistic?: LogisticOptions;
  /** Leakage guard options; the guard always runs (label-shuffle unless `nullFolds` is given). */
  leakageGuard?: LeakageGuardOptions;
}

/** Metrics of the three models on one fold. */
export interface FoldReport {
  name: string;
  trainRows: number;
  testRows: number;
  /** Fraction of up labels in the test rows. */
  testUpRate: number;
  gbdt: SignalMetrics;
  logistic: SignalMetrics;
  majority: SignalMetrics;
}

/** Output of {@link evaluateWalkForward}: per-fold metrics, their means (NaN folds skipped) and the guard result. */
export interface WalkForwardReport {
  folds: FoldReport[];
  mean: { gbdt: SignalMetrics; logistic: SignalMetrics; majority: SignalMetrics };
  leakageGuard: LeakageGuardResult;
}

/** Mean of each metric over folds, skipping NaN values (NaN when every fold is NaN, e.g. the IC of a constant). */
export function meanMetrics(ms: SignalMetrics[]): SignalMetrics {
  const keys: (keyof SignalMetrics)[] = ['auc', 'logLoss', 'accuracy', 'brier', 'ic'];
  const out = { auc: NaN, logLoss: NaN, accuracy: NaN, brier: NaN, ic: NaN } as SignalMetrics;
  for (const k of keys) {
    let s = 0;
    let c = 0;
    for (const m of ms) {
      if (m[k] === m[k]) {
        s += m[k];
        c++;
      }
    }
    if (c > 0) out[k] = s / c;
  }
  return out;
}

/**
 * Trains and scores, on each fold: the GBDT (`opts.gbdt`), the logistic-regression baseline and the majority-class
 * baseline (constant probability = the training up rate), all on the same rows; then runs the leakage guard.
 * @throws LeakageDetectedError when the guard fails.
 */
export function evaluateWalkForward(
  folds: FoldData[],
  featureNames: string[],
  opts: WalkForwardEvaluationOptions,
): WalkForwardReport {
  if (folds.length === 0) throw new RangeError('no folds');
  const params: GbdtParams = { ...opts.gbdt, objective: 'binary' };
  const reports: FoldReport[] = [];
  for (const f of folds) {
    const { train, test } = f;
    if (train.nRows === 0 || test.nRows === 0)
      throw new RangeError(`fold ${f.name} has no ${train.nRows === 0 ? 'training' : 'test'} rows`);
    const model = trainGbdt(
      { X: train.X, nRows: train.nRows, featureNames, y: train.y },
      { ...params, evalTrainLoss: false },
    ).model;
    const margin = predictMargin(model, test.X, test.nRows);
    const pG = margin.map(sigmoid);
    const lr = fitLogisticRegression(train.X, train.nRows, featureNames, train.y, opts.logistic);
    const pL = predictLogistic(lr, test.X, test.nRows);
    const base = positives(train.y) / train.nRows;
    const pM = new Float64Array(test.nRows).fill(base);
    reports.push({
      name: f.name,
      trainRows: train.nRows,
      testRows: test.nRows,
      testUpRate: positives(test.y) / test.nRows,
      gbdt: signalMetrics(test.y, pG, test.forwardReturn),
      logistic: signalMetrics(test.y, pL, test.forwardReturn),
      majority: signalMetrics(test.y, pM, test.forwardReturn),
    });
  }
  const leakageGuard = runLeakageGuard(folds, featureNames, params, opts.leakageGuard);
  return {
    folds: reports,
    mean: {
      gbdt: meanMetrics(reports.map((r) => r.gbdt)),
      logistic: meanMetrics(reports.map((r) => r.logistic)),
      majority: meanMetrics(reports.map((r) => r.majority)),
    },
    leakageGuard,
  };
}
