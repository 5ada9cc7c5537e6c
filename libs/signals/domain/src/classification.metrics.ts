/**
 * Out-of-sample metrics of a directional signal: AUC, log loss, accuracy, Brier score (on probabilities of the
 * up class) and the information coefficient (rank correlation of the score with the realised forward return).
 */

/** Probabilities are clipped to [ε, 1 − ε] in the log loss so that one confident miss gives a large, finite loss. */
export const LOG_LOSS_EPSILON = 1e-15;

/**
 * Ranks of `v` (1-based), ties sharing the average of the ranks they span ("fractional ranking"). NaN is not allowed.
 */
export function averageRanks(v: ArrayLike<number>): Float64Array {
  const n = v.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => v[a] - v[b]);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && v[order[j]] === v[order[i]]) j++;
    const r = (i + 1 + j) / 2; // mean of ranks i+1 .. j
    for (let k = i; k < j; k++) ranks[order[k]] = r;
    i = j;
  }
  return ranks;
}

function checkLengths(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new RangeError(`${what}: lengths differ (${a.length} vs ${b.length})`);
  if (a.length === 0) throw new RangeError(`${what}: no rows`);
}

/**
 * Area under the ROC curve of `score` for labels `y` ∈ {0, 1}, by the Mann–Whitney U statistic with average ranks
 * for ties: AUC = (R₁ − n₁(n₁+1)/2) / (n₁ n₀), R₁ the rank sum of the positives. A tied positive/negative pair counts ½.
 * NaN when either class is absent.
 */
export function auc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  checkLengths(y, score, 'auc');
  const ranks = averageRanks(score);
  let n1 = 0;
  let r1 = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 1) {
      n1++;
      r1 += ranks[i];
    } else if (y[i] !== 0) throw new RangeError(`auc: label at ${i} is ${y[i]}, expected 0 or 1`);
  }
  const n0 = y.length - n1;
  if (n1 === 0 || n0 === 0) return NaN;
  return (r1 - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

/** Mean binary cross-entropy −[y ln p + (1−y) ln(1−p)] in nats, p clipped to [ε, 1−ε] ({@link LOG_LOSS_EPSILON}). */
export function logLoss(y: ArrayLike<number>, p: ArrayLike<number>): number {
  checkLengths(y, p, 'logLoss');
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(Math.max(p[i], LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    s -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return s / y.length;
}

/** Fraction of rows where (p ≥ threshold) equals the label (default threshold 0.5). */
export function accuracy(y: ArrayLike<number>, p: ArrayLike<number>, threshold = 0.5): number {
  checkLengths(y, p, 'accuracy');
  let hit = 0;
  for (let i = 0; i < y.length; i++) if ((p[i] >= threshold ? 1 : 0) === y[i]) hit++;
  return hit / y.length;
}

/** Brier score: mean squared difference between the probability and the 0/1 outcome. */
export function brierScore(y: ArrayLike<number>, p: ArrayLike<number>): number {
  checkLengths(y, p, 'brierScore');
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    const e = p[i] - y[i];
    s += e * e;
  }
  return s / y.length;
}

/** Pearson correlation; NaN when either side is constant. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  checkLengths(a, b, 'pearson');
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/**
 * Information coefficient: Spearman rank correlation (Pearson correlation of average ranks) between the model score
 * and the realised forward return. NaN when either is constant (e.g. a constant baseline).
 */
export function informationCoefficient(score: ArrayLike<number>, forwardReturn: ArrayLike<number>): number {
  checkLengths(score, forwardReturn, 'informationCoefficient');
  return pearson(averageRanks(score), averageRanks(forwardReturn));
}

/** The metrics of one model on one test fold. */
export interface SignalMetrics {
  auc: number;
  logLoss: number;
  accuracy: number;
  brier: number;
  /** Spearman IC of the probability vs the forward return. */
  ic: number;
}

/** All of {@link SignalMetrics} for probabilities `p` of labels `y` and realised forward returns. */
export function signalMetrics(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  forwardReturn: ArrayLike<number>,
): SignalMetrics {
  return {
    auc: auc(y, p),
    logLoss: logLoss(y, p),
    accuracy: accuracy(y, p),
    brier: brierScore(y, p),
    ic: informationCoefficient(p, forwardReturn),
  };
}
