import type { Tree, TreeEnsemble } from './tree-ensemble';

/**
 * Exact TreeSHAP (Lundberg, Erion & Lee, "Consistent Individualized Feature Attribution for Tree Ensembles", 2018,
 * Algorithm 2): the Shapley values of the features for one prediction of a tree ensemble, in polynomial time
 * O(trees · leaves · depth²), with the conditional expectation E[f(x) | x_S] taken over the training distribution as
 * recorded by the node covers (a feature outside S follows both children weighted by their training cover).
 *
 * Guarantee (local accuracy): Σ_j φ_j = margin(x) − φ_0, where φ_0 = {@link expectedMargin} is the cover-weighted
 * mean of each tree's outputs plus the base score. Values are in margin units (log-odds for `binary`).
 */

/** Cover of a child reference (internal node `c >= 0` or leaf `~c`). */
function coverOf(tree: Tree, c: number): number {
  return c < 0 ? tree.leafCover[~c] : tree.internalCover[c];
}

/** Depth (edges on the longest root-to-leaf path) of a tree. */
export function treeDepth(tree: Tree): number {
  if (tree.splitFeature.length === 0) return 0;
  const depth = (c: number): number => (c < 0 ? 0 : 1 + Math.max(depth(tree.left[c]), depth(tree.right[c])));
  return depth(0);
}

/** Cover-weighted mean output of one tree (E over the training distribution of its leaf value). */
export function treeExpectedValue(tree: Tree): number {
  let s = 0;
  let c = 0;
  for (let l = 0; l < tree.leafValue.length; l++) {
    s += tree.leafValue[l] * tree.leafCover[l];
    c += tree.leafCover[l];
  }
  const root = tree.splitFeature.length === 0 ? tree.leafCover[0] : tree.internalCover[0];
  // The root cover equals the sum of the leaf covers up to rounding; dividing by the root keeps E consistent with the
  // recursion's cover ratios.
  return c > 0 ? s / (root > 0 ? root : c) : tree.leafValue.length === 1 ? tree.leafValue[0] : 0;
}

/** φ_0: the expected raw margin, baseScore + Σ_trees {@link treeExpectedValue}. */
export function expectedMargin(model: TreeEnsemble): number {
  let e = model.baseScore;
  for (const t of model.trees) e += treeExpectedValue(t);
  return e;
}

/** Path storage for the recursion, sized for trees up to `maxDepth`. */
class ShapPath {
  feature: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  pweight: Float64Array;
  constructor(maxDepth: number) {
    const maxd = maxDepth + 2;
    const size = (maxd * (maxd + 1)) / 2 + maxd;
    this.feature = new Int32Array(size);
    this.zero = new Float64Array(size);
    this.one = new Float64Array(size);
    this.pweight = new Float64Array(size);
  }
}

function extendPath(p: ShapPath, o: number, depth: number, zero: number, one: number, feature: number): void {
  p.feature[o + depth] = feature;
  p.zero[o + depth] = zero;
  p.one[o + depth] = one;
  p.pweight[o + depth] = depth === 0 ? 1 : 0;
  for (let i = depth - 1; i >= 0; i--) {
    p.pweight[o + i + 1] += (one * p.pweight[o + i] * (i + 1)) / (depth + 1);
    p.pweight[o + i] = (zero * p.pweight[o + i] * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: ShapPath, o: number, depth: number, pathIndex: number): void {
  const one = p.one[o + pathIndex];
  const zero = p.zero[o + pathIndex];
  let nextOne = p.pweight[o + depth];
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = p.pweight[o + i];
      p.pweight[o + i] = (nextOne * (depth + 1)) / ((i + 1) * one);
      nextOne = tmp - (p.pweight[o + i] * zero * (depth - i)) / (depth + 1);
    } else {
      p.pweight[o + i] = (p.pweight[o + i] * (depth + 1)) / (zero * (depth - i));
    }
  }
  for (let i = pathIndex; i < depth; i++) {
    p.feature[o + i] = p.feature[o + i + 1];
    p.zero[o + i] = p.zero[o + i + 1];
    p.one[o + i] = p.one[o + i + 1];
  }
}

function unwoundPathSum(p: ShapPath, o: number, depth: number, pathIndex: number): number {
  const one = p.one[o + pathIndex];
  const zero = p.zero[o + pathIndex];
  let nextOne = p.pweight[o + depth];
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (one !== 0) {
      const tmp = (nextOne * (depth + 1)) / ((i + 1) * one);
      total += tmp;
      nextOne = p.pweight[o + i] - (tmp * zero * (depth - i)) / (depth + 1);
    } else if (zero !== 0) {
      total += p.pweight[o + i] / zero / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function recurse(
  tree: Tree,
  x: ArrayLike<number>,
  xo: number,
  phi: Float64Array,
  po: number,
  node: number,
  p: ShapPath,
  parentOffset: number,
  uniqueDepth: number,
  parentZero: number,
  parentOne: number,
  parentFeature: number,
): void {
  // Each level works on its own copy of the path, placed right after the parent's.
  const o = parentOffset + uniqueDepth + 1;
  p.feature.copyWithin(o, parentOffset, parentOffset + uniqueDepth + 1);
  p.zero.copyWithin(o, parentOffset, parentOffset + uniqueDepth + 1);
  p.one.copyWithin(o, parentOffset, parentOffset + uniqueDepth + 1);
  p.pweight.copyWithin(o, parentOffset, parentOffset + uniqueDepth + 1);
  extendPath(p, o, uniqueDepth, parentZero, parentOne, parentFeature);

  if (node < 0) {
    const v = tree.leafValue[~node];
    for (let i = 1; i <= uniqueDepth; i++) {
      const w = unwoundPathSum(p, o, uniqueDepth, i);
      phi[po + p.feature[o + i]] += w * (p.one[o + i] - p.zero[o + i]) * v;
    }
    return;
  }
  const f = tree.splitFeature[node];
  const xv = x[xo + f];
  const goesLeft = xv !== xv ? tree.defaultLeft[node] === 1 : xv <= tree.threshold[node];
  const hot = goesLeft ? tree.left[node] : tree.right[node];
  const cold = goesLeft ? tree.right[node] : tree.left[node];
  const nodeCover = tree.internalCover[node];
  const hotZero = coverOf(tree, hot) / nodeCover;
  const coldZero = coverOf(tree, cold) / nodeCover;
  let incomingZero = 1;
  let incomingOne = 1;
  let depth = uniqueDepth;
  // A feature already on the path is unwound first: each feature appears at most once in the unique path.
  let k = 1;
  for (; k <= depth; k++) if (p.feature[o + k] === f) break;
  if (k <= depth) {
    incomingZero = p.zero[o + k];
    incomingOne = p.one[o + k];
    unwindPath(p, o, depth, k);
    depth -= 1;
  }
  recurse(tree, x, xo, phi, po, hot, p, o, depth + 1, hotZero * incomingZero, incomingOne, f);
  recurse(tree, x, xo, phi, po, cold, p, o, depth + 1, coldZero * incomingZero, 0, f);
}

/**
 * SHAP contributions of `nRows` rows of the row-major matrix `X` (`model.featureNames.length` = d columns, NaN =
 * missing, routed by each node's default direction): an `nRows × (d + 1)` row-major matrix whose column j < d is φ_j
 * (margin units) and whose last column is φ_0 = {@link expectedMargin} (as LightGBM's `pred_contrib`). Each row sums to
 * the row's raw margin.
 */
export function treeShap(model: TreeEnsemble, X: ArrayLike<number>, nRows: number, out?: Float64Array): Float64Array {
  const d = model.featureNames.length;
  const w = d + 1;
  const phi = out ?? new Float64Array(nRows * w);
  if (phi.length < nRows * w) throw new RangeError(`out has ${phi.length} values, expected ${nRows * w}`);
  phi.fill(0, 0, nRows * w);
  const e0 = expectedMargin(model);
  let maxDepth = 0;
  const depths = model.trees.map(treeDepth);
  for (const t of depths) maxDepth = Math.max(maxDepth, t);
  // The recursion stores one path copy per level; the shap package sizes it as (D+2)(D+3)/2.
  const path = new ShapPath(maxDepth + 1);
  for (let r = 0; r < nRows; r++) {
    const po = r * w;
    for (const tree of model.trees) {
      if (tree.splitFeature.length === 0) continue; // a single leaf adds its value to φ_0 only
      recurse(tree, X, r * d, phi, po, 0, path, 0, 0, 1, 1, -1);
    }
    phi[po + d] = e0;
  }
  return phi;
}

/** Total split gain per feature over all trees (loss-reduction units; `gain importance`), in `featureNames` order. */
export function gainImportance(model: TreeEnsemble): Float64Array {
  const imp = new Float64Array(model.featureNames.length);
  for (const t of model.trees) for (let i = 0; i < t.splitFeature.length; i++) imp[t.splitFeature[i]] += t.gain[i];
  return imp;
}

/** Mean |φ_j| per feature over `nRows` rows of `X` (margin units), in `featureNames` order. */
export function meanAbsShap(model: TreeEnsemble, X: ArrayLike<number>, nRows: number): Float64Array {
  const d = model.featureNames.length;
  const imp = new Float64Array(d);
  if (nRows === 0) return imp;
  const phi = new Float64Array(d + 1);
  const one = new Float64Array(d);
  for (let r = 0; r < nRows; r++) {
    for (let j = 0; j < d; j++) one[j] = X[r * d + j];
    treeShap(model, one, 1, phi);
    for (let j = 0; j < d; j++) imp[j] += Math.abs(phi[j]);
  }
  for (let j = 0; j < d; j++) imp[j] /= nRows;
  return imp;
}
