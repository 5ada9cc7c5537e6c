import { Xoshiro128ss } from '@strata/shared-random';
import { compileTreeEnsemble, RowOrder } from './compiled-ensemble';
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
  const model: TreeEnsemble = trainGbdt(
    { X, nRows: n, featureNames: ['a', 'b', 'c', 'd', 'e', 'f'], y },
    { objective: 'binary', numTrees: 40, maxLeaves: 15, minDataInLeaf: 10, seed: 3 },
  ).model;

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
  }, 30_000);

  it('gives the reference margins to 1e-12 on thousands of rows (trees summed in groups)', () => {
    const ref = predictMargin(model, P, m);
    const got = compileTreeEnsemble(model)(P, m);
    let max = 0;
    for (let r = 0; r < m; r++) max = Math.max(max, Math.abs(got[r] - ref[r]));
    expect(max).toBeLessThan(1e-12);
    expect(new Set(Array.from(got)).size).toBeGreaterThan(100);
  });

  it('gives the same margins on every path: reordered or not, any group size and block size, with NaNs', () => {
    const ref = predictMargin(model, P, m);
    let nan = 0;
    for (const v of P) if (v !== v) nan++;
    expect(nan).toBeGreaterThan(2000);
    const variants = [
      {},
      { reorderMinRows: Infinity },
      { reorderMinRows: 1, nodesPerFunction: 1, blockRows: 7 },
      { nodesPerFunction: 300, blockRows: 1 },
    ];
    for (const opts of variants) {
      const score = compileTreeEnsemble(model, opts);
      // Twice: the scratch buffers of the first call must not leak into the second (here a shorter one).
      for (const rows of [m, 1500]) {
        const got = score(P, rows);
        let max = 0;
        for (let r = 0; r < rows; r++) max = Math.max(max, Math.abs(got[r] - ref[r]));
        expect(max).toBeLessThan(1e-12);
      }
    }
  });

  it('orders rows by a key of coarse bins of the least predictable features: a stable permutation, NaN first', () => {
    const order = RowOrder.forModel(model)!;
    expect(order.features.length).toBeGreaterThan(0);
    const perm = Array.from(order.sort(P, m, d));
    expect([...perm].sort((a, b) => a - b)).toEqual(Array.from({ length: m }, (_, i) => i));
    // The key, computed the straightforward way: per key feature, the number of cuts below the value (NaN: 0).
    const key = (r: number): number =>
      Array.from(order.features).reduce((k, f, i) => {
        const x = P[r * d + f];
        return k * 2 ** order.bits + (x !== x ? 0 : Array.from(order.cuts[i]).filter((c) => c < x).length);
      }, 0);
    for (let i = 1; i < m; i++) {
      const a = key(perm[i - 1]);
      const b = key(perm[i]);
      expect(a < b || (a === b && perm[i - 1] < perm[i])).toBe(true);
    }
    expect(key(perm[0])).toBe(0);
  });

  it('builds an order for models without covers (imported) and none for a model without splits', () => {
    const bare: TreeEnsemble = {
      ...model,
      trees: model.trees.map((t) => ({
        ...t,
        internalCover: new Float64Array(t.internalCover.length),
        leafCover: new Float64Array(t.leafCover.length),
      })),
    };
    const order = RowOrder.forModel(bare)!;
    expect(order.features.length).toBe(4);
    const ref = predictMargin(bare, P, m);
    const got = compileTreeEnsemble(bare, { reorderMinRows: 1 })(P, m);
    for (let r = 0; r < m; r++) expect(Math.abs(got[r] - ref[r])).toBeLessThan(1e-12);
    const stump: TreeEnsemble = {
      ...model,
      trees: [{ ...model.trees[0], splitFeature: new Int32Array(0), leafValue: Float64Array.of(0.5) }],
    };
    expect(RowOrder.forModel(stump)).toBeNull();
  });

  it('scores a single-leaf ensemble and refuses a short matrix', () => {
    const stump: TreeEnsemble = {
      objective: 'regression',
      featureNames: ['a'],
      baseScore: 1.5,
      trees: [{ ...model.trees[0], splitFeature: new Int32Array(0), leafValue: Float64Array.of(-0.25) }],
    };
    expect(Array.from(compileTreeEnsemble(stump)(Float64Array.of(7, NaN), 2))).toEqual([1.25, 1.25]);
    expect(() => compileTreeEnsemble(model)(new Float64Array(5), 1)).toThrow(RangeError);
  });
});
