import { mulberry32 } from '@strata/shared-random';
import { type Tree, type TreeEnsemble, type TreeObjective } from '@strata/signals-domain';

/**
 * A random tree with `leaves` leaves grown by splitting a random leaf each step (leaf-wise, like the GBDT trainer).
 * Thresholds are drawn from `thresholdPool` (so test rows can hit them exactly); covers are consistent
 * (internal cover = sum of its children's).
 */
export function randomTree(
  rand: () => number,
  nFeatures: number,
  leaves: number,
  thresholdPool: Float64Array,
  leafScale = 0.1,
): Tree {
  const nInt = leaves - 1;
  const splitFeature = new Int32Array(nInt);
  const threshold = new Float64Array(nInt);
  const defaultLeft = new Uint8Array(nInt);
  const left = new Int32Array(nInt);
  const right = new Int32Array(nInt);
  const gain = new Float64Array(nInt);
  // Slots: which (parent, side) each current leaf hangs from; leaf k encoded as ~k.
  const slots: { parent: number; side: 0 | 1 }[] = [{ parent: -1, side: 0 }];
  for (let n = 0; n < nInt; n++) {
    const s = Math.floor(rand() * slots.length);
    const slot = slots[s];
    if (slot.parent >= 0) (slot.side === 0 ? left : right)[slot.parent] = n;
    splitFeature[n] = Math.floor(rand() * nFeatures);
    threshold[n] = thresholdPool[Math.floor(rand() * thresholdPool.length)];
    defaultLeft[n] = rand() < 0.5 ? 1 : 0;
    gain[n] = rand() * 10;
    slots.splice(s, 1, { parent: n, side: 0 }, { parent: n, side: 1 });
  }
  const leafValue = new Float64Array(leaves);
  const leafCover = new Float64Array(leaves);
  slots.forEach((slot, k) => {
    if (slot.parent >= 0) (slot.side === 0 ? left : right)[slot.parent] = ~k;
    leafValue[k] = (rand() * 2 - 1) * leafScale;
    leafCover[k] = 1 + Math.floor(rand() * 100);
  });
  const internalCover = new Float64Array(nInt);
  const cover = (c: number): number => (c < 0 ? leafCover[~c] : (internalCover[c] = cover(left[c]) + cover(right[c])));
  if (nInt > 0) cover(0);
  return { splitFeature, threshold, defaultLeft, left, right, gain, internalCover, leafValue, leafCover };
}

/** A random ensemble (see {@link randomTree}); feature names `f0..f{n-1}`. */
export function randomEnsemble(opts: {
  seed: number;
  objective: TreeObjective;
  nFeatures: number;
  nTrees: number;
  leaves: number;
  thresholdPool: Float64Array;
  baseScore?: number;
}): TreeEnsemble {
  const rand = mulberry32(opts.seed);
  const trees: Tree[] = [];
  for (let t = 0; t < opts.nTrees; t++)
    trees.push(randomTree(rand, opts.nFeatures, t % 7 === 6 ? 1 : opts.leaves, opts.thresholdPool));
  return {
    objective: opts.objective,
    featureNames: Array.from({ length: opts.nFeatures }, (_, i) => `f${i}`),
    baseScore: opts.baseScore ?? rand() - 0.5,
    trees,
  };
}

/**
 * Random rows (row-major) whose values come from `thresholdPool` (exact threshold hits) with probability `pHit`,
 * NaN with probability `pNaN`, else uniform in [−3, 3).
 */
export function randomRows(
  rand: () => number,
  nRows: number,
  nFeatures: number,
  thresholdPool: Float64Array,
  pNaN = 0.1,
  pHit = 0.3,
): Float64Array {
  const X = new Float64Array(nRows * nFeatures);
  for (let i = 0; i < X.length; i++) {
    const u = rand();
    X[i] = u < pNaN ? NaN : u < pNaN + pHit ? thresholdPool[Math.floor(rand() * thresholdPool.length)] : rand() * 6 - 3;
  }
  return X;
}
