import { hashSeed } from '@strata/shared-random';
import { ForestKernel } from './isolation-forest.kernel';

/** Euler–Mascheroni constant, for the harmonic-number approximation H(i) ≈ ln(i) + γ. */
export const EULER_GAMMA = 0.5772156649;

/**
 * Average path length of an unsuccessful binary-search-tree search among `n` points (Liu, Ting & Zhou 2008):
 * c(n) = 2·H(n − 1) − 2(n − 1)/n with H(i) ≈ ln(i) + γ; c(2) = 1 and c(n ≤ 1) = 0 (as scikit-learn defines them).
 * It normalises path lengths (s = 2^(−E[h]/c(ψ))) and adjusts external nodes that still hold `n` points.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2 * (Math.log(n - 1) + EULER_GAMMA) - (2 * (n - 1)) / n;
}

/**
 * Mulberry32 step over a one-word state: returns a uniform double in [0, 1). Kept in an Int32Array so the state
 * stays an untagged 32-bit integer (an object field holding a uint32 would be boxed on every draw). Statistical quality
 * is ample for subsampling and split draws; it is not the synthetic generator's stream and need not be.
 */
function nextUniform(state: Int32Array): number {
  const a = (state[0] = (state[0] + 0x6d2b79f5) | 0);
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** 32-bit seed of a numeric or textual seed (FNV-1a for text, the low 32 bits mixed with the high ones for numbers). */
function seed32(seed: number | string): number {
  if (typeof seed === 'string') return hashSeed(seed) | 0;
  const t = Math.trunc(seed);
  return (t ^ Math.floor(t / 4294967296) ^ 0x9e3779b9) | 0;
}

/** Fitting options of an {@link IsolationForest}. */
export interface IsolationForestOptions {
  /** Number of isolation trees (default 100). */
  trees?: number;
  /** Subsample size ψ drawn without replacement per tree (default 256; capped at the row count). */
  subsample?: number;
  /** PRNG seed (number or string, default 42): the same seed and data give bit-identical trees and scores. */
  seed?: number | string;
}

/**
 * Isolation Forest (Liu, Ting & Zhou, ICDM 2008) over row-major `Float64Array` features.
 *
 * - Fit: each tree isolates a subsample of ψ rows drawn without replacement by recursive random axis-parallel splits
 *   (a feature drawn uniformly among those not constant in the node, a threshold uniform in its [min, max)), up to the
 *   height limit L = ⌈log2 ψ⌉. An external node holding `size` rows at depth `d` has path length d + c(size).
 * - Score: s(x) = 2^(−E[h(x)] / c(ψ)) in (0, 1]: ≈ 1 for points isolated at once, ≈ 0.5 or below for points inside
 *   dense regions.
 *
 * Layout: each tree is stored as a complete binary tree of depth L in flat typed arrays (node k has children 2k + 1
 * and 2k + 2). An external node above depth L is pushed down its leftmost path, whose nodes get threshold +∞ (always
 * left), so every walk is exactly L branch-free steps; batch scoring runs a generated WebAssembly kernel that walks
 * eight rows at a time through one tree so their independent load chains overlap. Nothing is allocated per row.
 *
 * Guarantees: deterministic for a seed (same seed and data → bit-identical trees and scores). Features must be
 * finite: a NaN compares false and always goes left.
 */
export class IsolationForest {
  private constructor(
    /** Number of feature columns per row. */
    readonly columns: number,
    /** Number of trees. */
    readonly trees: number,
    /** Subsample size actually used (ψ, at most the number of fitted rows). */
    readonly subsample: number,
    /** Height limit L = ⌈log2 ψ⌉ (every tree is a complete binary tree of this depth). */
    readonly depth: number,
    /** Split feature per internal node, `trees × (2^L − 1)`. */
    private readonly feature: Int32Array,
    /** Split threshold per internal node (go right when x ≥ threshold; +∞ = always left). */
    private readonly threshold: Float64Array,
    /** Path length d + c(size) per leaf slot, `trees × 2^L`. */
    private readonly leafPath: Float64Array,
  ) {}

  /** The scoring kernel holding a copy of the trees (compiled on first use, see {@link ForestKernel}). */
  private kernel: ForestKernel | undefined;

  /**
   * Fits a forest on `rows × columns` values in row-major order (`x[row * columns + col]`).
   * @throws RangeError for an empty input, a length that is not rows × columns, or invalid options.
   */
  static fit(x: Float64Array, rows: number, columns: number, options: IsolationForestOptions = {}): IsolationForest {
    const trees = options.trees ?? 100;
    const requested = options.subsample ?? 256;
    if (!Number.isInteger(rows) || rows < 1) throw new RangeError(`rows must be a positive integer, got ${rows}`);
    if (!Number.isInteger(columns) || columns < 1)
      throw new RangeError(`columns must be a positive integer, got ${columns}`);
    if (x.length < rows * columns)
      throw new RangeError(`x holds ${x.length} values, need rows × columns = ${rows * columns}`);
    if (!Number.isInteger(trees) || trees < 1) throw new RangeError(`trees must be a positive integer, got ${trees}`);
    if (!Number.isInteger(requested) || requested < 2 || requested > 65536) {
      throw new RangeError(`subsample must be an integer in [2, 65536], got ${requested}`);
    }
    const psi = Math.min(requested, rows);
    const depth = Math.max(1, Math.ceil(Math.log2(psi)));
    const inner = (1 << depth) - 1;
    const leaves = 1 << depth;
    const feature = new Int32Array(trees * inner);
    const threshold = new Float64Array(trees * inner).fill(Infinity);
    const leafPath = new Float64Array(trees * leaves);
    const rng = new Int32Array([seed32(options.seed ?? 42)]);

    // One permutation of all rows, partially reshuffled per tree: its first ψ entries are a uniform sample without
    // replacement, and the array stays a permutation, so nothing is reallocated per tree.
    const perm = new Int32Array(rows);
    for (let i = 0; i < rows; i++) perm[i] = i;
    const idx = new Int32Array(psi);
    // Work stack of pending nodes: implicit position, start and end (into idx), depth.
    const cap = 2 * psi + 2;
    const stackPos = new Int32Array(cap);
    const stackStart = new Int32Array(cap);
    const stackEnd = new Int32Array(cap);
    const stackDepth = new Int32Array(cap);
    const candidates = new Int32Array(columns);

    for (let t = 0; t < trees; t++) {
      const fo = t * inner;
      const lo0 = t * leaves;
      for (let i = 0; i < psi; i++) {
        const j = i + Math.floor(nextUniform(rng) * (rows - i));
        const tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
        idx[i] = perm[i];
      }
      let sp = 0;
      stackPos[sp] = 0;
      stackStart[sp] = 0;
      stackEnd[sp] = psi;
      stackDepth[sp] = 0;
      sp++;
      while (sp > 0) {
        sp--;
        const pos = stackPos[sp];
        const start = stackStart[sp];
        const end = stackEnd[sp];
        const d = stackDepth[sp];
        const size = end - start;
        // Draw features without replacement until one is not constant in the node: a uniform draw among the
        // non-constant features, scanning usually just one column.
        let q = -1;
        let lo = 0;
        let hi = 0;
        if (d < depth && size > 1) {
          for (let c = 0; c < columns; c++) candidates[c] = c;
          let remaining = columns;
          while (remaining > 0) {
            const k = Math.floor(nextUniform(rng) * remaining);
            const c = candidates[k];
            lo = Infinity;
            hi = -Infinity;
            for (let i = start; i < end; i++) {
              const v = x[idx[i] * columns + c];
              if (v < lo) lo = v;
              if (v > hi) hi = v;
            }
            if (hi > lo) {
              q = c;
              break;
            }
            candidates[k] = candidates[remaining - 1];
            remaining--;
          }
        }
        if (q < 0) {
          // External node: its walk continues left (thresholds stay +∞) down to the leftmost leaf slot.
          let p = pos;
          for (let k = d; k < depth; k++) p = 2 * p + 1;
          leafPath[lo0 + p - inner] = d + averagePathLength(size);
          continue;
        }
        let p = lo + (hi - lo) * nextUniform(rng);
        if (!(p > lo)) p = hi; // rows ≥ p go right, so p must exceed the minimum for both sides to be non-empty
        let a = start;
        let b = end - 1;
        while (a <= b) {
          if (x[idx[a] * columns + q] < p) a++;
          else {
            const tmp = idx[a];
            idx[a] = idx[b];
            idx[b] = tmp;
            b--;
          }
        }
        feature[fo + pos] = q;
        threshold[fo + pos] = p;
        stackPos[sp] = 2 * pos + 1;
        stackStart[sp] = start;
        stackEnd[sp] = a;
        stackDepth[sp] = d + 1;
        sp++;
        stackPos[sp] = 2 * pos + 2;
        stackStart[sp] = a;
        stackEnd[sp] = end;
        stackDepth[sp] = d + 1;
        sp++;
      }
    }
    return new IsolationForest(columns, trees, psi, depth, feature, threshold, leafPath);
  }

  /** Mean path length E[h(x)] of one row, `x[offset .. offset + columns)`. */
  pathLength(x: Float64Array, offset = 0): number {
    const inner = (1 << this.depth) - 1;
    const leaves = inner + 1;
    let sum = 0;
    for (let t = 0; t < this.trees; t++) {
      const fo = t * inner;
      let k = 0;
      for (let d = 0; d < this.depth; d++)
        k = 2 * k + 1 + +(x[offset + this.feature[fo + k]] >= this.threshold[fo + k]);
      sum += this.leafPath[t * leaves + k - inner];
    }
    return sum / this.trees;
  }

  /** Anomaly score s(x) = 2^(−E[h(x)]/c(ψ)) of one row starting at `offset`, in (0, 1]. */
  scoreOne(x: Float64Array, offset = 0): number {
    return Math.pow(2, -this.pathLength(x, offset) / averagePathLength(this.subsample));
  }

  /**
   * Scores `rows` rows of row-major `x` into `out` (allocated when omitted) and returns it. The path lengths are summed
   * by the generated WebAssembly kernel ({@link ForestKernel}): rows in blocks, tree by tree, eight rows abreast, so
   * one tree stays in cache and eight independent descents overlap; nothing is allocated per row. The path-length sums
   * are bit-identical to {@link pathLength}'s (same additions in the same order); scores agree with {@link scoreOne}'s
   * to rounding.
   */
  score(x: Float64Array, rows: number, out: Float64Array = new Float64Array(rows)): Float64Array {
    if (x.length < rows * this.columns)
      throw new RangeError(`x holds ${x.length} values, need rows × columns = ${rows * this.columns}`);
    if (out.length < rows) throw new RangeError(`out holds ${out.length} values, need ${rows}`);
    const kernel = (this.kernel ??= new ForestKernel(
      this.depth,
      this.trees,
      this.columns,
      this.feature,
      this.threshold,
      this.leafPath,
    ));
    kernel.pathSums(x, rows, out);
    const scale = -1 / (this.trees * averagePathLength(this.subsample));
    for (let r = 0; r < rows; r++) out[r] = Math.pow(2, out[r] * scale);
    return out;
  }
}
