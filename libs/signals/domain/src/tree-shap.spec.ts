import { Xoshiro128ss } from '@strata/shared-random';
import { trainGbdt } from './gbdt.trainer';
import { expectedMargin, gainImportance, meanAbsShap, treeShap } from './tree-shap';
import { predictMargin, type Tree, type TreeEnsemble } from './tree-ensemble';

/** A hand-built depth-3 tree over 3 features that splits on feature 0 twice on one path. */
function tinyModel(): TreeEnsemble {
  // node0: x0 <= 0.5 ? node1 : node2
  // node1: x1 <= 0 ? leaf0 (1.0, cover 30) : node3
  // node3: x0 <= -1 ? leaf1 (-2.0, cover 10) : leaf2 (0.5, cover 20)    [feature 0 again]
  // node2: x2 <= 2 ? leaf3 (3.0, cover 25) : leaf4 (-1.0, cover 15); NaN in x2 goes left
  const tree: Tree = {
    splitFeature: Int32Array.from([0, 1, 2, 0]),
    threshold: Float64Array.from([0.5, 0, 2, -1]),
    defaultLeft: Uint8Array.from([0, 1, 1, 0]),
    left: Int32Array.from([1, ~0, ~3, ~1]),
    right: Int32Array.from([2, 3, ~4, ~2]),
    gain: Float64Array.from([5, 2, 3, 1]),
    internalCover: Float64Array.from([100, 60, 40, 30]),
    leafValue: Float64Array.from([1, -2, 0.5, 3, -1]),
    leafCover: Float64Array.from([30, 10, 20, 25, 15]),
  };
  return { objective: 'regression', featureNames: ['a', 'b', 'c'], baseScore: 0.25, trees: [tree] };
}

/** E[f(x) | x_S] with the cover-weighted conditional expectation (Lundberg et al. 2018, Algorithm 1). */
function condExpectation(tree: Tree, x: number[], inS: boolean[]): number {
  const cov = (c: number) => (c < 0 ? tree.leafCover[~c] : tree.internalCover[c]);
  const go = (c: number): number => {
    if (c < 0) return tree.leafValue[~c];
    const f = tree.splitFeature[c];
    if (inS[f]) {
      const v = x[f];
      const left = v !== v ? tree.defaultLeft[c] === 1 : v <= tree.threshold[c];
      return go(left ? tree.left[c] : tree.right[c]);
    }
    return (cov(tree.left[c]) * go(tree.left[c]) + cov(tree.right[c]) * go(tree.right[c])) / cov(c);
  };
  return go(0);
}

/** Shapley values by enumerating all coalitions. */
function bruteForceShapley(model: TreeEnsemble, x: number[]): number[] {
  const M = model.featureNames.length;
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const v = (mask: number) =>
    model.trees.reduce(
      (s, t) =>
        s +
        condExpectation(
          t,
          x,
          Array.from({ length: M }, (_, j) => ((mask >> j) & 1) === 1),
        ),
      model.baseScore,
    );
  const phi = new Array<number>(M).fill(0);
  for (let i = 0; i < M; i++) {
    for (let mask = 0; mask < 1 << M; mask++) {
      if ((mask >> i) & 1) continue;
      let size = 0;
      for (let j = 0; j < M; j++) size += (mask >> j) & 1;
      const w = (fact(size) * fact(M - size - 1)) / fact(M);
      phi[i] += w * (v(mask | (1 << i)) - v(mask));
    }
  }
  return phi;
}

describe('TreeSHAP', () => {
  it('matches brute-force Shapley values on a tiny tree (repeated feature, missing value)', () => {
    const model = tinyModel();
    // E = 0.25 + (30·1 + 10·(−2) + 20·0.5 + 25·3 + 15·(−1)) / 100 = 0.25 + 0.8
    expect(expectedMargin(model)).toBeCloseTo(1.05, 14);
    for (const x of [
      [-2, 1, 0],
      [0, -1, 5],
      [1, 0.3, 1],
      [3, 2, 7],
      [0.2, 0.1, NaN],
      [1, 1, NaN],
    ]) {
      const phi = treeShap(model, x, 1);
      const ref = bruteForceShapley(model, x);
      for (let j = 0; j < 3; j++) expect(phi[j]).toBeCloseTo(ref[j], 12);
      expect(phi[3]).toBeCloseTo(1.05, 14);
      expect(phi[0] + phi[1] + phi[2] + phi[3]).toBeCloseTo(predictMargin(model, x, 1)[0], 12);
    }
  });

  it('sums to the raw margin minus the expected value on a trained ensemble (with NaNs), to 1e-9', () => {
    const rng = new Xoshiro128ss(21);
    const n = 3000;
    const d = 4;
    const X = new Float64Array(n * d);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) X[i * d + j] = rng.uniform() < 0.1 ? NaN : rng.normal();
      y[i] = (X[i * d] || 0) + (X[i * d + 1] || 0) * (X[i * d + 2] || 0) > 0 ? 1 : 0;
    }
    const { model } = trainGbdt(
      { X, nRows: n, featureNames: ['a', 'b', 'c', 'd'], y },
      { objective: 'binary', numTrees: 40, maxLeaves: 15 },
    );
    const rows = 200;
    const phi = treeShap(model, X, rows);
    const margin = predictMargin(model, X, rows);
    const e = expectedMargin(model);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += phi[r * (d + 1) + j];
      expect(phi[r * (d + 1) + d]).toBe(e);
      expect(Math.abs(s - (margin[r] - e))).toBeLessThan(1e-9);
    }
    // Brute force agrees on a trained ensemble too (4 features → 16 coalitions).
    const x = Array.from(X.subarray(0, d));
    const ref = bruteForceShapley(model, x);
    for (let j = 0; j < d; j++) expect(phi[j]).toBeCloseTo(ref[j], 9);
    // The noise feature d matters least, by gain and by mean |SHAP|.
    const gain = gainImportance(model);
    const mabs = meanAbsShap(model, X, 500);
    expect(gain[3]).toBeLessThan(Math.min(gain[0], gain[1], gain[2]));
    expect(mabs[3]).toBeLessThan(Math.min(mabs[0], mabs[1], mabs[2]));
  });
});
