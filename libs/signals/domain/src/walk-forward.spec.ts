import { Xoshiro128ss } from '@strata/shared-random';
import {
  evaluateWalkForward,
  LeakageDetectedError,
  nullAucVariance,
  runLeakageGuard,
  shuffleFoldLabels,
  walkForwardSplits,
  type FoldData,
  type LabelledRows,
} from './walk-forward';

const H = 5; // label horizon in bars

/**
 * A price path from 1-bar returns `r`, features at t from returns up to t (plus, optionally, a look-ahead feature =
 * the forward return), label at t = 1 when Σ r[t+1..t+H] > 0. Folds: test blocks in time order; training rows purged
 * so that their label window ends before the test block (t + H < testStart).
 */
function foldsFrom(
  r: Float64Array,
  opts: { leaky: boolean; signal?: Float64Array },
  nFolds = 3,
  minTrain = 1500,
): { folds: FoldData[]; featureNames: string[] } {
  const n = r.length;
  const featureNames = ['ret_1', 'ret_5', 'ret_20', 'signal', ...(opts.leaky ? ['fwd_ret'] : [])];
  const d = featureNames.length;
  const first = 20;
  const last = n - H - 1;
  const rows = (from: number, to: number): LabelledRows => {
    const m = Math.max(0, to - from);
    const X = new Float64Array(m * d);
    const y = new Float64Array(m);
    const fr = new Float64Array(m);
    const ts = new Float64Array(m);
    for (let k = 0; k < m; k++) {
      const t = from + k;
      let s5 = 0;
      let s20 = 0;
      for (let j = 0; j < 20; j++) {
        if (j < 5) s5 += r[t - j];
        s20 += r[t - j];
      }
      let f = 0;
      for (let j = 1; j <= H; j++) f += r[t + j];
      X.set([r[t], s5, s20, opts.signal ? opts.signal[t] : 0, ...(opts.leaky ? [f] : [])], k * d);
      y[k] = f > 0 ? 1 : 0;
      fr[k] = f;
      ts[k] = t;
    }
    return { X, nRows: m, y, forwardReturn: fr, symbol: new Int32Array(m), ts };
  };
  const testBars = Math.floor((last - minTrain) / nFolds);
  const folds: FoldData[] = [];
  for (let k = 0; k < nFolds; k++) {
    const s = minTrain + k * testBars;
    folds.push({ name: `f${k}`, train: rows(first, s - H), test: rows(s, s + testBars) });
  }
  return { folds, featureNames };
}

function returns(n: number, seed: number, signal?: Float64Array): Float64Array {
  const rng = new Xoshiro128ss(seed);
  const r = new Float64Array(n);
  // The "signal" feature at t (known at t) predicts r[t+1] a little.
  for (let t = 0; t < n; t++) r[t] = 0.01 * rng.normal() + (signal && t > 0 ? 0.006 * signal[t - 1] : 0);
  return r;
}

function permuted(r: Float64Array, seed: number): Float64Array {
  const out = r.slice();
  const rng = new Xoshiro128ss(seed, 9);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Each fold with its test rows also appended to its training rows (train/test overlap). */
function withTestInTraining(folds: FoldData[]): FoldData[] {
  const cat = (a: Float64Array, b: Float64Array) => Float64Array.from([...a, ...b]);
  return folds.map((f) => ({
    ...f,
    train: {
      X: cat(f.train.X, f.test.X),
      nRows: f.train.nRows + f.test.nRows,
      y: cat(f.train.y, f.test.y),
      forwardReturn: cat(f.train.forwardReturn, f.test.forwardReturn),
      symbol: new Int32Array(f.train.nRows + f.test.nRows),
      ts: cat(f.train.ts!, f.test.ts!),
    },
  }));
}

const GBDT = { numTrees: 60, learningRate: 0.05, maxLeaves: 7, minDataInLeaf: 50, lambdaL2: 5 };

describe('walkForwardSplits', () => {
  const times = Array.from({ length: 100 }, (_, i) => i * 1000);
  it('cuts consecutive test blocks after the first training window (expanding)', () => {
    const s = walkForwardSplits(times, { folds: 3, minTrainBars: 40 });
    expect(s.map((f) => [f.train.from, f.train.to, f.test.from, f.test.to])).toEqual([
      [0, 40_000, 40_000, 60_000],
      [0, 60_000, 60_000, 80_000],
      [0, 80_000, 80_000, 99_001],
    ]);
    expect(s[0].train.name).toBe('train_0');
  });
  it('rolls a fixed-length training window', () => {
    const s = walkForwardSplits(times, { folds: 2, minTrainBars: 40, testBars: 30, window: 'rolling', trainBars: 25 });
    expect(s.map((f) => [f.train.from, f.train.to, f.test.from, f.test.to])).toEqual([
      [15_000, 40_000, 40_000, 70_000],
      [45_000, 70_000, 70_000, 100_000 - 1000 + 1],
    ]);
  });
  it('rejects impossible layouts', () => {
    expect(() => walkForwardSplits(times, { folds: 10, minTrainBars: 95 })).toThrow(RangeError);
    expect(() => walkForwardSplits([1, 1], { folds: 1, minTrainBars: 1 })).toThrow(/ascending/);
  });
});

describe('evaluateWalkForward and the leakage guard', () => {
  it('finds a real signal, beats the baselines, and passes the guard', () => {
    const n = 4000;
    const sig = Float64Array.from(returns(n, 3), (v) => v * 100);
    const r = returns(n, 4, sig);
    const { folds, featureNames } = foldsFrom(r, { leaky: false, signal: sig });
    const rep = evaluateWalkForward(folds, featureNames, {
      gbdt: GBDT,
      logistic: { l2: 1 },
      leakageGuard: { seed: 5, permutations: 2 },
    });
    expect(rep.folds).toHaveLength(3);
    expect(rep.mean.gbdt.auc).toBeGreaterThan(0.55);
    expect(rep.mean.logistic.auc).toBeGreaterThan(0.55);
    expect(rep.mean.majority.auc).toBe(0.5);
    expect(rep.mean.majority.ic).toBeNaN();
    expect(rep.leakageGuard.passed).toBe(true);
    expect(rep.leakageGuard.mode).toBe('label-shuffle');
    // Tolerance = 3 · SE, SE from the Mann–Whitney null variance of each fold over 3 folds × 2 permutations.
    const v = rep.folds.reduce(
      (s, f) => s + nullAucVariance(f.testRows * f.testUpRate, f.testRows * (1 - f.testUpRate)),
      0,
    );
    // (The shuffle moves labels between train and test, so the test up rate, hence the variance, moves a little.)
    expect(rep.leakageGuard.tolerance).toBeCloseTo(3 * Math.sqrt((2 * v) / 36), 3);
  });

  it('label shuffle: fires when the test observations are also in the training rows', () => {
    const r = returns(4000, 6);
    const { folds, featureNames } = foldsFrom(r, { leaky: false });
    const params = { objective: 'binary' as const, numTrees: 30, learningRate: 0.3, maxLeaves: 31, minDataInLeaf: 1 };
    expect(runLeakageGuard(folds, featureNames, params, { seed: 2 }).passed).toBe(true);
    expect(() => runLeakageGuard(withTestInTraining(folds), featureNames, params, { seed: 2 })).toThrow(
      LeakageDetectedError,
    );
  });

  it('label shuffle by blocks: moves whole runs of labels, never across the train/test boundary; fires on overlap', () => {
    const r = returns(4000, 6);
    const { folds, featureNames } = foldsFrom(r, { leaky: false });
    const f = folds[0];
    // Each label is identified by its forward return (distinct doubles): where did each row's label come from?
    const where = new Map<number, number>();
    [f.train, f.test].forEach((side) => side.forwardReturn.forEach((x, i) => where.set(x, side.ts![i])));
    const s = shuffleFoldLabels(f, 11, H);
    const srcOf = (side: LabelledRows, i: number) => where.get(side.forwardReturn[i])!;
    const testStart = f.test.ts![0];
    let runs = 0;
    let breaks = 0;
    for (const side of [s.train, s.test])
      for (let i = 1; i < side.nRows; i++) {
        const t = side.ts![i];
        const sameBlock = Math.floor((t - testStart) / H) === Math.floor((side.ts![i - 1] - testStart) / H);
        // Inside a block, consecutive bars carry consecutive source labels; a block whose image is one of the two
        // short end blocks wraps around it (at most H − 1 times each).
        if (sameBlock) {
          if (srcOf(side, i) === srcOf(side, i - 1) + 1) runs++;
          else breaks++;
        }
        // Across a block boundary the source jumps (a new random block) almost always.
      }
    expect(runs).toBeGreaterThan(1000);
    expect(breaks).toBeLessThanOrEqual(2 * (H - 1));
    // Nearly a permutation of the fold's labels: only the wrap around a short end block repeats a few.
    const used = new Set([...s.train.forwardReturn, ...s.test.forwardReturn]);
    expect(f.train.nRows + f.test.nRows - used.size).toBeLessThanOrEqual(2 * H);
    // And the block guard still sees test observations inside the training rows.
    const params = { objective: 'binary' as const, numTrees: 30, learningRate: 0.3, maxLeaves: 31, minDataInLeaf: 1 };
    const opts = { seed: 2, blockBars: H, varianceInflation: H };
    expect(runLeakageGuard(folds, featureNames, params, opts).passed).toBe(true);
    expect(() => runLeakageGuard(withTestInTraining(folds), featureNames, params, opts)).toThrow(LeakageDetectedError);
  });

  it('null world: fires on a look-ahead feature (= the future return), passes without it', () => {
    const r = returns(4000, 8);
    const nullFolds = (leaky: boolean) => (p: number, seed: number) =>
      foldsFrom(permuted(r, seed * 31 + p), { leaky }).folds;
    const honest = foldsFrom(r, { leaky: false });
    const ok = runLeakageGuard(
      honest.folds,
      honest.featureNames,
      { objective: 'binary', ...GBDT },
      { nullFolds: nullFolds(false), varianceInflation: H, permutations: 2 },
    );
    expect(ok.mode).toBe('null-world');
    expect(Math.abs(ok.meanAuc - 0.5)).toBeLessThan(ok.tolerance);
    const leaky = foldsFrom(r, { leaky: true });
    let err: unknown;
    try {
      runLeakageGuard(
        leaky.folds,
        leaky.featureNames,
        { objective: 'binary', ...GBDT },
        { nullFolds: nullFolds(true), varianceInflation: H },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LeakageDetectedError);
    expect((err as LeakageDetectedError).result.meanAuc).toBeGreaterThan(0.9);
    // A plain label shuffle cannot see this leak: the shuffled labels no longer match the look-ahead feature.
    expect(runLeakageGuard(leaky.folds, leaky.featureNames, { objective: 'binary', ...GBDT }, { seed: 3 }).passed).toBe(
      true,
    );
  });
});
