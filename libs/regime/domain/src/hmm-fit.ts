import { mulberry32 } from '@strata/shared-random';
import {
  type BaumWelchOptions,
  type BaumWelchResult,
  type GaussianHmmParams,
  fitGaussianHmm,
  hmmBic,
} from './gaussian-hmm';

/** Options of {@link fitWithRestarts} and {@link selectHmmByBic}. */
export interface HmmFitOptions extends BaumWelchOptions {
  /** Number of Baum-Welch runs (restart 0 from the quantile start, the others from seeded random starts). Default 4. */
  restarts?: number;
  /** Seed of the random starts (same seed, same data → same fit). Default 1. */
  seed?: number;
  /** Extra starting points tried before the restarts (e.g. the previous model's parameters, warm start). */
  warmStarts?: GaussianHmmParams[];
}

/** Best Baum-Welch run over the restarts, with its BIC. */
export interface HmmFit extends BaumWelchResult {
  bic: number;
  /** Log-likelihood of every run, in the order tried (warm starts first). */
  runLogLiks: number[];
}

/**
 * Deterministic start: bars sorted by the last observation dimension (in the regime model: log realised volatility)
 * and cut into k equal-count groups; each group's mean and covariance start a state; a sticky transition matrix
 * (0.9 on the diagonal) and a uniform start distribution.
 */
export function quantileStart(obs: Float64Array, n: number, d: number, k: number): GaussianHmmParams {
  const order = Array.from({ length: n }, (_, t) => t).sort((a, b) => obs[a * d + d - 1] - obs[b * d + d - 1]);
  const groups: number[][] = Array.from({ length: k }, (_, i) =>
    order.slice(Math.floor((i * n) / k), Math.floor(((i + 1) * n) / k)),
  );
  return startFromGroups(obs, d, groups);
}

/** Seeded random start: k distinct random bars as centres, every bar assigned to its nearest centre (scaled distance). */
export function randomStart(obs: Float64Array, n: number, d: number, k: number, seed: number): GaussianHmmParams {
  const rand = mulberry32(seed);
  const sd = new Float64Array(d);
  const mean = new Float64Array(d);
  for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) mean[j] += obs[t * d + j] / n;
  for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) sd[j] += (obs[t * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) sd[j] = Math.sqrt(sd[j]) || 1;
  const centres: number[] = [];
  while (centres.length < k) {
    const c = Math.floor(rand() * n);
    if (!centres.includes(c)) centres.push(c);
  }
  const groups: number[][] = Array.from({ length: k }, () => []);
  for (let t = 0; t < n; t++) {
    let best = 0;
    let bestD = Infinity;
    for (let i = 0; i < k; i++) {
      let dist = 0;
      for (let j = 0; j < d; j++) dist += ((obs[t * d + j] - obs[centres[i] * d + j]) / sd[j]) ** 2;
      if (dist < bestD) {
        bestD = dist;
        best = i;
      }
    }
    groups[best].push(t);
  }
  // A group too small for a covariance borrows the quantile start's group of the same rank.
  const fallback = quantileStart(obs, n, d, k);
  const p = startFromGroups(obs, d, groups, fallback);
  return p;
}

function startFromGroups(
  obs: Float64Array,
  d: number,
  groups: number[][],
  fallback?: GaussianHmmParams,
): GaussianHmmParams {
  const k = groups.length;
  const p: GaussianHmmParams = {
    k,
    d,
    startProb: new Float64Array(k).fill(1 / k),
    transition: new Float64Array(k * k),
    means: new Float64Array(k * d),
    covariances: new Float64Array(k * d * d),
  };
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) p.transition[i * k + j] = i === j ? 0.9 : k > 1 ? 0.1 / (k - 1) : 1;
  for (let i = 0; i < k; i++) {
    const g = groups[i];
    if (g.length <= d + 1 && fallback) {
      p.means.set(fallback.means.subarray(i * d, (i + 1) * d), i * d);
      p.covariances.set(fallback.covariances.subarray(i * d * d, (i + 1) * d * d), i * d * d);
      continue;
    }
    for (const t of g) for (let a = 0; a < d; a++) p.means[i * d + a] += obs[t * d + a] / g.length;
    for (const t of g)
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++)
          p.covariances[i * d * d + a * d + b] +=
            ((obs[t * d + a] - p.means[i * d + a]) * (obs[t * d + b] - p.means[i * d + b])) / g.length;
    // A small ridge keeps a degenerate group's start positive definite (the M-step replaces it at once).
    for (let a = 0; a < d; a++) p.covariances[i * d * d + a * d + a] *= 1 + 1e-6;
  }
  return p;
}

/**
 * Fits a k-state Gaussian HMM by Baum-Welch from the warm starts, the quantile start and `restarts − 1` seeded random
 * starts; keeps the run with the highest log-likelihood. A start whose run fails numerically (a state collapsing on
 * too few bars) is skipped; throws only when every run fails.
 */
export function fitWithRestarts(obs: Float64Array, n: number, d: number, k: number, opts: HmmFitOptions = {}): HmmFit {
  const restarts = Math.max(1, opts.restarts ?? 4);
  const seed = opts.seed ?? 1;
  const starts: (() => GaussianHmmParams)[] = [
    ...(opts.warmStarts ?? []).filter((w) => w.k === k && w.d === d).map((w) => () => w),
    () => quantileStart(obs, n, d, k),
  ];
  for (let r = 1; r < restarts; r++) starts.push(() => randomStart(obs, n, d, k, seed * 1000 + r * 7919 + k));
  let best: BaumWelchResult | null = null;
  const runLogLiks: number[] = [];
  let lastError: unknown = null;
  for (const start of starts) {
    try {
      const run = fitGaussianHmm(obs, n, start(), opts);
      runLogLiks.push(run.logLik);
      if (Number.isFinite(run.logLik) && (best === null || run.logLik > best.logLik)) best = run;
    } catch (err) {
      runLogLiks.push(Number.NaN);
      lastError = err;
    }
  }
  if (!best) throw new RangeError(`every Baum-Welch run failed for k=${k}: ${String(lastError)}`);
  return { ...best, bic: hmmBic(best.logLik, k, d, n), runLogLiks };
}

/** The BIC choice among candidate state counts: every candidate's fit and the chosen one (lowest BIC). */
export interface BicSelection {
  chosen: HmmFit;
  candidates: HmmFit[];
}

/** Fits each k in `ks` (default 2 and 3) with {@link fitWithRestarts} and picks the lowest BIC. */
export function selectHmmByBic(
  obs: Float64Array,
  n: number,
  d: number,
  ks: readonly number[] = [2, 3],
  opts: HmmFitOptions = {},
): BicSelection {
  const candidates = ks.map((k) => fitWithRestarts(obs, n, d, k, opts));
  const chosen = candidates.reduce((a, b) => (b.bic < a.bic ? b : a));
  return { chosen, candidates };
}
