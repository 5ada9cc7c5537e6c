/**
 * The tree-ensemble model format shared by the GBDT trainer, TreeSHAP, the ONNX exporter/importer and the scorers.
 * Plain typed arrays, so a model is cheap to score, to serialise and to hand to a worker thread.
 *
 * Prediction (raw margin) for a row `x` (feature values in `featureNames` order, NaN = missing):
 *   margin = baseScore + Σ_trees leafValue[leaf reached by x]
 * Routing at internal node `n`: if `x[splitFeature[n]]` is NaN go to `defaultLeft[n] ? left[n] : right[n]`;
 * else go left when `x[splitFeature[n]] <= threshold[n]`, right otherwise (ONNX `BRANCH_LEQ`).
 * Binary objective: probability = 1 / (1 + exp(−margin)). Regression: prediction = margin.
 */

/** Objective a model was trained for. */
export type TreeObjective = 'binary' | 'regression';

/**
 * One regression tree. Internal nodes are numbered 0..nInternal−1 (node 0 is the root unless the tree is a single
 * leaf, in which case `splitFeature.length === 0` and `leafValue.length === 1`). A child reference `c >= 0` is an
 * internal node; `c < 0` is the leaf `~c` (i.e. `-c - 1`).
 */
export interface Tree {
  /** Per internal node: index of the feature split on. */
  splitFeature: Int32Array;
  /** Per internal node: go left when value <= threshold. */
  threshold: Float64Array;
  /** Per internal node: 1 when a missing value (NaN) goes left, 0 when it goes right (learned default direction). */
  defaultLeft: Uint8Array;
  /** Per internal node: left / right child reference (see the interface comment). */
  left: Int32Array;
  right: Int32Array;
  /** Per internal node: loss reduction of the split (for gain importance). */
  gain: Float64Array;
  /** Per internal node: training cover (sum of hessians, = row count for L2) reaching it (for TreeSHAP). */
  internalCover: Float64Array;
  /** Per leaf: output, already multiplied by the learning rate. */
  leafValue: Float64Array;
  /** Per leaf: training cover reaching it. */
  leafCover: Float64Array;
}

/** A trained (or imported) tree ensemble. */
export interface TreeEnsemble {
  objective: TreeObjective;
  /** Input columns in order; a scorer's input row must follow this order. */
  featureNames: string[];
  /** Raw margin every prediction starts from (log-odds of the base rate for `binary`, mean label for `regression`). */
  baseScore: number;
  trees: Tree[];
}

/** Leaf index (`~c` decoded) reached by the row starting at `X[offset]` (row-major, `featureNames.length` columns). */
export function leafIndexFor(tree: Tree, X: ArrayLike<number>, offset: number): number {
  if (tree.splitFeature.length === 0) return 0;
  let n = 0;
  for (;;) {
    const v = X[offset + tree.splitFeature[n]];
    const c =
      v !== v
        ? tree.defaultLeft[n] === 1
          ? tree.left[n]
          : tree.right[n]
        : v <= tree.threshold[n]
          ? tree.left[n]
          : tree.right[n];
    if (c < 0) return ~c;
    n = c;
  }
}

/**
 * Raw margins of `nRows` rows of the row-major matrix `X` (`model.featureNames.length` columns, NaN = missing), into
 * `out` (allocated when absent). Binary: log-odds; regression: the prediction.
 */
export function predictMargin(
  model: TreeEnsemble,
  X: ArrayLike<number>,
  nRows: number,
  out: Float64Array = new Float64Array(nRows),
): Float64Array {
  const d = model.featureNames.length;
  out.fill(model.baseScore, 0, nRows);
  for (const tree of model.trees) {
    for (let r = 0, off = 0; r < nRows; r++, off += d) out[r] += tree.leafValue[leafIndexFor(tree, X, off)];
  }
  return out;
}

/** Logistic function, 1 / (1 + e^−m). */
export function sigmoid(m: number): number {
  return 1 / (1 + Math.exp(-m));
}

/**
 * Feature columns (each of length `nRows`, NaN = missing) as the row-major matrix scorers take, plus a mask of the
 * rows with every feature present (1) — the rows a model trained on complete rows may score.
 */
export function featureRows(
  columns: readonly Float64Array[],
  nRows: number,
): { X: Float64Array; complete: Uint8Array } {
  const d = columns.length;
  const X = new Float64Array(nRows * d);
  const complete = new Uint8Array(nRows).fill(1);
  for (let j = 0; j < d; j++) {
    const c = columns[j];
    for (let i = 0, o = j; i < nRows; i++, o += d) {
      const v = c[i];
      X[o] = v;
      if (v !== v) complete[i] = 0;
    }
  }
  return { X, complete };
}
