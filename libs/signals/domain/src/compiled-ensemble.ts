import type { Tree, TreeEnsemble } from './tree-ensemble';

/** A compiled scorer: raw margins of `nRows` row-major rows of `X` into `out` (allocated when absent). */
export type CompiledEnsemble = (X: Float64Array, nRows: number, out?: Float64Array) => Float64Array;

/** Options of {@link compileTreeEnsemble}; the defaults are the figures measured fastest (bench:signals). */
export interface CompileTreeEnsembleOptions {
  /**
   * Internal nodes per generated function (default 960, about 32 trees of 31 leaves). Bigger functions amortise the
   * per-row loop and the feature loads (measured on the bench model: 960–1,200 beat 300 by ~10 % and 150 by ~2×);
   * at 2,000 V8 no longer optimises them (8× slower).
   */
  nodesPerFunction?: number;
  /**
   * Calls with at least this many rows (default 1,024; `Infinity` = never) are scored in branch-predictable order
   * (see {@link RowOrder}; +8–33 %, typically ~20 %, on 10,000-row batches of the bench model). Fewer rows give
   * short runs of similar rows, and a one-row call has nothing to sort.
   */
  reorderMinRows?: number;
  /** Rows scored through every tree before the next block (default 512: the block's rows stay in L2 while every group runs). */
  blockRows?: number;
}

/** One generated function: for `i` in `from..to−1`, adds the margin of its trees for row `r = rows[i]` of `X` to `out[r]`. */
type TreeGroup = (X: Float64Array, rows: Int32Array, from: number, to: number, out: Float64Array) => void;

/**
 * Compiles a tree ensemble into JavaScript (nested `if` per tree, thresholds and leaf values inlined as literals,
 * each row's features read once into locals per group of trees), which V8 turns into straight machine branches.
 * Most of the cost is branch mispredictions, so batches of `reorderMinRows` or more rows are scored in a
 * branch-predictable order ({@link RowOrder}) through a permutation: each margin is written to the row's own slot of
 * `out`, nothing is copied and the caller sees its own order. Measurements and the alternatives that lost:
 * docs/signals.md, "Compiled scoring".
 *
 * Same routing as `predictMargin` bit for bit (NaN follows `defaultLeft`, written as `!(x > t)` so one comparison
 * covers both); sums may differ in the last ulp because trees are added in groups. The generated source holds only
 * numbers from typed arrays, never strings from the model, so nothing can be injected through it. The returned
 * function keeps scratch buffers: it is synchronous and not re-entrant.
 * @throws RangeError when a threshold or leaf value is not finite.
 */
export function compileTreeEnsemble(model: TreeEnsemble, opts: CompileTreeEnsembleOptions = {}): CompiledEnsemble {
  const d = model.featureNames.length;
  const groups = compileGroups(model, opts.nodesPerFunction ?? 960);
  const reorderMinRows = opts.reorderMinRows ?? 1024;
  const blockRows = Math.max(1, opts.blockRows ?? 512);
  const order = Number.isFinite(reorderMinRows) ? RowOrder.forModel(model) : null;
  const base = model.baseScore;
  let identity = new Int32Array(0);
  const scoreRows = (X: Float64Array, rows: Int32Array, n: number, out: Float64Array): void => {
    out.fill(base, 0, n);
    for (let from = 0; from < n; from += blockRows) {
      const to = Math.min(n, from + blockRows);
      for (const g of groups) g(X, rows, from, to, out);
    }
  };
  return (X, nRows, out = new Float64Array(nRows)) => {
    if (X.length < nRows * d)
      throw new RangeError(`X has ${X.length} values, ${nRows} rows × ${d} features need ${nRows * d}`);
    if (order && nRows >= reorderMinRows) {
      scoreRows(X, order.sort(X, nRows, d), nRows, out);
      return out;
    }
    if (identity.length < nRows)
      identity = Int32Array.from({ length: Math.max(nRows, 2 * identity.length) }, (_, i) => i);
    scoreRows(X, identity, nRows, out);
    return out;
  };
}

/** The trees as generated functions of about `nodesPerFunction` internal nodes each. */
function compileGroups(model: TreeEnsemble, nodesPerFunction: number): TreeGroup[] {
  const d = model.featureNames.length;
  const groups: TreeGroup[] = [];
  for (let k = 0; k < model.trees.length;) {
    const trees: Tree[] = [];
    let nodes = 0;
    while (
      k < model.trees.length &&
      (trees.length === 0 || nodes + model.trees[k].splitFeature.length <= nodesPerFunction)
    ) {
      nodes += model.trees[k].splitFeature.length;
      trees.push(model.trees[k++]);
    }
    const used = new Set<number>();
    for (const t of trees) for (const f of t.splitFeature) used.add(f | 0);
    const loads = [...used].map((f) => `const x${f} = X[o + ${f}];`).join(' ');
    const body = trees.map(treeSource).join('\n');
    const src = `'use strict'; for (let i = from; i < to; i++) { const r = rows[i]; const o = r * ${d}; ${loads} let s = 0;\n${body}\nout[r] += s; }`;
    groups.push(new Function('X', 'rows', 'from', 'to', 'out', src) as TreeGroup);
  }
  return groups;
}

/** A number literal of the generated source (finite only). */
function literal(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`tree value ${x} is not finite`);
  return Object.is(x, -0) ? '-0' : String(x);
}

/** `s += leaf` statements of one tree as nested ifs over the locals `x<feature>`. */
function treeSource(t: Tree): string {
  const node = (c: number): string => {
    if (c < 0) return `s += ${literal(t.leafValue[~c])};`;
    const x = `x${t.splitFeature[c] | 0}`;
    const th = literal(t.threshold[c]);
    const cond = t.defaultLeft[c] === 1 ? `!(${x} > ${th})` : `${x} <= ${th}`;
    return `if (${cond}) { ${node(t.left[c])} } else { ${node(t.right[c])} }`;
  };
  return t.splitFeature.length === 0 ? `s += ${literal(t.leafValue[0])};` : node(0);
}

/** Bits of the sort key (two 8-bit radix passes). */
const KEY_BITS = 16;
/** Features the key is built from (measured on the bench model: 4 × 4 bits beat 1–3 and 5–6 features). */
const KEY_FEATURES = 4;

/**
 * A branch-predictable order of a batch of rows for a tree ensemble. A tree's `if` costs ~20 cycles when the CPU
 * mispredicts it and ~1 when not; on rows in random order the splits near the roots are near coin flips. Sorting the
 * rows by a key of coarse bins of the features whose splits are least predictable makes consecutive rows take the
 * same branches: lexicographic over the top {@link KEY_FEATURES} features by Σ cover·2p(1−p) of their splits (p =
 * share of the cover going left, the misprediction rate of a random order), each cut into 2^min(8, ⌊16/k⌋) bins at
 * weighted quantiles of its thresholds; NaN falls in the lowest bin. Stable (ties keep the caller's order), O(rows) (LSD radix sort on
 * the 16-bit key), and the order only changes which row is scored when, never a row's score. Models without cover
 * (imported) weigh a split by 2^−depth instead.
 */
export class RowOrder {
  private keys = new Uint16Array(0);
  private perm = new Int32Array(0);
  private tmp = new Int32Array(0);
  private readonly count = new Int32Array(257);

  private constructor(
    /** Key features, most significant first. */
    readonly features: Int32Array,
    /** Per key feature: 2^bits − 1 ascending cut points, padded with +∞ (bin = number of cuts below the value). */
    readonly cuts: Float64Array[],
    /** Bits of each key feature's bin in the key (the same for all). */
    readonly bits: number,
  ) {}

  /** The order for `model`, or null when it has no split (nothing to predict). */
  static forModel(model: TreeEnsemble): RowOrder | null {
    const d = model.featureNames.length;
    const weight = new Float64Array(d);
    const splits: { f: number; t: number; w: number }[] = [];
    const covered = model.trees.some((t) => t.splitFeature.length > 0 && t.internalCover[0] > 0);
    for (const tree of model.trees) {
      const cover = (c: number): number => (c < 0 ? tree.leafCover[~c] : tree.internalCover[c]);
      const visit = (c: number, depth: number): void => {
        if (c < 0) return;
        const l = cover(tree.left[c]);
        const total = l + cover(tree.right[c]);
        const p = total > 0 ? l / total : 0.5;
        const w = covered ? Math.max(0, total) * 2 * p * (1 - p) : 2 ** -depth;
        const f = tree.splitFeature[c];
        if (Number.isFinite(w) && f >= 0 && f < d) {
          weight[f] += w;
          splits.push({ f, t: tree.threshold[c], w });
        }
        visit(tree.left[c], depth + 1);
        visit(tree.right[c], depth + 1);
      };
      if (tree.splitFeature.length > 0) visit(0, 0);
    }
    const top = Array.from(weight.keys())
      .filter((f) => weight[f] > 0)
      .sort((a, b) => weight[b] - weight[a] || a - b)
      .slice(0, KEY_FEATURES);
    if (top.length === 0) return null;
    const bits = Math.min(8, Math.floor(KEY_BITS / top.length));
    const cuts = top.map((f) => {
      const c = weightedCuts(
        splits.filter((s) => s.f === f),
        (1 << bits) - 1,
      );
      const padded = new Float64Array((1 << bits) - 1).fill(Infinity);
      padded.set(c);
      return padded;
    });
    return new RowOrder(Int32Array.from(top), cuts, bits);
  }

  /**
   * The rows `0..nRows−1` of `X` (`d` columns) in key order: row `perm[i]` is scored `i`-th. The returned array is
   * reused by the next call.
   */
  sort(X: Float64Array, nRows: number, d: number): Int32Array {
    if (this.keys.length < nRows) {
      this.keys = new Uint16Array(nRows);
      this.perm = new Int32Array(nRows);
      this.tmp = new Int32Array(nRows);
    }
    const { keys, perm, tmp, count, features, cuts, bits } = this;
    keys.fill(0, 0, nRows);
    for (let k = 0; k < features.length; k++) {
      const c = cuts[k];
      for (let r = 0, o = features[k]; r < nRows; r++, o += d) {
        const x = X[o];
        // Branch-free binary search over 2^bits − 1 ascending cuts (padded with +∞): b = number of cuts below x; NaN
        // compares false everywhere, bin 0.
        let b = 0;
        for (let step = 1 << (bits - 1); step > 0; step >>= 1) b += +(x > c[b + step - 1]) * step;
        keys[r] = (keys[r] << bits) | b;
      }
    }
    // LSD radix sort on the 16-bit key, low byte then high byte (stable).
    count.fill(0);
    for (let r = 0; r < nRows; r++) count[(keys[r] & 255) + 1]++;
    for (let i = 1; i < 257; i++) count[i] += count[i - 1];
    for (let r = 0; r < nRows; r++) tmp[count[keys[r] & 255]++] = r;
    count.fill(0);
    for (let r = 0; r < nRows; r++) count[(keys[r] >>> 8) + 1]++;
    for (let i = 1; i < 257; i++) count[i] += count[i - 1];
    for (let i = 0; i < nRows; i++) {
      const r = tmp[i];
      perm[count[keys[r] >>> 8]++] = r;
    }
    return perm;
  }
}

/** Up to `n` distinct cut points at the weighted quantiles of the thresholds of `splits`. */
function weightedCuts(splits: { t: number; w: number }[], n: number): Float64Array {
  const s = splits.filter((x) => Number.isFinite(x.t)).sort((a, b) => a.t - b.t);
  const total = s.reduce((acc, x) => acc + x.w, 0);
  const cuts: number[] = [];
  let acc = 0;
  let q = 1;
  for (const { t, w } of s) {
    acc += w;
    while (q <= n && acc >= (q * total) / (n + 1)) {
      if (cuts.length === 0 || cuts[cuts.length - 1] < t) cuts.push(t);
      q++;
    }
  }
  return Float64Array.from(cuts);
}
