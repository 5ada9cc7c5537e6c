import { Xoshiro128ss } from '@strata/shared-random';
import { binColumns, computeFeatureBinning, MISSING_BIN, type FeatureBinning } from './feature-binning';
import {
  accumulateFeatures,
  accumulatePackedFeatures,
  BINS_PER_FEATURE as KERNEL_BINS_PER_FEATURE,
  gatherRecords,
  HIST_STRIDE as KERNEL_HIST_STRIDE,
  histogramKernel,
  inPlacePartitionKernel,
  markLeafRows,
  partitionKernel,
} from './gbdt.kernels';
import type { Tree, TreeEnsemble, TreeObjective } from './tree-ensemble';

/**
 * Histogram-based gradient-boosted decision trees with leaf-wise (best-first) growth, after LightGBM (Ke et al., 2017)
 * and the second-order boosting of XGBoost (Chen & Guestrin, 2016). Design and measurements: docs/signals.md,
 * "GBDT trainer".
 *
 * - Features are pre-binned once (≤ 255 quantile bins + a missing bin, see `feature-binning.ts`) into leaf-ordered row
 *   records: each leaf owns a contiguous range of a record buffer, so histogram building and partitioning read memory
 *   sequentially (layout, invariant and the generated kernels: `gbdt.kernels.ts`).
 * - Histograms (per feature and bin: Σg, Σh) are built only for the smaller child; the larger one is parent − smaller.
 * - Split gain (XGBoost eq. 7 with LightGBM's L1 thresholding): ½·[T(G_L)²/(H_L+λ) + T(G_R)²/(H_R+λ) − T(G)²/(H+λ)],
 *   T(G) = sign(G)·max(|G| − α, 0); leaf output w = −T(G)/(H+λ) × learningRate.
 * - Missing values: each candidate split is scored with the missing bin sent left and sent right; the better direction
 *   is kept as the node's default (when the node saw no missing value, missing follows the child with more cover).
 * - Split finding on quantized gradients by default (`quantizedGradients`); leaf values and covers always come from
 *   the exact sums (summed per leaf in row order).
 *
 * Deterministic for a given seed; no per-row allocation while training. Thresholds are the bin upper bounds,
 * float32-exact (see feature-binning.ts), so float32 and float64 inputs route the training values alike.
 */

/** Training parameters of {@link trainGbdt}. Defaults in brackets follow LightGBM's. */
export interface GbdtParams {
  /** `binary` (log loss, labels 0/1) or `regression` (L2). */
  objective: TreeObjective;
  /** Boosting rounds (trees) [100]. */
  numTrees?: number;
  /** Shrinkage applied to every leaf output [0.1]. */
  learningRate?: number;
  /** Maximum leaves per tree, ≥ 2 [31]. */
  maxLeaves?: number;
  /** Maximum depth (root = 0), −1 for none [−1]. */
  maxDepth?: number;
  /** Minimum training rows in a leaf [20]. */
  minDataInLeaf?: number;
  /** Minimum sum of hessians in a leaf [1e-3]. */
  minSumHessianInLeaf?: number;
  /** L1 penalty α on leaf outputs [0]. */
  lambdaL1?: number;
  /** L2 penalty λ on leaf outputs [0]. */
  lambdaL2?: number;
  /** Minimum gain (loss reduction) to make a split [0]. */
  minGainToSplit?: number;
  /** Fraction of features drawn (without replacement) for each tree, (0, 1] [1]. */
  featureFraction?: number;
  /** Fraction of rows drawn (Bernoulli) for bagging, (0, 1] [1 = off]. */
  baggingFraction?: number;
  /** Redraw the bag every `baggingFreq` trees; 0 = no bagging [0]. */
  baggingFreq?: number;
  /** Seed of feature and row sampling [0]. */
  seed?: number;
  /** Stop when the validation loss has not improved for this many rounds; 0 = off [0]. Needs a validation set. */
  earlyStoppingRounds?: number;
  /** Maximum value bins per feature, 2..255 [255]. */
  maxBin?: number;
  /** Record the training loss after every tree (one extra log per row per tree) [true]. */
  evalTrainLoss?: boolean;
  /**
   * Split finding on quantized gradients [true] (LightGBM's `use_quantized_grad`, Shi et al. 2022): per tree, g and h
   * are scaled to integers with stochastic rounding (unbiased) and packed into ONE float64 per row, g·2^k + h, so each
   * histogram cell costs one add instead of two; packed sums stay exact integers (< 2^53). The bits are split between g
   * and h from the 53 − 2·⌈log2(rows+1)⌉ available (13 at 1M rows: 7-bit g, 6-bit h — LightGBM's default is 2 bits;
   * up to 15 + 15 on small data); below 8 bits (more than ~6M rows) exact histograms are used. Leaf values, covers
   * and predictions always use the exact float64 sums of each leaf's rows; only the choice of splits (and the
   * recorded gains) see the quantized sums.
   */
  quantizedGradients?: boolean;
  /**
   * Quantization levels of split finding, LightGBM's `num_grad_quant_bins`: g is rounded to integers in
   * [−⌊bins/2⌋, ⌊bins/2⌋] and h to [0, bins] (LightGBM's default is 4). Default: the finest levels the packing allows
   * (see {@link quantizedGradients}). When the rows are too many for the requested levels to pack exactly, exact
   * histograms are used.
   */
  quantizedGradientBins?: number;
}

/** A labelled dataset: row-major features (NaN = missing), labels (0/1 for `binary`), optional row weights. */
export interface GbdtDataset {
  /** Row-major, `nRows × featureNames.length`. */
  X: Float64Array;
  nRows: number;
  featureNames: string[];
  y: Float64Array;
  weight?: Float64Array;
}

/** Output of {@link trainGbdt}. */
export interface GbdtTrainResult {
  /** The model; with early stopping it holds the first `bestIteration` trees. */
  model: TreeEnsemble;
  /**
   * Loss after each tree (index i = after i + 1 trees): mean log loss (`binary`) or mean squared error (`regression`),
   * weighted when weights are given. `train` is empty when `evalTrainLoss` is false; `valid` empty without a validation set.
   */
  evals: { train: number[]; valid: number[] };
  /** Number of trees kept (1-based, like LightGBM's best_iteration): argmin of the validation loss, or all trees. */
  bestIteration: number;
  /** Bin boundaries used (its `nonFloat32Bounds` tells whether every threshold is float32-exact). */
  binning: FeatureBinning;
}

// Module-local copies: an imported binding compiles to a property getter in CommonJS, too slow for the per-row loops.
const MISSING = MISSING_BIN;
const HIST_STRIDE = KERNEL_HIST_STRIDE;
const BINS_PER_FEATURE = KERNEL_BINS_PER_FEATURE;

/** Best split of a leaf; gain −∞ when none. */
interface SplitInfo {
  gain: number;
  feature: number;
  bin: number;
  defaultLeft: boolean;
  leftG: number;
  leftH: number;
}

function thresholdL1(g: number, alpha: number): number {
  if (alpha === 0) return g;
  return g > alpha ? g - alpha : g < -alpha ? g + alpha : 0;
}

/**
 * Trains a gradient-boosted tree ensemble. `validation` (same columns) gives the per-tree validation loss and enables
 * early stopping. Deterministic: the same data, params and seed give the same model.
 * @throws RangeError on inconsistent shapes, labels outside {0, 1} for `binary`, or invalid parameters.
 */
export function trainGbdt(data: GbdtDataset, params: GbdtParams, validation?: GbdtDataset): GbdtTrainResult {
  const n = data.nRows;
  const d = data.featureNames.length;
  const objective = params.objective;
  const numTrees = params.numTrees ?? 100;
  const lr = params.learningRate ?? 0.1;
  const maxLeaves = params.maxLeaves ?? 31;
  const maxDepth = params.maxDepth ?? -1;
  const minData = params.minDataInLeaf ?? 20;
  const minHess = params.minSumHessianInLeaf ?? 1e-3;
  const alpha = params.lambdaL1 ?? 0;
  const lambda = params.lambdaL2 ?? 0;
  const minGain = params.minGainToSplit ?? 0;
  const featureFraction = params.featureFraction ?? 1;
  const baggingFraction = params.baggingFraction ?? 1;
  const baggingFreq = params.baggingFreq ?? 0;
  const earlyStop = params.earlyStoppingRounds ?? 0;
  const evalTrain = params.evalTrainLoss ?? true;
  if (objective !== 'binary' && objective !== 'regression')
    throw new RangeError(`objective must be binary or regression, got ${String(objective)}`);
  if (!(n >= 1) || data.X.length !== n * d || data.y.length !== n)
    throw new RangeError(`dataset shape mismatch: nRows ${n}, ${d} features, X ${data.X.length}, y ${data.y.length}`);
  if (data.weight && data.weight.length !== n)
    throw new RangeError(`weight has ${data.weight.length} values, expected ${n}`);
  if (!Number.isInteger(numTrees) || numTrees < 1)
    throw new RangeError(`numTrees must be an integer ≥ 1, got ${numTrees}`);
  if (!(lr > 0)) throw new RangeError(`learningRate must be > 0, got ${lr}`);
  if (!Number.isInteger(maxLeaves) || maxLeaves < 2)
    throw new RangeError(`maxLeaves must be an integer ≥ 2, got ${maxLeaves}`);
  if (!(minData >= 1)) throw new RangeError(`minDataInLeaf must be ≥ 1, got ${minData}`);
  if (!(alpha >= 0) || !(lambda >= 0) || !(minHess >= 0))
    throw new RangeError('lambdaL1, lambdaL2 and minSumHessianInLeaf must be ≥ 0');
  if (!(featureFraction > 0 && featureFraction <= 1))
    throw new RangeError(`featureFraction must be in (0, 1], got ${featureFraction}`);
  if (!(baggingFraction > 0 && baggingFraction <= 1))
    throw new RangeError(`baggingFraction must be in (0, 1], got ${baggingFraction}`);
  if (earlyStop > 0 && !validation) throw new RangeError('earlyStoppingRounds needs a validation set');
  const y = data.y;
  const w = data.weight;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (objective === 'binary' ? v !== 0 && v !== 1 : !Number.isFinite(v))
      throw new RangeError(
        `label at row ${i} is ${v}: ${objective === 'binary' ? 'binary labels must be 0 or 1' : 'regression labels must be finite'}`,
      );
  }
  if (
    validation &&
    (validation.featureNames.length !== d ||
      validation.X.length !== validation.nRows * d ||
      validation.y.length !== validation.nRows)
  ) {
    throw new RangeError('validation set shape does not match the training set');
  }

  const binning = computeFeatureBinning(data.X, n, d, { maxBin: params.maxBin });
  // Leaf-ordered row records (layout in gbdt.kernels.ts): `R` 32-bit words per row, `W` words of bins (four features
  // per word, padding bytes 0) and the row id. `staticRecords` holds every row in row order (the root of a tree
  // without bagging reads it in place); the two record buffers receive the children of each split in turn.
  const W = Math.ceil(d / 4);
  const R = W + 1;
  const staticRecords = new Uint32Array(n * R);
  const cols = binColumns(binning, data.X, n, new Uint8Array(staticRecords.buffer), 4 * R);
  for (let r = 0; r < n; r++) staticRecords[r * R + W] = r;
  const validCols = validation ? binColumns(binning, validation.X, validation.nRows) : [];
  const nBins = Int32Array.from(binning.features, (b) => b.nBins);

  // Base score: weighted mean label (regression) or its log-odds (binary).
  let sw = 0;
  let swy = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i] : 1;
    sw += wi;
    swy += wi * y[i];
  }
  const mean = swy / sw;
  let baseScore = mean;
  if (objective === 'binary') {
    const p = Math.min(Math.max(mean, 1e-15), 1 - 1e-15);
    baseScore = Math.log(p / (1 - p));
  }

  const score = new Float64Array(n).fill(baseScore);
  // e^(−score) per row for the binary fast path of the gradients (no weights, no bagging), see binaryGradientsFromExp.
  const bagging = baggingFreq > 0 && baggingFraction < 1;
  const expNeg = new Float64Array(objective === 'binary' && !w && !bagging ? n : 0).fill(Math.exp(-baseScore));
  const leafFactor = new Float64Array(maxLeaves);
  const gh = new Float64Array(2 * n); // gradient, hessian interleaved per row (one cache line read per row)
  const rowIdx = new Int32Array(n);
  const goLeft = new Uint8Array(256);
  const leafOf = maxLeaves <= 256 ? new Uint8Array(n) : new Int32Array(n);
  const maxima = new Float64Array(2);
  // Outputs of the last tree not yet added to `score` (added in the next gradients' pass).
  let pendingLeafValue: Float64Array | null = null;
  let pendingInBag: Uint8Array | null = null;
  const sums = new Float64Array(2);
  const nv = validation ? validation.nRows : 0;
  const validScore = new Float64Array(nv).fill(baseScore);

  // Quantized-gradient layout (see GbdtParams.quantizedGradients).
  const B = Math.ceil(Math.log2(n + 1));
  const qBits = Math.min(53 - 2 * B, 30);
  const qBins = params.quantizedGradientBins;
  if (qBins !== undefined && !(Number.isInteger(qBins) && qBins >= 2 && qBins <= 1 << 14))
    throw new RangeError(`quantizedGradientBins must be an integer in 2..16384, got ${qBins}`);
  // |g| quantized to 0..qg, h to 0..qh; qhBits bits hold qh, qgBits hold qg.
  const qg = qBins === undefined ? 2 ** Math.ceil(qBits / 2) - 1 : Math.floor(qBins / 2);
  const qh = qBins === undefined ? 2 ** Math.floor(qBits / 2) - 1 : qBins;
  const qhBits = Math.ceil(Math.log2(qh + 1));
  const qgBits = Math.ceil(Math.log2(qg + 1));
  // Σ|gq|·qShift + Σhq < 2^(2B + qgBits + qhBits) must stay below 2^53 (exact float64 integers).
  const quantized =
    (params.quantizedGradients ?? true) && (qBins === undefined ? qBits >= 8 : qgBits + qhBits <= 53 - 2 * B);
  const qShift = 2 ** (B + qhBits); // > rows·qh, so Σh never reaches the g part
  // Quantized gradients as int32 codes, ((gq + qg) << qhBits) | hq, decoded to gq·qShift + hq by the kernels: half
  // the bytes of the packed float64 for the partitions to move.
  const qCodes = quantized ? new Int32Array(n) : new Int32Array(0);
  const decoded = new Float64Array(quantized ? d * BINS_PER_FEATURE * HIST_STRIDE : 0);
  const qScale = new Float64Array(4); // gScale, hScale, rng state, Σ packed
  qScale[2] = ((params.seed ?? 0) ^ 0x9e3779b9) >>> 0 || 1;
  const cellStride = quantized ? 1 : HIST_STRIDE;
  // Room for the padding bytes of the last word too (4·W features): the all-feature kernels add them into cells that
  // are never read, instead of testing for them.
  const histSize = 4 * W * BINS_PER_FEATURE * cellStride;
  const allFeatureKernel = histogramKernel(W, quantized);
  const partition = partitionKernel(R, quantized ? 1 : 2);
  const partitionInPlace = inPlacePartitionKernel(R);
  // Record buffers 0 and 1 (values: the quantized codes or the exact g, h of each record); index 2 is the row-order set.
  // Quantized training partitions in place after the root, so it never uses buffer 1.
  const records = [new Uint32Array(n * R), new Uint32Array(quantized ? 0 : n * R), staticRecords];
  const values: (Float64Array | Int32Array)[] = quantized
    ? [new Int32Array(n), new Int32Array(0), qCodes]
    : [new Float64Array(2 * n), new Float64Array(2 * n), gh];
  const leafBuffer = new Uint8Array(maxLeaves);
  const leafReversed = new Uint8Array(maxLeaves); // 1: the leaf's records are in descending row order
  const hists: Float64Array[] = [];
  for (let i = 0; i < maxLeaves; i++) hists.push(new Float64Array(histSize));

  // Per-leaf state (index = leaf id within the current tree).
  const leafBegin = new Int32Array(maxLeaves);
  const leafEnd = new Int32Array(maxLeaves);
  const leafG = new Float64Array(maxLeaves);
  const leafH = new Float64Array(maxLeaves);
  const leafDepth = new Int32Array(maxLeaves);
  const leafHist = new Int32Array(maxLeaves);
  const leafParent = new Int32Array(maxLeaves);
  const leafIsLeft = new Uint8Array(maxLeaves);
  const best: SplitInfo[] = [];
  for (let i = 0; i < maxLeaves; i++)
    best.push({ gain: -Infinity, feature: -1, bin: 0, defaultLeft: false, leftG: 0, leftH: 0 });

  const rng = new Xoshiro128ss(params.seed ?? 0, 1);
  const featureOrder = Int32Array.from({ length: d }, (_, i) => i);
  const usedFeatures = new Int32Array(d);
  let nUsed = d;
  const inBag = new Uint8Array(n).fill(1);
  let bagSize = n;

  const trees: Tree[] = [];
  const evals = { train: [] as number[], valid: [] as number[] };
  let bestIteration = 0;
  let bestValid = Infinity;

  const parentGainOf = (G: number, H: number) => {
    const t = thresholdL1(G, alpha);
    return (t * t) / (H + lambda);
  };

  /**
   * Best split of the leaf whose histogram is `hist` (totals G, H, row count C) over the used features, into `out`.
   * Per-bin row counts are not accumulated (that would add a third read-modify-write per cell); as in LightGBM, a
   * side's row count is estimated as its hessian sum × C / H, which is exact when every hessian is equal (regression
   * without weights). The children's real row counts are known after the partition.
   */
  const findBestSplit = (hist: Float64Array, G: number, H: number, C: number, out: SplitInfo) => {
    out.gain = -Infinity;
    out.feature = -1;
    if (C < 2 * minData || H < 2 * minHess) return;
    const parent = parentGainOf(G, H);
    const cntFactor = C / H;
    for (let u = 0; u < nUsed; u++) {
      const f = usedFeatures[u];
      const nb = nBins[f];
      if (nb < 2) continue;
      const base = f * BINS_PER_FEATURE * HIST_STRIDE;
      const mi = base + MISSING * HIST_STRIDE;
      const gm = hist[mi];
      const hm = hist[mi + 1];
      const hasMiss = hm > 0; // hessians are > 0, so the missing bin holds a row exactly when its hessian sum is > 0
      // Pass 0: missing goes right (left = prefix of value bins); pass 1: missing goes left.
      for (let pass = 0; pass < (hasMiss ? 2 : 1); pass++) {
        let gl = pass === 1 ? gm : 0;
        let hl = pass === 1 ? hm : 0;
        for (let k = 0; k < nb - 1; k++) {
          const o = base + k * HIST_STRIDE;
          gl += hist[o];
          hl += hist[o + 1];
          const cl = Math.round(hl * cntFactor);
          if (cl < minData || hl < minHess) continue;
          const hr = H - hl;
          if (C - cl < minData || hr < minHess) break;
          const tl = thresholdL1(gl, alpha);
          const tr = thresholdL1(G - gl, alpha);
          const gain = 0.5 * ((tl * tl) / (hl + lambda) + (tr * tr) / (hr + lambda) - parent);
          if (gain > out.gain) {
            out.gain = gain;
            out.feature = f;
            out.bin = k;
            // With no missing value in the node, send missing to the child with more cover.
            out.defaultLeft = hasMiss ? pass === 1 : hl >= hr;
            out.leftG = gl;
            out.leftH = hl;
          }
        }
      }
    }
    if (!(out.gain > minGain) || out.gain <= 1e-12 * Math.abs(parent)) out.gain = -Infinity;
  };

  /** Histogram of the records [begin, end) of record buffer `buf`. */
  const buildHistogram = (hist: Float64Array, buf: number, begin: number, end: number, reversed: number) => {
    // With at least half of the features in use, the unrolled all-feature kernel is faster than skipping the others
    // (their cells are filled but never read).
    if (2 * nUsed >= d) {
      hist.fill(0);
      allFeatureKernel(hist, records[buf], values[buf], begin, end, reversed, R, qg, qhBits, qShift);
      return;
    }
    for (let u = 0; u < nUsed; u++) {
      const base = usedFeatures[u] * BINS_PER_FEATURE * cellStride;
      hist.fill(0, base, base + BINS_PER_FEATURE * cellStride);
    }
    if (quantized)
      accumulatePackedFeatures(
        hist,
        records[buf],
        R,
        usedFeatures,
        nUsed,
        begin,
        end,
        reversed,
        values[buf] as Int32Array,
        qg,
        qhBits,
        qShift,
      );
    else
      accumulateFeatures(hist, records[buf], R, usedFeatures, nUsed, begin, end, reversed, values[buf] as Float64Array);
  };

  /** Best split of a leaf from its histogram (decoded first when quantized). */
  const splitOf = (hist: Float64Array, G: number, H: number, C: number, out: SplitInfo) => {
    if (quantized) {
      decodeHistogram(hist, decoded, usedFeatures, nUsed, qShift, qScale[0], qScale[1]);
      findBestSplit(decoded, G, H, C, out);
    } else findBestSplit(hist, G, H, C, out);
  };

  for (let it = 0; it < numTrees; it++) {
    // Gradients (and the training loss of the model so far, fused into the same pass for log loss).
    // The previous tree's in-bag outputs are added in the gradients' pass (unless already added for the training loss).
    computeGradients(objective, score, y, w, gh, n, maxima, leafOf, pendingLeafValue, pendingInBag, expNeg, leafFactor);
    pendingLeafValue = null;

    if (bagging && it % baggingFreq === 0) bagSize = drawBag(rng, baggingFraction, inBag);
    fillBagRows(inBag, rowIdx, n);

    if (featureFraction < 1) {
      nUsed = Math.max(1, Math.round(d * featureFraction));
      for (let i = 0; i < nUsed; i++) {
        const j = i + Math.floor(rng.uniform() * (d - i));
        const t = featureOrder[i];
        featureOrder[i] = featureOrder[j];
        featureOrder[j] = t;
      }
      usedFeatures.set(featureOrder.subarray(0, nUsed));
      usedFeatures.subarray(0, nUsed).sort();
    } else {
      nUsed = d;
      usedFeatures.set(featureOrder);
      usedFeatures.sort();
    }

    // Tree under construction.
    const splitFeature: number[] = [];
    const threshold: number[] = [];
    const splitBin: number[] = [];
    const defaultLeft: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const gainArr: number[] = [];
    const cover: number[] = [];

    if (quantized) {
      // Without bagging the rows are all rows, whose maxima came with the gradients.
      quantizeGradients(gh, rowIdx, bagSize, qCodes, qg, qh, qhBits, qShift, qScale, bagging ? null : maxima);
      // Root totals from the packed values, consistent with the histograms' sums.
      const P = qScale[3];
      const gq = Math.floor(P / qShift);
      sums[0] = gq * qScale[0];
      sums[1] = (P - gq * qShift) * qScale[1];
    } else sumGradients(gh, rowIdx, bagSize, sums);
    const G = sums[0];
    const H = sums[1];
    leafBegin[0] = 0;
    leafEnd[0] = bagSize;
    leafG[0] = G;
    leafH[0] = H;
    leafDepth[0] = 0;
    leafHist[0] = 0;
    leafParent[0] = -1;
    // Root records: the row-order set in place, or the in-bag rows gathered into buffer 0.
    if (bagging) {
      gatherRecords(staticRecords, values[2], records[0], values[0], rowIdx, bagSize, R);
      leafBuffer[0] = 0;
    } else leafBuffer[0] = 2;
    leafReversed[0] = 0;
    buildHistogram(hists[0], leafBuffer[0], 0, bagSize, 0);
    splitOf(hists[0], G, H, bagSize, best[0]);
    let nLeaves = 1;
    let freeHist = 1;

    while (nLeaves < maxLeaves) {
      let bl = -1;
      let bg = -Infinity;
      for (let l = 0; l < nLeaves; l++) {
        if (best[l].gain > bg && (maxDepth < 0 || leafDepth[l] < maxDepth)) {
          bg = best[l].gain;
          bl = l;
        }
      }
      if (bl < 0) break;
      const s = best[bl];
      const f = s.feature;
      const sb = s.bin;
      const dl = s.defaultLeft;
      // Partition: the leaf's records go to the same range of the other record buffer, left child first (row order),
      // right child after it (reversed), see gbdt.kernels.ts.
      const begin = leafBegin[bl];
      const end = leafEnd[bl];
      for (let b = 0; b < 256; b++) goLeft[b] = b <= sb ? 1 : 0;
      goLeft[MISSING] = dl ? 1 : 0;
      const src = leafBuffer[bl];
      // Quantized: the children stay in the parent's buffer (in-place partition; order inside a leaf does not matter
      // to exact integer sums), except when the parent is the row-order set, which every tree's root reads.
      const inPlace = quantized && src !== 2;
      const dst = inPlace ? src : src === 0 ? 1 : 0;
      const nl = inPlace
        ? partitionInPlace(records[src], values[src] as Int32Array, begin, end, f >> 2, (f & 3) << 3, goLeft)
        : partition(
            records[src],
            values[src],
            records[dst],
            values[dst],
            begin,
            end,
            leafReversed[bl],
            f >> 2,
            (f & 3) << 3,
            goLeft,
          );
      leafBuffer[bl] = dst;
      leafReversed[bl] = 0;

      // Link the new internal node into the tree.
      const node = splitFeature.length;
      const pNode = leafParent[bl];
      if (pNode >= 0) {
        if (leafIsLeft[bl]) left[pNode] = node;
        else right[pNode] = node;
      }
      const newLeaf = nLeaves++;
      leafBuffer[newLeaf] = dst;
      leafReversed[newLeaf] = inPlace ? 0 : 1;
      splitFeature.push(f);
      threshold.push(binning.features[f].upperBounds[sb]);
      splitBin.push(sb);
      defaultLeft.push(dl ? 1 : 0);
      left.push(~bl);
      right.push(~newLeaf);
      gainArr.push(s.gain);
      cover.push(leafH[bl]);

      const parentH = leafH[bl];
      const parentG = leafG[bl];
      const depth = leafDepth[bl] + 1;
      const parentHist = leafHist[bl];
      leafBegin[newLeaf] = nl;
      leafEnd[newLeaf] = end;
      leafEnd[bl] = nl;
      leafG[bl] = s.leftG;
      leafH[bl] = s.leftH;
      leafG[newLeaf] = parentG - s.leftG;
      leafH[newLeaf] = parentH - s.leftH;
      leafDepth[bl] = depth;
      leafDepth[newLeaf] = depth;
      leafParent[bl] = node;
      leafIsLeft[bl] = 1;
      leafParent[newLeaf] = node;
      leafIsLeft[newLeaf] = 0;

      const canSplitMore = nLeaves < maxLeaves && (maxDepth < 0 || depth < maxDepth);
      if (!canSplitMore) {
        best[bl].gain = -Infinity;
        best[newLeaf].gain = -Infinity;
        continue;
      }
      // Histogram subtraction: build the smaller child, derive the larger one from the parent's histogram.
      const cl = nl - begin;
      const cr = end - nl;
      const small = cl <= cr ? bl : newLeaf;
      const large = cl <= cr ? newLeaf : bl;
      const hs = hists[freeHist++];
      buildHistogram(hs, leafBuffer[small], leafBegin[small], leafEnd[small], leafReversed[small]);
      subtractHistogram(hists[parentHist], hs, usedFeatures, nUsed, BINS_PER_FEATURE * cellStride);
      leafHist[small] = freeHist - 1;
      leafHist[large] = parentHist;
      splitOf(hists[leafHist[bl]], leafG[bl], leafH[bl], leafEnd[bl] - leafBegin[bl], best[bl]);
      splitOf(
        hists[leafHist[newLeaf]],
        leafG[newLeaf],
        leafH[newLeaf],
        leafEnd[newLeaf] - leafBegin[newLeaf],
        best[newLeaf],
      );
    }

    // Leaf outputs; update the in-bag scores from the partition.
    const leafValue = new Float64Array(nLeaves);
    const leafCover = new Float64Array(nLeaves);
    for (let l = 0; l < nLeaves; l++) markLeafRows(records[leafBuffer[l]], R, W, leafBegin[l], leafEnd[l], leafOf, l);
    const inBagOnly = bagging ? inBag : null;
    // Exact sums of each leaf's rows for its output and cover, in row order (as the rows of a leaf are ordered).
    if (quantized) leafSums(gh, leafOf, inBagOnly, n, leafG, leafH, nLeaves);
    for (let l = 0; l < nLeaves; l++) {
      leafValue[l] = (-thresholdL1(leafG[l], alpha) / (leafH[l] + lambda)) * lr;
      leafCover[l] = leafH[l];
      if (!Number.isFinite(leafValue[l])) leafValue[l] = 0;
    }
    if (evalTrain) addLeafValues(score, leafOf, inBagOnly, n, leafValue, expNeg, leafFactor);
    else {
      pendingLeafValue = leafValue;
      pendingInBag = inBagOnly;
    }
    // Internal covers from the leaf covers, bottom-up (children are created after their parent), so that every
    // node's cover is exactly the sum of its children's — what TreeSHAP's cover ratios assume.
    for (let k = cover.length - 1; k >= 0; k--) {
      const cl = left[k] < 0 ? leafCover[~left[k]] : cover[left[k]];
      const cr = right[k] < 0 ? leafCover[~right[k]] : cover[right[k]];
      cover[k] = cl + cr;
    }
    const tree: Tree = {
      splitFeature: Int32Array.from(splitFeature),
      threshold: Float64Array.from(threshold),
      defaultLeft: Uint8Array.from(defaultLeft),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      gain: Float64Array.from(gainArr),
      internalCover: Float64Array.from(cover),
      leafValue,
      leafCover,
    };
    const bins = Int32Array.from(splitBin);
    if (bagging && bagSize < n) addTreeToScores(score, tree, bins, cols, n, inBag);
    trees.push(tree);

    if (evalTrain) evals.train.push(meanLoss(objective, score, y, w, n));
    if (validation) {
      addTreeToScores(validScore, tree, bins, validCols, nv, null);
      const vl = meanLoss(objective, validScore, validation.y, validation.weight, nv);
      evals.valid.push(vl);
      if (vl < bestValid) {
        bestValid = vl;
        bestIteration = it + 1;
      }
      if (earlyStop > 0 && it + 1 - bestIteration >= earlyStop) break;
    }
  }
  if (!validation || earlyStop === 0) bestIteration = trees.length;
  const model: TreeEnsemble = {
    objective,
    featureNames: [...data.featureNames],
    baseScore,
    trees: trees.slice(0, bestIteration),
  };
  return { model, evals, bestIteration, binning };
}

/*
 * The per-row loops live in small top-level functions over typed arrays: V8 optimises them on their own, whereas a
 * loop inside the long orchestration function is only as fast as that whole function's (on-stack-replaced) code.
 * The record kernels (histograms, partitions) are in `gbdt.kernels.ts`.
 */

/** Σg, Σh of each leaf's rows (in-bag only when `inBag` is given), summed in row order. */
function leafSums(
  gh: Float64Array,
  leafOf: Uint8Array | Int32Array,
  inBag: Uint8Array | null,
  n: number,
  G: Float64Array,
  H: Float64Array,
  nLeaves: number,
): void {
  G.fill(0, 0, nLeaves);
  H.fill(0, 0, nLeaves);
  for (let r = 0; r < n; r++) {
    if (inBag !== null && inBag[r] === 0) continue;
    const l = leafOf[r];
    G[l] += gh[2 * r];
    H[l] += gh[2 * r + 1];
  }
}

/**
 * score[r] += leafValue[leafOf[r]] for every (in-bag) row; with a non-empty `expNeg` (no bagging), also
 * expNeg[r] ·= e^(−leafValue[leafOf[r]]), as the gradients' fast path does (`leafFactor`: scratch, one per leaf).
 */
function addLeafValues(
  score: Float64Array,
  leafOf: Uint8Array | Int32Array,
  inBag: Uint8Array | null,
  n: number,
  leafValue: Float64Array,
  expNeg: Float64Array,
  leafFactor: Float64Array,
): void {
  if (expNeg.length !== 0) {
    for (let l = 0; l < leafValue.length; l++) leafFactor[l] = Math.exp(-leafValue[l]);
    for (let r = 0; r < n; r++) {
      const l = leafOf[r];
      score[r] += leafValue[l];
      expNeg[r] *= leafFactor[l];
    }
    return;
  }
  for (let r = 0; r < n; r++) if (inBag === null || inBag[r] === 1) score[r] += leafValue[leafOf[r]];
}

/** parent −= child over the used features (histogram subtraction); `W` cells per feature. */
function subtractHistogram(
  parent: Float64Array,
  child: Float64Array,
  used: Int32Array,
  nUsed: number,
  W: number,
): void {
  for (let u = 0; u < nUsed; u++) {
    const base = used[u] * W;
    for (let k = base, e = base + W; k < e; k++) parent[k] -= child[k];
  }
}

/** Adds a tree's output to the scores of binned rows (only rows with inBag 0 when `inBag` is given). */
function addTreeToScores(
  score: Float64Array,
  tree: Tree,
  bins: Int32Array,
  cols: Uint8Array[],
  n: number,
  inBag: Uint8Array | null,
): void {
  for (let i = 0; i < n; i++) if (!inBag || !inBag[i]) score[i] += tree.leafValue[binnedLeaf(tree, bins, cols, i)];
}

/**
 * Quantizes the gradients of the rows rowIdx[0, m) to gq = round(g / gScale) ∈ [−qg, qg], hq = round(h / hScale) ∈
 * [0, qh] (qh < 2^qhBits) with stochastic rounding (xorshift32, state in scale[2]), stored per row as the int32 code
 * ((gq + qg) << qhBits) | hq; the histograms sum the packed value gq·shift + hq (exact integers). gScale = max|g| / qg
 * and hScale = max h / qh are written to scale[0], scale[1], and the sum of the packed values (in rowIdx order) to
 * scale[3]. `maxima` (max|g|, max h of those rows) skips a pass.
 */
function quantizeGradients(
  gh: Float64Array,
  rowIdx: Int32Array,
  m: number,
  codes: Int32Array,
  qg: number,
  qh: number,
  qhBits: number,
  shift: number,
  scale: Float64Array,
  maxima: Float64Array | null,
): void {
  let gMax = 0;
  let hMax = 0;
  if (maxima !== null) {
    gMax = maxima[0];
    hMax = maxima[1];
  } else {
    for (let i = 0; i < m; i++) {
      const r = rowIdx[i];
      const g = Math.abs(gh[2 * r]);
      const h = gh[2 * r + 1];
      if (g > gMax) gMax = g;
      if (h > hMax) hMax = h;
    }
  }
  const gs = gMax > 0 ? gMax / qg : 1;
  const hs = hMax > 0 ? hMax / qh : 1;
  const gInv = 1 / gs;
  const hInv = 1 / hs;
  // Int32 arithmetic throughout (the xorshift state as int32, integer clamps and sums): 2.2× the float64 version,
  // same codes (measured).
  let x = scale[2] | 0;
  let Gq = 0;
  let Hq = 0;
  for (let i = 0; i < m; i++) {
    const r = rowIdx[i];
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u1 = (x >>> 0) * 2.3283064365386963e-10;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u2 = (x >>> 0) * 2.3283064365386963e-10;
    let gq = Math.floor(gh[2 * r] * gInv + u1) | 0;
    gq = gq > qg ? qg : gq < -qg ? -qg : gq;
    let hq = Math.floor(gh[2 * r + 1] * hInv + u2) | 0;
    hq = hq > qh ? qh : hq;
    codes[r] = ((gq + qg) << qhBits) | hq;
    Gq += gq;
    Hq += hq;
  }
  scale[0] = gs;
  scale[1] = hs;
  scale[2] = x >>> 0;
  // Σgq·shift + Σhq: the sum of the packed values (exact, < 2^53).
  scale[3] = Gq * shift + Hq;
}

/** Unpacks a quantized histogram (one packed sum per bin) into Σg, Σh pairs for the used features. */
function decodeHistogram(
  q: Float64Array,
  out: Float64Array,
  used: Int32Array,
  nUsed: number,
  shift: number,
  gScale: number,
  hScale: number,
): void {
  for (let u = 0; u < nUsed; u++) {
    const base = used[u] * BINS_PER_FEATURE;
    for (let b = base, e = base + BINS_PER_FEATURE; b < e; b++) {
      const v = q[b];
      // Exact: v is an integer below 2^53 and shift a power of two.
      const gq = Math.floor(v / shift);
      out[2 * b] = gq * gScale;
      out[2 * b + 1] = (v - gq * shift) * hScale;
    }
  }
}

/** Σg, Σh over the first m rows of rowIdx into out[0], out[1]. */
function sumGradients(gh: Float64Array, rowIdx: Int32Array, m: number, out: Float64Array): void {
  let G = 0;
  let H = 0;
  for (let i = 0; i < m; i++) {
    const r = rowIdx[i];
    G += gh[2 * r];
    H += gh[2 * r + 1];
  }
  out[0] = G;
  out[1] = H;
}

/** Bernoulli(fraction) bag; at least one row. Returns the bag size. */
function drawBag(rng: Xoshiro128ss, fraction: number, inBag: Uint8Array): number {
  let size = 0;
  for (let i = 0; i < inBag.length; i++) {
    const inside = rng.uniform() < fraction ? 1 : 0;
    inBag[i] = inside;
    size += inside;
  }
  if (size === 0) {
    inBag[0] = 1;
    size = 1;
  }
  return size;
}

/** rowIdx ← the in-bag rows in ascending order. */
function fillBagRows(inBag: Uint8Array, rowIdx: Int32Array, n: number): void {
  for (let i = 0, k = 0; i < n; i++) if (inBag[i]) rowIdx[k++] = i;
}

/** Leaf reached by binned row `r` (bins per internal node in `bins`). */
function binnedLeaf(tree: Tree, bins: Int32Array, cols: Uint8Array[], r: number): number {
  if (tree.splitFeature.length === 0) return 0;
  let node = 0;
  for (;;) {
    const b = cols[tree.splitFeature[node]][r];
    const c =
      b === MISSING
        ? tree.defaultLeft[node]
          ? tree.left[node]
          : tree.right[node]
        : b <= bins[node]
          ? tree.left[node]
          : tree.right[node];
    if (c < 0) return ~c;
    node = c;
  }
}

/**
 * First and second derivatives of the loss at the current margins, interleaved into `gh` (g at 2i, h at 2i + 1);
 * max|g| and max h into maxima[0], maxima[1]. With `leafValue`, first adds the previous tree's output to the margins
 * of its rows (score[i] += leafValue[leafOf[i]], in-bag rows only when `inBag` is given) in the same pass.
 * With a non-empty `expNeg` (binary without weights or bagging), {@link binaryGradientsFromExp} computes them.
 */
function computeGradients(
  objective: TreeObjective,
  score: Float64Array,
  y: Float64Array,
  w: Float64Array | undefined,
  gh: Float64Array,
  n: number,
  maxima: Float64Array,
  leafOf: Uint8Array | Int32Array,
  leafValue: Float64Array | null,
  inBag: Uint8Array | null,
  expNeg: Float64Array,
  leafFactor: Float64Array,
): void {
  if (expNeg.length !== 0) {
    binaryGradientsFromExp(score, expNeg, y, gh, n, maxima, leafOf, leafValue, leafFactor);
    return;
  }
  let gMax = 0;
  let hMax = 0;
  for (let i = 0; i < n; i++) {
    if (leafValue !== null && (inBag === null || inBag[i] === 1)) score[i] += leafValue[leafOf[i]];
    const m = score[i];
    const wi = w ? w[i] : 1;
    let g: number;
    let h: number;
    if (objective === 'binary') {
      // Stable sigmoid: e = exp(−|m|) never overflows.
      const e = Math.exp(m >= 0 ? -m : m);
      const p = m >= 0 ? 1 / (1 + e) : e / (1 + e);
      g = (p - y[i]) * wi;
      h = Math.max(p * (1 - p), 1e-16) * wi;
    } else {
      g = (m - y[i]) * wi;
      h = wi;
    }
    gh[2 * i] = g;
    gh[2 * i + 1] = h;
    const ag = Math.abs(g);
    if (ag > gMax) gMax = ag;
    if (h > hMax) hMax = h;
  }
  maxima[0] = gMax;
  maxima[1] = hMax;
}

/**
 * {@link computeGradients} for log loss without weights or bagging, and without `Math.exp` per row (half of the pass's
 * time, measured): `expNeg[i]` = e^(−score[i]) starts at e^(−baseScore) and is multiplied by e^(−leafValue) of the
 * row's leaf after each tree (one exp per leaf; `leafFactor` is scratch), here when `leafValue` is given, else already
 * by `addLeafValues`. So p = 1 / (1 + e^(−m)) costs one division; the running product drifts by about one ulp per tree
 * (~2e−14 relative after 200 trees), as the running sum `score` does. 1 − p is taken as e^(−m)·p, without the
 * cancellation of 1 − p near p = 1.
 */
function binaryGradientsFromExp(
  score: Float64Array,
  expNeg: Float64Array,
  y: Float64Array,
  gh: Float64Array,
  n: number,
  maxima: Float64Array,
  leafOf: Uint8Array | Int32Array,
  leafValue: Float64Array | null,
  leafFactor: Float64Array,
): void {
  if (leafValue !== null) for (let l = 0; l < leafValue.length; l++) leafFactor[l] = Math.exp(-leafValue[l]);
  let gMax = 0;
  let hMax = 0;
  for (let i = 0; i < n; i++) {
    let E = expNeg[i];
    if (leafValue !== null) {
      // The same update as addLeafValues, fused into this pass.
      const l = leafOf[i];
      score[i] += leafValue[l];
      E *= leafFactor[l];
      expNeg[i] = E;
    }
    const p = 1 / (1 + E);
    // E = ∞ (margin below −709): p = 0 and 1 − p = 1 (E·p would be NaN).
    const q = E < Infinity ? E * p : 1;
    const g = p - y[i];
    const h = Math.max(p * q, 1e-16);
    gh[2 * i] = g;
    gh[2 * i + 1] = h;
    const ag = Math.abs(g);
    gMax = ag > gMax ? ag : gMax;
    hMax = h > hMax ? h : hMax;
  }
  maxima[0] = gMax;
  maxima[1] = hMax;
}

/** Mean (weighted) log loss of margins `score` (binary) or mean squared error (regression). */
function meanLoss(
  objective: TreeObjective,
  score: Float64Array,
  y: Float64Array,
  w: Float64Array | undefined,
  n: number,
): number {
  let s = 0;
  let sw = 0;
  for (let i = 0; i < n; i++) {
    const m = score[i];
    const wi = w ? w[i] : 1;
    let l: number;
    if (objective === 'binary') l = (m > 0 ? m : 0) - y[i] * m + Math.log1p(Math.exp(m >= 0 ? -m : m));
    else {
      const e = m - y[i];
      l = e * e;
    }
    s += wi * l;
    sw += wi;
  }
  return s / sw;
}
