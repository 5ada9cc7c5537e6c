import { Xoshiro128ss } from '@strata/domain-synthetic';
import { compileTreeEnsemble } from './compiled-ensemble';
import { trainGbdt } from './gbdt.trainer';
import { leafIndexFor, predictMargin, type TreeEnsemble } from './tree-ensemble';

describe('compileTreeEnsemble', () => {
  // A real trained model: 40 trees × 15 leaves on 4,000 rows × 6 features with 10 % missing values.
  const d = 6;
  const rng = new Xoshiro128ss(11);
  const n = 4000;
  const X = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) X[r * d + j] = rng.uniform() < 0.1 ? NaN : rng.uniform() * 4 - 2;
    const a = X[r * d] || 0;
    const b = X[r * d + 1] || 0;
    y[r] = a * b + Math.sin(3 * (X[r * d + 2] || 0)) + (rng.uniform() - 0.5) > 0 ? 1 : 0;
  }
  const model: TreeEnsemble = trainGbdt({ X, nRows: n, featureNames: ['a', 'b', 'c', 'd', 'e', 'f'], y }, { objective: 'binary', numTrees: 40, maxLeaves: 15, minDataInLeaf: 10, seed: 3 }).model;

  // Probe rows: random values, missing values, and every threshold of the model exactly (the `<=` boundary).
  const thresholds = model.trees.flatMap((t) => Array.from(t.threshold));
  const m = 3000;
  const P = new Float64Array(m * d);
  for (let i = 0; i < P.length; i++) {
    const u = rng.uniform();
    P[i] = u < 0.15 ? NaN : u < 0.5 ? thresholds[Math.floor(rng.uniform() * thresholds.length)] : rng.uniform() * 6 - 3;
  }

  it('routes every row to the same leaf as the reference, tree by tree', () => {
    for (const [k, tree] of model.trees.entries()) {
      const one = compileTreeEnsemble({ ...model, baseScore: 0, trees: [tree] })(P, m);
      for (let r = 0; r < m; r++) expect(one[r]).toBe(tree.leafValue[leafIndexFor(tree, P, r * d)]);
      if (k > 8) break;
    }
  });

  it('gives the reference margins to 1e-12 on thousands of rows (trees summed in groups)', () => {
    const ref = predictMargin(model, P, m);
    const got = compileTreeEnsemble(model)(P, m);
    let max = 0;
    for (let r = 0; r < m; r++) max = Math.max(max, Math.abs(got[r] - ref[r]));
    expect(max).toBeLessThan(1e-12);
    expect(new Set(Array.from(got)).size).toBeGreaterThan(100);
  });

  it('scores a single-leaf ensemble and refuses a short matrix', () => {
    const stump: TreeEnsemble = { objective: 'regression', featureNames: ['a'], baseScore: 1.5, trees: [{ ...model.trees[0], splitFeature: new Int32Array(0), leafValue: Float64Array.of(-0.25) }] };
    expect(Array.from(compileTreeEnsemble(stump)(Float64Array.of(7, NaN), 2))).toEqual([1.25, 1.25]);
    expect(() => compileTreeEnsemble(model)(new Float64Array(5), 1)).toThrow(RangeError);
  });
});
