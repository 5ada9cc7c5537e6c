import { Xoshiro128ss } from '@strata/shared-random';
import { averagePathLength, IsolationForest } from './isolation-forest';

/** Dense 2-D Gaussian cluster (σ = 1 around the origin) of `n` rows, row-major, plus optional extra rows. */
function cluster(n: number, seed: number, extra: number[][] = []): Float64Array {
  const rng = new Xoshiro128ss(seed, 3);
  const x = new Float64Array((n + extra.length) * 2);
  for (let i = 0; i < n; i++) {
    x[2 * i] = rng.normal();
    x[2 * i + 1] = rng.normal();
  }
  extra.forEach((row, k) => x.set(row, 2 * (n + k)));
  return x;
}

describe('averagePathLength c(n)', () => {
  it('matches hand-computed values of 2(ln(n−1) + γ) − 2(n−1)/n', () => {
    expect(averagePathLength(0)).toBe(0);
    expect(averagePathLength(1)).toBe(0);
    expect(averagePathLength(2)).toBe(1);
    // n = 3: 2(ln 2 + 0.5772156649) − 4/3 = 2(0.6931471806 + 0.5772156649) − 1.3333333333 = 1.2074
    expect(averagePathLength(3)).toBeCloseTo(1.2073923576, 9);
    // n = 256: 2(ln 255 + γ) − 510/256 = 2(5.5412635452 + 0.5772156649) − 1.9921875 = 12.2369584202 − 1.9921875 = 10.2447709202
    expect(averagePathLength(256)).toBeCloseTo(10.2447709202, 8);
    // n = 10: 2(ln 9 + γ) − 1.8 = 2(2.1972245773 + 0.5772156649) − 1.8 = 3.7488804844
    expect(averagePathLength(10)).toBeCloseTo(3.7488804844, 9);
  });
});

describe('IsolationForest', () => {
  const x = cluster(2000, 11, [[12, -12]]);
  const rows = 2001;
  const forest = IsolationForest.fit(x, rows, 2, { seed: 5 });

  it('scores an isolated point above 0.7 and dense-cluster points near or below 0.5', () => {
    const s = forest.score(x, rows);
    expect(s[2000]).toBeGreaterThan(0.7);
    let centre = 0;
    let nCentre = 0;
    for (let i = 0; i < 2000; i++) {
      if (Math.hypot(x[2 * i], x[2 * i + 1]) < 1) {
        centre += s[i];
        nCentre++;
      }
    }
    expect(nCentre).toBeGreaterThan(500);
    expect(centre / nCentre).toBeLessThan(0.5);
    expect(centre / nCentre).toBeGreaterThan(0.35);
  });

  it('agrees between score() and scoreOne() and with s = 2^(−E[h]/c(ψ))', () => {
    const s = forest.score(x, rows);
    // Every row: the WebAssembly kernel (blocks of 1,024 rows, eight abreast; 2,001 rows = two blocks and a padded
    // last group of one row) against the one-row JavaScript path.
    let worst = 0;
    for (let i = 0; i < rows; i++) worst = Math.max(worst, Math.abs(forest.scoreOne(x, 2 * i) - s[i]));
    expect(worst).toBeLessThan(1e-12);
    for (const i of [0, 17, 999, 2000]) {
      expect(forest.scoreOne(x, 2 * i)).toBeCloseTo(s[i], 12);
      expect(s[i]).toBeCloseTo(Math.pow(2, -forest.pathLength(x, 2 * i) / averagePathLength(256)), 12);
    }
    // A NaN feature compares false and goes left in both paths.
    const withNaN = Float64Array.from([Number.NaN, 0.5, 3, Number.NaN]);
    const sNaN = forest.score(withNaN, 2);
    expect(sNaN[0]).toBeCloseTo(forest.scoreOne(withNaN, 0), 12);
    expect(sNaN[1]).toBeCloseTo(forest.scoreOne(withNaN, 2), 12);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const again = IsolationForest.fit(x, rows, 2, { seed: 5 }).score(x, rows);
    expect(Array.from(again)).toEqual(Array.from(forest.score(x, rows)));
    const other = IsolationForest.fit(x, rows, 2, { seed: 6 }).score(x, rows);
    expect(Array.from(other)).not.toEqual(Array.from(again));
  });

  it('scores each forest with its own trees when forests of one height take turns in the shared kernel memory', () => {
    const a = IsolationForest.fit(x, rows, 2, { seed: 21 });
    const b = IsolationForest.fit(x, rows, 2, { seed: 22, trees: 37 });
    const first = a.score(x, rows);
    const fromB = b.score(x, rows);
    expect(Array.from(a.score(x, rows))).toEqual(Array.from(first));
    for (const i of [0, 500, 2000]) {
      expect(first[i]).toBeCloseTo(a.scoreOne(x, 2 * i), 12);
      expect(fromB[i]).toBeCloseTo(b.scoreOne(x, 2 * i), 12);
    }
  });

  it('uses the configured tree count and subsample (capped at the row count)', () => {
    const small = IsolationForest.fit(x, 100, 2, { trees: 7, subsample: 256, seed: 1 });
    expect(small.trees).toBe(7);
    expect(small.subsample).toBe(100);
    // A full binary tree over ψ rows has at most 2ψ − 1 nodes.
    expect(small.depth).toBe(7); // ⌈log2 100⌉
  });

  it('gives the exact path length on a hand-worked tiny case', () => {
    // Two distinct rows: the root splits them (depth 1 each, external size 1 → c(1) = 0): E[h] = 1 for every row,
    // s = 2^(−1/c(2)) = 2^(−1) = 0.5.
    const tiny = new Float64Array([0, 1]);
    const f = IsolationForest.fit(tiny, 2, 1, { trees: 3, seed: 9 });
    expect(f.pathLength(tiny, 0)).toBe(1);
    expect(f.score(tiny, 2)[1]).toBeCloseTo(0.5, 12);
    // Identical rows cannot be split: one external node of size 2 at depth 0 → h = c(2) = 1.
    const same = new Float64Array([3, 3]);
    expect(IsolationForest.fit(same, 2, 1, { trees: 2 }).pathLength(same, 0)).toBe(1);
  });

  it('rejects malformed input with a clear error', () => {
    expect(() => IsolationForest.fit(new Float64Array(3), 2, 2)).toThrow(/need rows × columns = 4/);
    expect(() => IsolationForest.fit(new Float64Array(4), 2, 2, { trees: 0 })).toThrow(/trees/);
  });
});
