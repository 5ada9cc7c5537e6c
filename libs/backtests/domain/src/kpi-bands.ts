/*
 * Probabilistic portfolio KPIs: percentile bands of the final equity multiple, the maximum drawdown and the Sharpe
 * ratio over a forward horizon, simulated from a backtest's daily returns.
 *
 * Notation: r_t simple period returns of the history (t = 1 … n), x_t = ln(1 + r_t) their log returns (the simulation
 * works on log returns so that equity stays positive), μ the mean of x used forward (shrunk toward zero by default,
 * see {@link MeanTreatment}), σ_t the conditional volatility of a filter (EWMA or GARCH(1,1)), z_t = (x_t − μ̂) / σ_t
 * the standardised residuals.
 *
 * Methods:
 * - `fhs` (default) filtered historical simulation (Barone-Adesi, Giannopoulos & Vosper 1999): z resampled iid and
 *   rescaled by the forward filter variance, σ²_{t+1} from the filter recursion driven by the simulated shocks.
 * - `bootstrap` stationary block bootstrap (Politis & Romano 1994) of the demeaned x with the Politis–White (2004,
 *   corrected by Patton, Politis & White 2009) expected block length estimated on |x|.
 * - `garch_t` parametric Monte Carlo from the GARCH(1,1) with standardised Student-t errors fitted by maximum likelihood.
 */
import { Xoshiro128ss } from '@strata/shared-random';

/** Why an input series cannot be simulated; the API maps each reason to a 422 problem. */
export type KpiBandsErrorReason = 'too_short' | 'flat' | 'non_finite' | 'degenerate' | 'invalid_option';

/** A typed refusal: flat, too short or degenerate input never yields bands of zeros. */
export class KpiBandsError extends Error {
  constructor(
    readonly reason: KpiBandsErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'KpiBandsError';
  }
}

/** Simulation methods; see the file header. */
export type KpiBandsMethod = 'fhs' | 'bootstrap' | 'garch_t';
/** Volatility filter of `fhs`. */
export type VolatilityFilter = 'ewma' | 'garch';
/**
 * Forward drift: `shrunk` (default) positive-part James–Stein toward zero, μ = x̄ · max(0, 1 − 1/t²) with t the
 * t-statistic of x̄ (a backtest mean is inflated by selection, so it is not taken at face value); `zero`; `sample` x̄.
 */
export type MeanTreatment = 'shrunk' | 'zero' | 'sample';

/** Horizons (bars) the API accepts. */
export const KPI_BANDS_HORIZONS = [21, 63, 252] as const;
/** Default number of simulated paths. */
export const KPI_BANDS_DEFAULT_PATHS = 10_000;
/** Fewest returns accepted by `fhs`/`bootstrap` with an EWMA filter; GARCH fits need {@link MIN_RETURNS_GARCH}. */
export const MIN_RETURNS = 100;
/** Fewest returns for a GARCH(1,1)-t maximum-likelihood fit. */
export const MIN_RETURNS_GARCH = 250;
/** Percentiles reported for every KPI. */
export const KPI_PERCENTILES = [5, 25, 50, 75, 95] as const;

/** Options of {@link simulateKpiBands}. */
export interface KpiBandsOptions {
  method?: KpiBandsMethod;
  /** Forward horizon in bars (≥ 2). */
  horizon: number;
  /** Number of simulated paths (default 10,000). */
  paths?: number;
  /** RNG seed (default 1); the same seed and inputs give the same bands. */
  seed?: number;
  /** Filter of `fhs` (default `ewma`). */
  volatility?: VolatilityFilter;
  /** EWMA decay (default 0.94, RiskMetrics). */
  ewmaLambda?: number;
  mean?: MeanTreatment;
  /** Periods per year for the Sharpe annualisation (default 252). */
  periodsPerYear?: number;
  /** Drawdown thresholds x (positive fractions) for P(max drawdown > x); default [0.1, 0.2, 0.3]. */
  drawdownThresholds?: number[];
  /** Expected block length of `bootstrap` (default: Politis–White on |x|). */
  blockLength?: number;
  /** Per-bar fan bands (default true). */
  fan?: boolean;
  /** Also return the per-path final equity multiples and maximum drawdowns (`samples`; evaluations only). */
  keepSamples?: boolean;
  /** Called after each simulated bar with (bars done, horizon). */
  onProgress?: (done: number, total: number) => void;
}

/** P5 … P95 of one KPI across the simulated paths. */
export interface PercentileBand {
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

/** Fitted GARCH(1,1) with standardised Student-t errors, in the units of the series it was fitted on. */
export interface GarchTFit {
  mu: number;
  omega: number;
  alpha: number;
  beta: number;
  nu: number;
  /** Log-likelihood at the optimum (arch's conditioning: σ²_0 from the backcast). */
  logLikelihood: number;
  /** Exponentially weighted backcast of the initial variance (weights 0.94^i over the first 75 residuals). */
  backcast: number;
  /** Conditional variances σ²_1 … σ²_n and the one-step-ahead σ²_{n+1}. */
  sigma2: Float64Array;
  nextSigma2: number;
  iterations: number;
}

/** The bands and how they were made. */
export interface KpiBands {
  kind: 'bands';
  method: KpiBandsMethod;
  horizon: number;
  paths: number;
  seed: number;
  /** Final equity multiple E_h / E_0. */
  equity: PercentileBand;
  /** Maximum drawdown over the horizon, positive fraction of the running peak (starting at E_0). */
  maxDrawdown: PercentileBand;
  /** Annualised Sharpe of each path; see `sharpeDefinition`. */
  sharpe: PercentileBand;
  sharpeDefinition: string;
  /** P(E_h < E_0). */
  probLoss: number;
  /** P(max drawdown > x) per threshold x. */
  probDrawdownWorseThan: { threshold: number; probability: number }[];
  /** Per-bar percentile bands of the equity multiple (bands, not paths): fan[k] is bar k + 1. */
  fan: ({ bar: number } & PercentileBand)[];
  /** Drift used forward and how it was chosen. */
  mean: { treatment: MeanTreatment; sample: number; used: number; statement: string };
  details: {
    historyReturns: number;
    volatility?: VolatilityFilter;
    ewmaLambda?: number;
    garch?: Omit<GarchTFit, 'sigma2'>;
    blockLength?: number;
    periodsPerYear: number;
  };
  warnings: string[];
  /** Per-path outputs, in no particular order, when `keepSamples` was set. */
  samples?: { finalEquity: Float64Array; maxDrawdown: Float64Array };
}

const TWO_PI = 2 * Math.PI;

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; relative error ≈ 1e-15). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return 0.5 * Math.log(TWO_PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Sample quantile of an ascending-sorted array, linear interpolation between order statistics (Hyndman & Fan type 7,
 * numpy's default): h = (m − 1)·q, Q = s[⌊h⌋] + (h − ⌊h⌋)(s[⌊h⌋+1] − s[⌊h⌋]).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const h = (m - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(m - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function bandOfSorted(sorted: ArrayLike<number>): PercentileBand {
  return {
    p5: quantileSorted(sorted, 0.05),
    p25: quantileSorted(sorted, 0.25),
    p50: quantileSorted(sorted, 0.5),
    p75: quantileSorted(sorted, 0.75),
    p95: quantileSorted(sorted, 0.95),
  };
}

/** k-th smallest (0-based) of a[lo..hi] by Hoare's selection, in place. */
function select(a: Float64Array, lo: number, hi: number, k: number): number {
  while (hi > lo) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Type-7 quantile at probability q of a[0..m−1], selecting within [lo, hi] (which must hold rank ⌊(m−1)q⌋ and, when
 * interpolating, everything up to the next rank's position or a[hi] ≤ every element after hi). */
function selectQuantile(a: Float64Array, lo: number, hi: number, q: number): { value: number; k: number } {
  const m = a.length;
  const h = (m - 1) * q;
  const k = Math.floor(h);
  const low = select(a, lo, hi, k);
  if (h === k || k + 1 >= m) return { value: low, k };
  // The next order statistic is the smallest element right of k within the range (everything after hi is ≥ a[hi]).
  let next = Infinity;
  for (let i = k + 1; i <= hi; i++) if (a[i] < next) next = a[i];
  if (next === Infinity) next = a[hi + 1];
  return { value: low + (h - k) * (next - low), k };
}

/** P5, P25, P50, P75, P95 by selection: the median over the whole buffer, then each side within its half. */
function selectQuantiles(a: Float64Array): number[] {
  const m = a.length;
  const p50 = selectQuantile(a, 0, m - 1, 0.5);
  const p25 = selectQuantile(a, 0, p50.k, 0.25);
  const p5 = selectQuantile(a, 0, p25.k, 0.05);
  const p75 = selectQuantile(a, p50.k, m - 1, 0.75);
  const p95 = selectQuantile(a, p75.k, m - 1, 0.95);
  return [p5.value, p25.value, p50.value, p75.value, p95.value];
}

const BAND_Q = [0.05, 0.25, 0.5, 0.75, 0.95];
/** Below this size the bucket passes do not pay; selection on the whole buffer is used. */
const BUCKET_MIN = 256;
const BUCKETS = 4096;

/**
 * P5 … P95 (type 7, exact) of `a` without permuting it, by bucketing: one pass for the range, one pass counting values
 * into {@link BUCKETS} equal-width buckets (the bucket index ⌊(x − min)·scale⌋ is monotone in x, so buckets hold
 * consecutive order statistics), cumulative counts locate the bucket of each wanted rank (⌊h⌋ and ⌊h⌋ + 1), one more
 * pass gathers those buckets' values into `scratch` (length ≥ m), and the ranks are selected within them. Exact for
 * any finite input (ties or skew only make a bucket larger); returns false on non-finite values.
 */
function bucketQuantiles(a: Float64Array, scratch: Float64Array, out: Float64Array): boolean {
  const m = a.length;
  let min = a[0];
  let max = a[0];
  for (let i = 1; i < m; i++) {
    const x = a[i];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) return false;
  if (min === max) {
    out.fill(min);
    return true;
  }
  const scale = BUCKETS / (max - min);
  const last = BUCKETS - 1;
  const count = new Int32Array(BUCKETS);
  for (let i = 0; i < m; i++) count[Math.min(last, ((a[i] - min) * scale) | 0)]++;
  // Wanted ranks (ascending) and their buckets; start[b] = number of values in buckets before b.
  const ranks: number[] = [];
  for (const q of BAND_Q) {
    const k = Math.floor((m - 1) * q);
    ranks.push(k, Math.min(m - 1, k + 1));
  }
  const rankBucket = new Int32Array(ranks.length);
  const start = new Int32Array(BUCKETS);
  const slot = new Int32Array(BUCKETS); // 1 + offset of the bucket's region in scratch, 0 when not wanted
  let cum = 0;
  let r = 0;
  let used = 0;
  for (let bkt = 0; bkt < BUCKETS && r < ranks.length; bkt++) {
    start[bkt] = cum;
    const c = count[bkt];
    while (r < ranks.length && ranks[r] < cum + c) {
      rankBucket[r++] = bkt;
      if (slot[bkt] === 0) {
        slot[bkt] = used + 1;
        used += c;
      }
    }
    cum += c;
  }
  const fill = new Int32Array(BUCKETS);
  for (let i = 0; i < m; i++) {
    const x = a[i];
    const bkt = Math.min(last, ((x - min) * scale) | 0);
    const sl = slot[bkt];
    if (sl !== 0) scratch[sl - 1 + fill[bkt]++] = x;
  }
  const stat = (rank: number, bkt: number) => {
    const base = slot[bkt] - 1;
    return select(scratch, base, base + count[bkt] - 1, base + rank - start[bkt]);
  };
  for (let j = 0; j < 5; j++) {
    const h = (m - 1) * BAND_Q[j];
    const k = Math.floor(h);
    const low = stat(ranks[2 * j], rankBucket[2 * j]);
    out[j] = h === k || k + 1 >= m ? low : low + (h - k) * (stat(ranks[2 * j + 1], rankBucket[2 * j + 1]) - low);
  }
  return true;
}

/**
 * P5 … P95 (type 7) of `values`, by selection; may permute `values` in place. Empty input gives NaNs. `scratch`
 * (length ≥ values.length) is reused across calls by the simulation; allocated when absent.
 */
export function percentileBand(values: Float64Array, scratch?: Float64Array): PercentileBand {
  if (values.length === 0) return bandOfSorted([]);
  if (values.length >= BUCKET_MIN) {
    const out = new Float64Array(5);
    if (bucketQuantiles(values, scratch ?? new Float64Array(values.length), out)) {
      const [p5, p25, p50, p75, p95] = out;
      return { p5, p25, p50, p75, p95 };
    }
  }
  const [p5, p25, p50, p75, p95] = selectQuantiles(values);
  return { p5, p25, p50, p75, p95 };
}

function checkSeries(x: ArrayLike<number>, min: number, simpleReturns: boolean): void {
  if (x.length < min)
    throw new KpiBandsError('too_short', `${x.length} returns; at least ${min} are needed for this method`);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new KpiBandsError('non_finite', `return ${i} is not a finite number`);
    if (simpleReturns && x[i] <= -1)
      throw new KpiBandsError('degenerate', `return ${i} is ${x[i]} (equity at or below zero)`);
    s += x[i];
  }
  const m = s / x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - m) * (x[i] - m);
  if (!(v / x.length > 1e-16)) throw new KpiBandsError('flat', 'the returns have zero variance (flat equity)');
  let nonZero = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) nonZero++;
  if (nonZero < 20)
    throw new KpiBandsError('degenerate', `only ${nonZero} non-zero returns; at least 20 are needed to estimate risk`);
}

/** Log returns ln(1 + r) of simple returns. */
export function logReturns(r: ArrayLike<number>): Float64Array {
  const x = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) x[i] = Math.log1p(r[i]);
  return x;
}

/** Simple period returns E_i / E_{i−1} − 1 of an equity curve. */
export function equityReturns(equity: ArrayLike<number>): Float64Array {
  const r = new Float64Array(Math.max(0, equity.length - 1));
  for (let i = 1; i < equity.length; i++) r[i - 1] = equity[i] / equity[i - 1] - 1;
  return r;
}

/** arch's variance backcast: Σ w_i e_i² over the first min(75, n) residuals, w_i ∝ 0.94^i. */
export function garchBackcast(resid: ArrayLike<number>): number {
  const tau = Math.min(75, resid.length);
  let w = 1;
  let sw = 0;
  let s = 0;
  for (let i = 0; i < tau; i++) {
    s += w * resid[i] * resid[i];
    sw += w;
    w *= 0.94;
  }
  return s / sw;
}

/**
 * GARCH(1,1)-t log-likelihood (arch's parameterisation): e_t = x_t − μ, σ²_t = ω + α e²_{t−1} + β σ²_{t−1} with
 * e²_0 = σ²_0 = backcast, and the standardised Student-t density with ν > 2 degrees of freedom.
 * Writes σ²_t into `sigma2` when given.
 */
export function garchTLogLikelihood(
  x: ArrayLike<number>,
  p: { mu: number; omega: number; alpha: number; beta: number; nu: number },
  backcast: number,
  sigma2?: Float64Array,
): number {
  const { mu, omega, alpha, beta, nu } = p;
  const n = x.length;
  const c = logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * Math.log(Math.PI * (nu - 2));
  const k = (nu + 1) / 2;
  const inv = 1 / (nu - 2);
  let s2 = omega + (alpha + beta) * backcast;
  let ll = n * c;
  for (let t = 0; t < n; t++) {
    if (t > 0) {
      const e1 = x[t - 1] - mu;
      s2 = omega + alpha * e1 * e1 + beta * s2;
    }
    if (sigma2) sigma2[t] = s2;
    const e = x[t] - mu;
    ll -= 0.5 * Math.log(s2) + k * Math.log1p(((e * e) / s2) * inv);
  }
  return ll;
}

/** Nelder–Mead minimiser (adaptive coefficients of Gao & Han 2012), for the few-parameter likelihoods here. */
function nelderMead(f: (v: number[]) => number, x0: number[], step: number[], maxIter: number, tol: number) {
  const d = x0.length;
  const alpha = 1;
  const gamma = 1 + 2 / d;
  const rho = 0.75 - 1 / (2 * d);
  const sigma = 1 - 1 / d;
  let pts: number[][] = [x0.slice()];
  for (let i = 0; i < d; i++) {
    const p = x0.slice();
    p[i] += step[i];
    pts.push(p);
  }
  let vals = pts.map(f);
  let it = 0;
  for (; it < maxIter; it++) {
    const order = vals.map((v, i) => i).sort((a, b) => vals[a] - vals[b]);
    pts = order.map((i) => pts[i]);
    vals = order.map((i) => vals[i]);
    if (Math.abs(vals[d] - vals[0]) <= tol * (Math.abs(vals[0]) + 1e-12)) {
      let spread = 0;
      for (let i = 1; i <= d; i++)
        for (let j = 0; j < d; j++) spread = Math.max(spread, Math.abs(pts[i][j] - pts[0][j]));
      if (spread < 1e-9) break;
    }
    const cen = new Array(d).fill(0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cen[j] += pts[i][j] / d;
    const at = (c: number) => cen.map((v, j) => v + c * (pts[d][j] - v));
    const xr = at(-alpha);
    const fr = f(xr);
    if (fr < vals[0]) {
      const xe = at(-alpha * gamma);
      const fe = f(xe);
      if (fe < fr) [pts[d], vals[d]] = [xe, fe];
      else [pts[d], vals[d]] = [xr, fr];
    } else if (fr < vals[d - 1]) {
      [pts[d], vals[d]] = [xr, fr];
    } else {
      const outside = fr < vals[d];
      const xc = outside ? at(-alpha * rho) : at(rho);
      const fc = f(xc);
      if (fc < (outside ? fr : vals[d])) [pts[d], vals[d]] = [xc, fc];
      else {
        for (let i = 1; i <= d; i++) {
          pts[i] = pts[i].map((v, j) => pts[0][j] + sigma * (v - pts[0][j]));
          vals[i] = f(pts[i]);
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i <= d; i++) if (vals[i] < vals[best]) best = i;
  return { x: pts[best], f: vals[best], iterations: it };
}

const logistic = (v: number) => 1 / (1 + Math.exp(-v));
const logit = (p: number) => Math.log(p / (1 - p));

/**
 * Fits a GARCH(1,1) with standardised Student-t errors and a constant mean by maximum likelihood (arch's model and
 * conditioning, {@link garchTLogLikelihood}). The series is scaled to unit variance for the optimiser and the estimates
 * mapped back exactly (μ·s, ω·s², log-likelihood − n ln s). Constraints ω > 0, α ≥ 0, β ≥ 0, α + β < 1, 2 < ν ≤ 500
 * hold by the reparameterisation; Nelder–Mead is restarted from its optimum until the likelihood stops improving.
 * @throws KpiBandsError `too_short`, `flat`, `degenerate` (no finite optimum).
 */
export function fitGarchT(x: ArrayLike<number>): GarchTFit {
  checkSeries(x, MIN_RETURNS_GARCH, false);
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - m) ** 2;
  const s = Math.sqrt(v / n);
  const y = new Float64Array(n);
  const resid = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = x[i] / s;
    resid[i] = (x[i] - m) / s;
  }
  const backcast = garchBackcast(resid);
  // θ = [μ, ln ω, logit(α+β), logit(α/(α+β)), ln(ν − 2)]
  const decode = (t: number[]) => {
    const pers = logistic(t[2]) * 0.999999;
    const alpha = pers * logistic(t[3]);
    return { mu: t[0], omega: Math.exp(t[1]), alpha, beta: pers - alpha, nu: 2 + Math.min(498, Math.exp(t[4])) };
  };
  const nll = (t: number[]) => {
    const p = decode(t);
    const ll = garchTLogLikelihood(y, p, backcast);
    return Number.isFinite(ll) ? -ll : 1e300;
  };
  let theta = [m / s, Math.log(0.05), logit(0.95), logit(0.1 / 0.95), Math.log(6)];
  let best = nll(theta);
  let iterations = 0;
  for (let round = 0; round < 8; round++) {
    const r = nelderMead(nll, theta, [0.05, 0.5, 0.5, 0.5, 0.5], 4000, 1e-14);
    iterations += r.iterations;
    const improved = best - r.f;
    theta = r.x;
    best = Math.min(best, r.f);
    if (round > 0 && improved < 1e-10) break;
  }
  const ps = decode(theta);
  if (!Number.isFinite(best) || best >= 1e300)
    throw new KpiBandsError('degenerate', 'the GARCH(1,1)-t likelihood has no finite optimum on these returns');
  const sigma2 = new Float64Array(n);
  const llScaled = garchTLogLikelihood(y, ps, backcast, sigma2);
  for (let i = 0; i < n; i++) sigma2[i] *= s * s;
  const mu = ps.mu * s;
  const omega = ps.omega * s * s;
  const eN = x[n - 1] - mu;
  return {
    mu,
    omega,
    alpha: ps.alpha,
    beta: ps.beta,
    nu: ps.nu,
    logLikelihood: llScaled - n * Math.log(s),
    backcast: backcast * s * s,
    sigma2,
    nextSigma2: omega + ps.alpha * eN * eN + ps.beta * sigma2[n - 1],
    iterations,
  };
}

/**
 * EWMA variances σ²_t = λ σ²_{t−1} + (1 − λ) e²_{t−1} of residuals e (σ²_1 = the arch-style backcast), and the
 * one-step-ahead σ²_{n+1}.
 */
export function ewmaVariance(e: ArrayLike<number>, lambda: number): { sigma2: Float64Array; next: number } {
  const n = e.length;
  const s2 = new Float64Array(n);
  let v = garchBackcast(e);
  for (let t = 0; t < n; t++) {
    if (t > 0) v = lambda * v + (1 - lambda) * e[t - 1] * e[t - 1];
    s2[t] = v;
  }
  return { sigma2: s2, next: lambda * v + (1 - lambda) * e[n - 1] * e[n - 1] };
}

/**
 * Politis–White (2004) automatic expected block length of the stationary bootstrap, with the correction of Patton,
 * Politis & White (2009): flat-top lag window λ(t) (1 for |t| ≤ ½, 2(1 − |t|) to 1), bandwidth M = 2m̂ where m̂ is the
 * smallest lag after which K_N = max(5, √log10 n) autocorrelations are all within 2√(log10 n / n), capped at
 * ⌈√n⌉ + K_N; b = (2 Ĝ² / D̂_SB)^{1/3} n^{1/3} with Ĝ = Σ λ(k/M)|k| R̂(k), ĝ = Σ λ(k/M) R̂(k), D̂_SB = 2 ĝ²; capped at
 * min(3√n, n/3), at least 1.
 */
export function politisWhiteBlockLength(series: ArrayLike<number>): number {
  const n = series.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += series[i];
  mean /= n;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = series[i] - mean;
  const kn = Math.max(5, Math.ceil(Math.sqrt(Math.log10(n))));
  const mMax = Math.ceil(Math.sqrt(n)) + kn;
  const bMax = Math.ceil(Math.min(3 * Math.sqrt(n), n / 3));
  const c = 2;
  const acov = (k: number) => {
    let s = 0;
    for (let i = k; i < n; i++) s += d[i] * d[i - k];
    return s / n;
  };
  const R = new Float64Array(mMax + 1);
  for (let k = 0; k <= mMax; k++) R[k] = acov(k);
  if (!(R[0] > 0)) throw new KpiBandsError('flat', 'the series has zero variance');
  const thresh = c * Math.sqrt(Math.log10(n) / n);
  // m̂: first lag k such that |ρ(k+1)| … |ρ(k+K_N)| are all insignificant.
  let mHat = -1;
  for (let k = 0; k + kn <= mMax; k++) {
    let all = true;
    for (let j = 1; j <= kn; j++)
      if (Math.abs(R[k + j] / R[0]) > thresh) {
        all = false;
        break;
      }
    if (all) {
      mHat = k;
      break;
    }
  }
  if (mHat < 0) {
    // No run of insignificant lags: the largest significant lag (arch's fallback).
    mHat = 1;
    for (let k = 1; k <= mMax; k++) if (Math.abs(R[k] / R[0]) > thresh) mHat = k;
  }
  const M = Math.min(2 * Math.max(mHat, 1), mMax);
  const lam = (t: number) => {
    const a = Math.abs(t);
    return a <= 0.5 ? 1 : a < 1 ? 2 * (1 - a) : 0;
  };
  let G = 0;
  let g = R[0];
  for (let k = 1; k <= M; k++) {
    const w = lam(k / M);
    G += 2 * w * k * R[k];
    g += 2 * w * R[k];
  }
  const D = 2 * g * g;
  const b = Math.pow((2 * G * G) / D, 1 / 3) * Math.pow(n, 1 / 3);
  if (!Number.isFinite(b)) return 1;
  return Math.max(1, Math.min(bMax, b));
}

/** Student-t variate with ν degrees of freedom: N / √(χ²_ν / ν), χ² by Marsaglia–Tsang gamma(ν/2). */
function makeStudentT(rng: Xoshiro128ss, nu: number): () => number {
  const a = nu / 2;
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  return () => {
    let g: number;
    for (;;) {
      const z = rng.normal();
      const t = 1 + c * z;
      if (t <= 0) continue;
      const v = t * t * t;
      const u = rng.uniform();
      const z2 = z * z;
      if (u < 1 - 0.0331 * z2 * z2 || Math.log(u) < 0.5 * z2 + d * (1 - v + Math.log(v))) {
        g = d * v;
        break;
      }
    }
    return rng.normal() / Math.sqrt((2 * g) / nu);
  };
}

/** Drift used forward; see {@link MeanTreatment}. */
export function forwardMean(
  x: ArrayLike<number>,
  treatment: MeanTreatment,
): { sample: number; used: number; statement: string } {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - m) ** 2;
  const se = Math.sqrt(v / (n - 1) / n);
  if (treatment === 'zero') return { sample: m, used: 0, statement: 'drift set to zero' };
  if (treatment === 'sample')
    return { sample: m, used: m, statement: 'sample mean log return used as drift (not shrunk)' };
  const t = m / se;
  const k = t === 0 ? 0 : Math.max(0, 1 - 1 / (t * t));
  return {
    sample: m,
    used: m * k,
    statement: `sample mean log return shrunk toward zero by max(0, 1 − 1/t²) = ${k.toFixed(4)} (t = ${t.toFixed(3)}), because backtest means are inflated by selection`,
  };
}

/**
 * Simulates `paths` forward paths of `horizon` bars from simple returns `r` and summarises them as percentile bands.
 * Deterministic in (r, options). Memory: one Float64Array of paths × horizon for the fan (when requested).
 * @throws KpiBandsError on flat, too short, non-finite or degenerate input, or an invalid option.
 */
export function simulateKpiBands(r: ArrayLike<number>, options: KpiBandsOptions): KpiBands {
  const method = options.method ?? 'fhs';
  const horizon = options.horizon;
  const paths = options.paths ?? KPI_BANDS_DEFAULT_PATHS;
  const seed = options.seed ?? 1;
  const P = options.periodsPerYear ?? 252;
  const lambda = options.ewmaLambda ?? 0.94;
  const volatility: VolatilityFilter = options.volatility ?? 'ewma';
  const wantFan = options.fan ?? true;
  const thresholds = options.drawdownThresholds ?? [0.1, 0.2, 0.3];
  if (!Number.isInteger(horizon) || horizon < 2 || horizon > 5000)
    throw new KpiBandsError('invalid_option', `horizon must be an integer in [2, 5000], got ${horizon}`);
  if (!Number.isInteger(paths) || paths < 100 || paths > 1_000_000)
    throw new KpiBandsError('invalid_option', `paths must be an integer in [100, 1000000], got ${paths}`);
  if (!(lambda > 0 && lambda < 1))
    throw new KpiBandsError('invalid_option', `ewmaLambda must be in (0, 1), got ${lambda}`);
  const needsGarch = method === 'garch_t' || (method === 'fhs' && volatility === 'garch');
  checkSeries(r, needsGarch ? MIN_RETURNS_GARCH : MIN_RETURNS, true);
  const x = logReturns(r);
  const n = x.length;
  const mean = forwardMean(x, options.mean ?? 'shrunk');
  const mu = mean.used;
  const rng = new Xoshiro128ss(seed, 0);
  const details: KpiBands['details'] = { historyReturns: n, periodsPerYear: P };

  // Bar-major simulation (all paths advance one bar at a time, as a vectorised implementation would): per-path state
  // lives in typed arrays and the fan is written contiguously. `stepBar(k, out)` writes bar k's log return of every
  // path into `out`. Volatility recursions share one form: σ²' = c0 + a·e² + b·σ² (EWMA: 0, 1 − λ, λ).
  let garch: GarchTFit | undefined;
  let stepBar: (k: number, out: Float64Array) => void;
  if (method === 'fhs' || method === 'garch_t') {
    let c0: number;
    let a: number;
    let bcoef: number;
    let s2Start: number;
    let sig2: Float64Array;
    if (needsGarch) {
      const g = (garch = fitGarchT(x));
      [c0, a, bcoef, s2Start, sig2] = [g.omega, g.alpha, g.beta, g.nextSigma2, g.sigma2];
      const { sigma2: _s, ...rest } = g;
      details.garch = rest;
    } else {
      const e = new Float64Array(n);
      for (let i = 0; i < n; i++) e[i] = x[i] - mean.sample;
      const ew = ewmaVariance(e, lambda);
      [c0, a, bcoef, s2Start, sig2] = [0, 1 - lambda, lambda, ew.next, ew.sigma2];
      details.ewmaLambda = lambda;
    }
    const s2 = new Float64Array(paths).fill(s2Start);
    if (method === 'fhs') {
      details.volatility = volatility;
      const muFit = garch ? garch.mu : mean.sample;
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) z[i] = (x[i] - muFit) / Math.sqrt(sig2[i]);
      const [w0, wa, wb] = [c0, a, bcoef];
      stepBar = (_k, out) => {
        for (let p = 0; p < paths; p++) {
          const v = s2[p];
          const e = Math.sqrt(v) * z[(rng.uniform() * n) | 0]; // ⌊u·n⌋ (u·n < 2^31)
          s2[p] = w0 + wa * e * e + wb * v;
          out[p] = mu + e;
        }
      };
    } else {
      const tdraw = makeStudentT(rng, garch!.nu);
      const scale = Math.sqrt((garch!.nu - 2) / garch!.nu);
      stepBar = (_k, out) => {
        for (let p = 0; p < paths; p++) {
          const v = s2[p];
          const e = Math.sqrt(v) * scale * tdraw();
          s2[p] = c0 + a * e * e + bcoef * v;
          out[p] = mu + e;
        }
      };
    }
  } else {
    const b = options.blockLength ?? politisWhiteBlockLength(Float64Array.from(x, Math.abs));
    if (!(b >= 1)) throw new KpiBandsError('invalid_option', `blockLength must be ≥ 1, got ${b}`);
    details.blockLength = b;
    const pNew = 1 / b;
    const d = new Float64Array(n);
    for (let i = 0; i < n; i++) d[i] = x[i] - mean.sample;
    const idx = new Int32Array(paths);
    // Stationary bootstrap: each path starts a block at a uniform position, then at each bar starts a new block with
    // probability 1/b, else takes the next return (wrapping around the end).
    stepBar = (k, out) => {
      for (let p = 0; p < paths; p++) {
        let i: number;
        if (k === 0 || rng.uniform() < pNew) i = Math.floor(rng.uniform() * n);
        else {
          i = idx[p] + 1;
          if (i === n) i = 0;
        }
        idx[p] = i;
        out[p] = mu + d[i];
      }
    };
  }

  const finalEq = new Float64Array(paths).fill(1);
  const maxDd = new Float64Array(paths);
  const peak = new Float64Array(paths).fill(1);
  const s1 = new Float64Array(paths);
  const sq = new Float64Array(paths);
  const bar = new Float64Array(paths);
  const fan = wantFan ? new Float64Array(paths * horizon) : null;
  for (let k = 0; k < horizon; k++) {
    stepBar(k, bar);
    const off = k * paths;
    for (let p = 0; p < paths; p++) {
      const simple = Math.expm1(bar[p]);
      const eq = finalEq[p] * (1 + simple);
      finalEq[p] = eq;
      s1[p] += simple;
      sq[p] += simple * simple;
      if (eq > peak[p]) peak[p] = eq;
      else {
        const ddk = 1 - eq / peak[p];
        if (ddk > maxDd[p]) maxDd[p] = ddk;
      }
      if (fan) fan[off + p] = eq;
    }
    if (options.onProgress) options.onProgress(k + 1, horizon);
  }
  const sharpe = new Float64Array(paths);
  let sharpeCount = 0;
  const sqrtP = Math.sqrt(P);
  for (let p = 0; p < paths; p++) {
    const m = s1[p] / horizon;
    const v = (sq[p] - horizon * m * m) / (horizon - 1);
    if (v > 0) sharpe[sharpeCount++] = (m / Math.sqrt(v)) * sqrtP;
  }

  let losses = 0;
  for (let p = 0; p < paths; p++) if (finalEq[p] < 1) losses++;
  const ddWorse = thresholds.map((threshold) => {
    let c = 0;
    for (let p = 0; p < paths; p++) if (maxDd[p] > threshold) c++;
    return { threshold, probability: c / paths };
  });
  const scratch = new Float64Array(paths);
  const toBand = (v: Float64Array) => percentileBand(v, scratch);
  const fanBands: KpiBands['fan'] = [];
  if (fan) {
    for (let k = 0; k < horizon; k++)
      fanBands.push({ bar: k + 1, ...toBand(fan.subarray(k * paths, (k + 1) * paths)) });
  }
  const warnings: string[] = [];
  if (horizon < P)
    warnings.push(
      `horizon ${horizon} bars is shorter than a year (${P} bars): the Sharpe estimate's standard error is about √(${P}/${horizon}) ≈ ${Math.sqrt(P / horizon).toFixed(1)} in annual units, so the Sharpe band says little`,
    );
  if (sharpeCount < paths) warnings.push(`${paths - sharpeCount} paths had zero variance and no Sharpe ratio`);
  return {
    kind: 'bands',
    method,
    horizon,
    paths,
    seed,
    equity: toBand(finalEq),
    maxDrawdown: toBand(maxDd),
    sharpe: toBand(sharpe.subarray(0, sharpeCount)),
    sharpeDefinition: `per path: mean / sample standard deviation (n − 1) of the ${horizon} simulated simple returns × √${P}; risk-free rate 0`,
    probLoss: losses / paths,
    probDrawdownWorseThan: ddWorse,
    fan: fanBands,
    mean: { treatment: options.mean ?? 'shrunk', ...mean },
    details,
    warnings,
    ...(options.keepSamples ? { samples: { finalEquity: finalEq, maxDrawdown: maxDd } } : {}),
  };
}

/**
 * Synthetic log returns from a GARCH(1,1) with standardised Student-t(ν) errors and constant mean μ, started at the
 * unconditional variance ω / (1 − α − β); for evaluations and benchmarks. Deterministic in (params, n, seed).
 */
export function generateGarchTReturns(
  n: number,
  p: { mu: number; omega: number; alpha: number; beta: number; nu: number },
  seed: number,
): Float64Array {
  const rng = new Xoshiro128ss(seed, 3);
  const tdraw = makeStudentT(rng, p.nu);
  const scale = Math.sqrt((p.nu - 2) / p.nu);
  const out = new Float64Array(n);
  let s2 = p.omega / (1 - p.alpha - p.beta);
  for (let i = 0; i < n; i++) {
    const e = Math.sqrt(s2) * scale * tdraw();
    out[i] = p.mu + e;
    s2 = p.omega + p.alpha * e * e + p.beta * s2;
  }
  return out;
}
