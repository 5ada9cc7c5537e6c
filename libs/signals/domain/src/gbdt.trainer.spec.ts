import { Xoshiro128ss } from '@strata/shared-random';
import { trainGbdt } from './gbdt.trainer';
import { predictMargin, sigmoid } from './tree-ensemble';

function synthetic(n: number, seed: number, nanRate = 0.05) {
  const d = 5;
  const rng = new Xoshiro128ss(seed);
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) X[i * d + j] = rng.normal();
    const o = i * d;
    const s = 1.5 * Math.sin(2 * X[o]) + X[o + 1] * X[o + 2];
    y[i] = rng.uniform() < sigmoid(s) ? 1 : 0;
    if (rng.uniform() < nanRate) X[o + 3] = NaN;
  }
  return { X, nRows: n, featureNames: ['a', 'b', 'c', 'd', 'e'], y };
}

describe('trainGbdt', () => {
  it('finds the hand-worked optimal single split, its gain, covers and leaf values (L2, λ = 1)', () => {
    // x = 1..6, y = [0,1,0,4,5,6]; base = mean = 8/3; g = base − y, h = 1; λ = 1, learning rate 1.
    // Candidate cut after k rows: gain_k = ½[G_L²/(k+1) + G_R²/(6−k+1) − G²/7], G = 0.
    //   k=3: G_L = 3·8/3 − 1 = 7, G_R = −7 → ½(49/4 + 49/4) = 12.25 (k=2: 5.007, k=4: 8.56, others lower).
    // Leaves: −G/(H+λ) = −7/4 = −1.75 (left) and +1.75 (right); threshold between 3 and 4 → 3.5 (float32 exact).
    const X = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const y = Float64Array.from([0, 1, 0, 4, 5, 6]);
    const r = trainGbdt(
      { X, nRows: 6, featureNames: ['x'], y },
      {
        objective: 'regression',
        numTrees: 1,
        maxLeaves: 2,
        learningRate: 1,
        lambdaL2: 1,
        minDataInLeaf: 1,
        quantizedGradients: false,
      },
    );
    const t = r.model.trees[0];
    expect(r.model.baseScore).toBeCloseTo(8 / 3, 12);
    expect(Array.from(t.splitFeature)).toEqual([0]);
    expect(t.threshold[0]).toBe(3.5);
    expect(t.gain[0]).toBeCloseTo(12.25, 10);
    expect(t.internalCover[0]).toBe(6);
    expect(Array.from(t.leafCover)).toEqual([3, 3]);
    expect(t.leafValue[~t.left[0]]).toBeCloseTo(-1.75, 12);
    expect(t.leafValue[~t.right[0]]).toBeCloseTo(1.75, 12);
    // Reference: every other cut has a lower gain.
    for (let k = 1; k < 6; k++) {
      const gl = k * (8 / 3) - [0, 1, 0, 4, 5].slice(0, k).reduce((a, b) => a + b, 0);
      const gain = 0.5 * ((gl * gl) / (k + 1) + (gl * gl) / (6 - k + 1));
      if (k !== 3) expect(gain).toBeLessThan(12.25);
    }
    const p = predictMargin(r.model, Float64Array.from([3, 3.5, 3.6, 100]), 4);
    expect(Array.from(p).map((v) => Number(v.toFixed(10)))).toEqual([
      0.9166666667, 0.9166666667, 4.4166666667, 4.4166666667,
    ]);
    // Quantized split finding picks the same split; leaf values and covers come from exact sums, the gain is approximate.
    const q = trainGbdt(
      { X, nRows: 6, featureNames: ['x'], y },
      {
        objective: 'regression',
        numTrees: 1,
        maxLeaves: 2,
        learningRate: 1,
        lambdaL2: 1,
        minDataInLeaf: 1,
        quantizedGradients: true,
      },
    );
    expect(q.model.trees[0].threshold[0]).toBe(3.5);
    for (let l = 0; l < 2; l++) expect(q.model.trees[0].leafValue[l]).toBeCloseTo(t.leafValue[l], 14);
    expect(q.model.trees[0].gain[0]).toBeCloseTo(12.25, 2);
  });

  it('quantized and exact histograms give models of the same quality', () => {
    const train = synthetic(20000, 31);
    const valid = synthetic(10000, 32);
    const aucOf = (quantizedGradients: boolean) => {
      const { model } = trainGbdt(train, { objective: 'binary', numTrees: 40, maxLeaves: 31, quantizedGradients });
      const m = predictMargin(model, valid.X, valid.nRows);
      let pairs = 0;
      let good = 0;
      // AUC by counting pairs on a subsample (independent of the metrics module).
      for (let i = 0; i < 2000; i++)
        for (let j = 0; j < 2000; j++)
          if (valid.y[i] === 1 && valid.y[j] === 0) {
            pairs++;
            good += m[i] > m[j] ? 1 : m[i] === m[j] ? 0.5 : 0;
          }
      return good / pairs;
    };
    const exact = aucOf(false);
    expect(exact).toBeGreaterThan(0.7);
    expect(Math.abs(aucOf(true) - exact)).toBeLessThan(0.005);
  });

  it('learns the default direction of missing values from the data', () => {
    // Missing rows look like the low group → missing must go left; mirrored labels → right.
    const X = Float64Array.from([1, 2, 3, 4, 5, 6, NaN, NaN]);
    const lowMissing = trainGbdt(
      { X, nRows: 8, featureNames: ['x'], y: Float64Array.from([0, 0, 0, 10, 10, 10, 0, 0]) },
      { objective: 'regression', numTrees: 1, maxLeaves: 2, learningRate: 1, minDataInLeaf: 1 },
    );
    expect(lowMissing.model.trees[0].threshold[0]).toBe(3.5);
    expect(lowMissing.model.trees[0].defaultLeft[0]).toBe(1);
    const highMissing = trainGbdt(
      { X, nRows: 8, featureNames: ['x'], y: Float64Array.from([0, 0, 0, 10, 10, 10, 10, 10]) },
      { objective: 'regression', numTrees: 1, maxLeaves: 2, learningRate: 1, minDataInLeaf: 1 },
    );
    expect(highMissing.model.trees[0].defaultLeft[0]).toBe(0);
    const p = predictMargin(highMissing.model, Float64Array.from([NaN, 1]), 2);
    expect(p[0]).toBeCloseTo(10, 10);
    expect(p[1]).toBeCloseTo(0, 10);
  });

  it('records a training loss equal to the log loss of the returned model scored on raw values (binned and raw routing agree)', () => {
    const data = synthetic(4000, 3);
    const r = trainGbdt(data, { objective: 'binary', numTrees: 30, maxLeaves: 15, learningRate: 0.2 });
    const m = predictMargin(r.model, data.X, data.nRows);
    let ll = 0;
    for (let i = 0; i < data.nRows; i++) ll -= data.y[i] ? Math.log(sigmoid(m[i])) : Math.log(1 - sigmoid(m[i]));
    expect(r.evals.train.at(-1)).toBeCloseTo(ll / data.nRows, 10);
    expect(r.evals.train[29]).toBeLessThan(r.evals.train[0]);
    expect(r.binning.nonFloat32Bounds).toBe(0);
    for (const t of r.model.trees) {
      expect(t.leafValue.length).toBeLessThanOrEqual(15);
      for (const th of t.threshold) expect(Math.fround(th)).toBe(th);
    }
    // float32 inputs route like float64 inputs.
    const X32 = Float64Array.from(data.X, (v) => Math.fround(v));
    const m32 = predictMargin(r.model, X32, data.nRows);
    for (let i = 0; i < data.nRows; i++) expect(m32[i]).toBe(m[i]);
  });

  it('honours maxDepth, minDataInLeaf and covers that add up', () => {
    const data = synthetic(3000, 5, 0);
    const yReg = Float64Array.from(data.y, (v, i) => v + data.X[i * 5]);
    const r = trainGbdt(
      { ...data, y: yReg },
      { objective: 'regression', numTrees: 5, maxLeaves: 31, maxDepth: 3, minDataInLeaf: 100 },
    );
    for (const t of r.model.trees) {
      expect(t.leafValue.length).toBeLessThanOrEqual(8);
      for (const c of t.leafCover) expect(c).toBeGreaterThanOrEqual(100);
      for (let n = 0; n < t.splitFeature.length; n++) {
        const cov = (c: number) => (c < 0 ? t.leafCover[~c] : t.internalCover[c]);
        expect(cov(t.left[n]) + cov(t.right[n])).toBeCloseTo(t.internalCover[n], 6);
      }
    }
  });

  it('is deterministic for a seed, with bagging and feature sampling', () => {
    const data = synthetic(3000, 7);
    const params = {
      objective: 'binary' as const,
      numTrees: 10,
      featureFraction: 0.6,
      baggingFraction: 0.7,
      baggingFreq: 1,
      seed: 11,
    };
    const a = trainGbdt(data, params);
    const b = trainGbdt(data, params);
    const c = trainGbdt(data, { ...params, seed: 12 });
    expect(Array.from(predictMargin(a.model, data.X, 100))).toEqual(Array.from(predictMargin(b.model, data.X, 100)));
    expect(Array.from(predictMargin(a.model, data.X, 100))).not.toEqual(
      Array.from(predictMargin(c.model, data.X, 100)),
    );
  });

  it('stops early on the validation loss and keeps the best iteration', () => {
    const train = synthetic(2000, 9);
    const valid = synthetic(2000, 10);
    const r = trainGbdt(
      train,
      {
        objective: 'binary',
        numTrees: 400,
        learningRate: 0.3,
        maxLeaves: 31,
        minDataInLeaf: 5,
        earlyStoppingRounds: 10,
      },
      valid,
    );
    expect(r.bestIteration).toBeLessThan(400);
    expect(r.model.trees.length).toBe(r.bestIteration);
    expect(r.evals.valid.length).toBe(r.bestIteration + 10);
    expect(Math.min(...r.evals.valid)).toBe(r.evals.valid[r.bestIteration - 1]);
  });

  it('finds the exact split on the last feature of wide rows (70 features: the non-unrolled kernels), missing values included', () => {
    // x69 on a grid of 0.1 (fewer distinct values than bins, so every value has its own bin); y = 5 where x69 > 0.3 or
    // x69 is missing, else −1: one split on feature 69, between 0.3 and 0.4, separates the labels exactly, missing goes
    // right; leaf values (learning rate 1, λ = 0) are then the side means minus the base score: −1 − base, 5 − base.
    const d = 70;
    const n = 3000;
    const rng = new Xoshiro128ss(17);
    const X = new Float64Array(n * d);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) X[i * d + j] = rng.normal();
      X[i * d + 69] = i % 17 === 0 ? NaN : Math.round(X[i * d + 69] * 10) / 10;
      const v = X[i * d + 69];
      y[i] = v > 0.3 || v !== v ? 5 : -1;
    }
    const base = y.reduce((a, b) => a + b, 0) / n;
    for (const quantizedGradients of [false, true]) {
      const featureNames = Array.from({ length: d }, (_, j) => `f${j}`);
      const t = trainGbdt(
        { X, nRows: n, featureNames, y },
        { objective: 'regression', numTrees: 1, maxLeaves: 2, learningRate: 1, minDataInLeaf: 1, quantizedGradients },
      ).model.trees[0];
      expect(Array.from(t.splitFeature)).toEqual([69]);
      expect(t.threshold[0]).toBeGreaterThanOrEqual(0.3);
      expect(t.threshold[0]).toBeLessThan(0.4);
      expect(t.defaultLeft[0]).toBe(0);
      expect(t.leafValue[~t.left[0]]).toBeCloseTo(-1 - base, 10);
      expect(t.leafValue[~t.right[0]]).toBeCloseTo(5 - base, 10);
    }
  });

  it('gives the same model whether the training loss is recorded or not (scores then updated in the gradients pass), with more than 256 leaves', () => {
    const data = synthetic(3000, 21);
    let mostLeaves = 0;
    for (const extra of [
      {},
      { baggingFraction: 0.6, baggingFreq: 2, seed: 4 },
      { quantizedGradients: false, featureFraction: 0.4, seed: 5 },
    ]) {
      const p = { objective: 'binary' as const, numTrees: 2, maxLeaves: 300, minDataInLeaf: 2, ...extra };
      const a = trainGbdt(data, { ...p, evalTrainLoss: true }).model;
      const b = trainGbdt(data, { ...p, evalTrainLoss: false }).model;
      expect(b).toEqual(a);
      for (const t of a.trees) mostLeaves = Math.max(mostLeaves, t.leafValue.length);
    }
    expect(mostLeaves).toBeGreaterThan(256);
  });

  it('rejects bad input', () => {
    const X = Float64Array.from([1, 2]);
    expect(() =>
      trainGbdt({ X, nRows: 2, featureNames: ['x'], y: Float64Array.from([0, 2]) }, { objective: 'binary' }),
    ).toThrow(/0 or 1/);
    expect(() =>
      trainGbdt({ X, nRows: 2, featureNames: ['x'], y: Float64Array.from([0]) }, { objective: 'binary' }),
    ).toThrow(/shape/);
  });
});
