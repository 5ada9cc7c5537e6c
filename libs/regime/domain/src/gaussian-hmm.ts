/**
 * Gaussian hidden Markov model with full covariances: emission densities, the scaled forward filter, the scaled
 * forward-backward pass and Baum-Welch (EM) fitting, over flat typed arrays.
 *
 * Layout: observations are row-major `n × d` (`obs[t * d + j]`); probabilities are row-major `n × k`; the transition
 * matrix is row-major `k × k` with row `i` the distribution of the next state given state `i`; covariances are `k`
 * consecutive row-major `d × d` blocks.
 *
 * Scaling (Rabiner 1989, §V.A): at each bar the emission densities are divided by their largest value before use and
 * the forward variables are normalised to sum to one, so nothing under- or overflows on long series; the
 * log-likelihood is the sum of the logs of the scale factors. The normalised forward variable at bar t is the
 * FILTERED probability P(state_t | x_1..x_t): it uses no later bar.
 */

/** Parameters of a Gaussian HMM with `k` states over `d`-dimensional observations (layout in the module comment). */
export interface GaussianHmmParams {
  /** Number of hidden states. */
  k: number;
  /** Observation dimension. */
  d: number;
  /** Initial state distribution (length k, sums to 1). */
  startProb: Float64Array;
  /** Row-stochastic transition matrix, row-major k × k: `transition[i * k + j]` = P(next = j | current = i). */
  transition: Float64Array;
  /** State means, row-major k × d. */
  means: Float64Array;
  /** State covariances, k blocks of row-major d × d (symmetric positive definite). */
  covariances: Float64Array;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** A deep copy of `p`. */
export function cloneHmmParams(p: GaussianHmmParams): GaussianHmmParams {
  return {
    k: p.k,
    d: p.d,
    startProb: Float64Array.from(p.startProb),
    transition: Float64Array.from(p.transition),
    means: Float64Array.from(p.means),
    covariances: Float64Array.from(p.covariances),
  };
}

/**
 * Cholesky factor L (lower, row-major) of the `d × d` block of `a` at `offset`, written into `out` at `offset`.
 * Returns false when the block is not positive definite.
 */
function cholesky(a: Float64Array, offset: number, d: number, out: Float64Array): boolean {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[offset + i * d + j];
      for (let m = 0; m < j; m++) s -= out[offset + i * d + m] * out[offset + j * d + m];
      if (i === j) {
        if (!(s > 0)) return false;
        out[offset + i * d + i] = Math.sqrt(s);
      } else {
        out[offset + i * d + j] = s / out[offset + j * d + j];
      }
    }
    for (let j = i + 1; j < d; j++) out[offset + i * d + j] = 0;
  }
  return true;
}

/**
 * Precomputed emission terms of a parameter set: each state's Cholesky factor and log-normaliser, so one density costs
 * O(d²). Build once per parameter set with {@link compileEmissions}.
 */
export interface CompiledEmissions {
  k: number;
  d: number;
  means: Float64Array;
  /** k blocks of lower-triangular d × d Cholesky factors. */
  chol: Float64Array;
  /** −½ (d log 2π + log det Σ_i) per state. */
  logNorm: Float64Array;
}

/** Factorises each state's covariance. Throws RangeError naming the state when a covariance is not positive definite. */
export function compileEmissions(p: GaussianHmmParams): CompiledEmissions {
  const { k, d } = p;
  const chol = new Float64Array(k * d * d);
  const logNorm = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    if (!cholesky(p.covariances, i * d * d, d, chol)) {
      throw new RangeError(`covariance of state ${i} is not positive definite`);
    }
    let logDet = 0;
    for (let j = 0; j < d; j++) logDet += 2 * Math.log(chol[i * d * d + j * d + j]);
    logNorm[i] = -0.5 * (d * LOG_2PI + logDet);
  }
  return { k, d, means: p.means, chol, logNorm };
}

/**
 * Log density of observation `obs[row*d .. row*d+d)` under each state, written to `out[outOffset .. +k)`.
 * `z` is scratch of length ≥ d.
 */
export function emissionLogDensities(
  e: CompiledEmissions,
  obs: ArrayLike<number>,
  row: number,
  out: Float64Array,
  outOffset: number,
  z: Float64Array,
): void {
  const { k, d, means, chol, logNorm } = e;
  for (let i = 0; i < k; i++) {
    const c = i * d * d;
    let q = 0;
    // Forward substitution L z = x − μ_i; the Mahalanobis distance is |z|².
    for (let a = 0; a < d; a++) {
      let s = obs[row * d + a] - means[i * d + a];
      for (let b = 0; b < a; b++) s -= chol[c + a * d + b] * z[b];
      const v = s / chol[c + a * d + a];
      z[a] = v;
      q += v * v;
    }
    out[outOffset + i] = logNorm[i] - 0.5 * q;
  }
}

/** Log emission densities of every bar: row-major n × k. */
export function emissionLogLikelihoods(p: GaussianHmmParams, obs: Float64Array, n: number): Float64Array {
  const e = compileEmissions(p);
  const out = new Float64Array(n * p.k);
  const z = new Float64Array(p.d);
  for (let t = 0; t < n; t++) emissionLogDensities(e, obs, t, out, t * p.k, z);
  return out;
}

/** Result of the forward filter over a whole sequence. */
export interface ForwardResult {
  /** Filtered probabilities P(state_t | x_1..x_t), row-major n × k. Row t uses bars 0..t only. */
  filtered: Float64Array;
  /** Log-likelihood log p(x_1..x_n). */
  logLik: number;
  /** One-step predictive log density log p(x_t | x_1..x_{t−1}) of each bar (the first bar: under the start distribution). */
  predictiveLogLik: Float64Array;
}

/**
 * Scaled forward pass from given log emission densities (n × k). Filtered probabilities, the log-likelihood and each
 * bar's one-step predictive log density. O(n k²).
 */
export function forwardFromLogEmissions(
  p: Pick<GaussianHmmParams, 'k' | 'startProb' | 'transition'>,
  logB: Float64Array,
  n: number,
): ForwardResult {
  const filtered = new Float64Array(n * p.k);
  const predictiveLogLik = new Float64Array(n);
  let logLik = 0;
  for (let t = 0; t < n; t++) {
    const lp = forwardStep(p, t === 0 ? null : filtered, (t - 1) * p.k, logB, t * p.k, filtered, t * p.k, null);
    predictiveLogLik[t] = lp;
    logLik += lp;
  }
  return { filtered, logLik, predictiveLogLik };
}

/**
 * One scaled forward step: `out[outOff..+k)` ← normalised (prev · A) ∘ exp(logB_t − max_j logB_t) where `prev` is the
 * previous bar's filtered row (at `prevOff`) or, when null, the start distribution. Writes the scaled emissions to
 * `bOut` (same offset as `out`) when given. Returns log p(x_t | x_1..x_{t−1}), the one-step predictive log density.
 * O(k²). Throws RangeError when the bar has zero probability under every state.
 */
export function forwardStep(
  p: Pick<GaussianHmmParams, 'k' | 'startProb' | 'transition'>,
  prev: Float64Array | null,
  prevOff: number,
  logB: Float64Array,
  row: number,
  out: Float64Array,
  outOff: number,
  bOut: Float64Array | null,
): number {
  const { k, startProb, transition } = p;
  let m = -Infinity;
  for (let j = 0; j < k; j++) if (logB[row + j] > m) m = logB[row + j];
  let c = 0;
  for (let j = 0; j < k; j++) {
    const bj = Math.exp(logB[row + j] - m);
    if (bOut) bOut[outOff + j] = bj;
    let prior: number;
    if (prev === null) prior = startProb[j];
    else {
      prior = 0;
      for (let i = 0; i < k; i++) prior += prev[prevOff + i] * transition[i * k + j];
    }
    const a = prior * bj;
    out[outOff + j] = a;
    c += a;
  }
  if (!(c > 0)) throw new RangeError('a bar has zero probability under every state');
  for (let j = 0; j < k; j++) out[outOff + j] /= c;
  return Math.log(c) + m;
}

/** Scaled forward pass over observations (n × d): filtered probabilities and the log-likelihood. */
export function forwardFilter(p: GaussianHmmParams, obs: Float64Array, n: number): ForwardResult {
  return forwardFromLogEmissions(p, emissionLogLikelihoods(p, obs, n), n);
}

/** Options of {@link fitGaussianHmm}. */
export interface BaumWelchOptions {
  /** Maximum EM iterations (E-step + M-step pairs). Default 200. */
  maxIter?: number;
  /** Stop when the log-likelihood improves by less than this (nats, whole sample). Default 1e-6. */
  tol?: number;
  /**
   * Variance floor as a fraction of each observation dimension's sample variance: after each M-step a state's variance
   * on dimension j is raised to at least `varianceFloor × var_j`, and that dimension's covariances with the others are
   * set to 0 (so the matrix stays positive definite); the starting covariances are floored the same way. Default 1e-3;
   * 0 disables it.
   */
  varianceFloor?: number;
}

/** Result of one Baum-Welch run. */
export interface BaumWelchResult {
  params: GaussianHmmParams;
  /** Log-likelihood of `params` on the fitted sample. */
  logLik: number;
  /** EM iterations performed (M-steps applied). */
  iterations: number;
  /** True when the tolerance stopped the run before `maxIter`. */
  converged: boolean;
}

/** Per-dimension sample variance of obs (n × d). */
export function sampleVariances(obs: Float64Array, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  const v = new Float64Array(d);
  for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) mean[j] += obs[t * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let t = 0; t < n; t++)
    for (let j = 0; j < d; j++) {
      const x = obs[t * d + j] - mean[j];
      v[j] += x * x;
    }
  for (let j = 0; j < d; j++) v[j] /= n;
  return v;
}

/**
 * Baum-Welch from the initial parameters `init` (not modified): scaled forward-backward E-step, maximum-likelihood
 * M-step (start distribution = first-bar posterior, transitions = expected transition counts, weighted means and full
 * covariances), with the variance floor of {@link BaumWelchOptions}. Each iteration computes the log-likelihood of the
 * current parameters; the run stops when it improves by less than `tol` (keeping those parameters) or after `maxIter`
 * M-steps (the returned log-likelihood is then that of the final parameters). The same iteration scheme as hmmlearn's
 * `GaussianHMM.fit`, so the two agree from the same start. O(iterations · n · k · (k + d²)).
 */
export function fitGaussianHmm(
  obs: Float64Array,
  n: number,
  init: GaussianHmmParams,
  opts: BaumWelchOptions = {},
): BaumWelchResult {
  const maxIter = opts.maxIter ?? 200;
  const tol = opts.tol ?? 1e-6;
  const floorFrac = opts.varianceFloor ?? 1e-3;
  const { k, d } = init;
  const params = cloneHmmParams(init);
  const floor = sampleVariances(obs, n, d);
  for (let j = 0; j < d; j++) floor[j] *= floorFrac;
  // The floor applies to the starting covariances too (a start from a group of constant bars is singular).
  for (let i = 0; i < k; i++) applyVarianceFloor(params.covariances, i * d * d, d, floor);

  const logB = new Float64Array(n * k);
  const b = new Float64Array(n * k); // scaled emissions exp(logB − max_t)
  const alpha = new Float64Array(n * k);
  const beta = new Float64Array(n * k);
  const scale = new Float64Array(n); // c_t
  const z = new Float64Array(d);
  const xi = new Float64Array(k * k);
  const gammaSum = new Float64Array(k);
  const obsSum = new Float64Array(k * d);
  const outer = new Float64Array(k * d * d);
  const tmp = new Float64Array(k);

  let prevLogLik = -Infinity;
  let logLik = -Infinity;
  let iterations = 0;
  let converged = false;
  for (let it = 0; ; it++) {
    // E-step: scaled forward, then scaled backward.
    logLik = scaledForward(params, obs, n, logB, b, alpha, scale, z);
    if (it > 0 && logLik - prevLogLik < tol) {
      converged = true;
      break;
    }
    if (it === maxIter) break;
    prevLogLik = logLik;
    scaledBackward(params.transition, k, n, b, scale, beta, tmp);
    accumulateCounts(params, obs, n, b, alpha, beta, scale, xi, gammaSum, obsSum, outer, tmp);

    // M-step.
    for (let i = 0; i < k; i++) params.startProb[i] = alpha[i] * beta[i];
    normalise(params.startProb, 0, k);
    for (let i = 0; i < k; i++) normalise(xi, i * k, k);
    params.transition.set(xi);
    for (let i = 0; i < k; i++) {
      const w = gammaSum[i];
      for (let a = 0; a < d; a++) params.means[i * d + a] = obsSum[i * d + a] / w;
      const off = i * d * d;
      for (let a = 0; a < d; a++)
        for (let c2 = 0; c2 <= a; c2++) {
          const v = outer[off + a * d + c2] / w - params.means[i * d + a] * params.means[i * d + c2];
          params.covariances[off + a * d + c2] = v;
          params.covariances[off + c2 * d + a] = v;
        }
      applyVarianceFloor(params.covariances, off, d, floor);
    }
    iterations++;
  }
  return { params, logLik, iterations, converged };
}

/**
 * Expected counts of the E-step from the scaled forward and backward variables: transition counts ξ (k × k), state
 * occupancies γ, γ-weighted observation sums and the lower triangles of the γ-weighted outer products.
 */
function accumulateCounts(
  params: GaussianHmmParams,
  obs: Float64Array,
  n: number,
  b: Float64Array,
  alpha: Float64Array,
  beta: Float64Array,
  scale: Float64Array,
  xi: Float64Array,
  gammaSum: Float64Array,
  obsSum: Float64Array,
  outer: Float64Array,
  tmp: Float64Array,
): void {
  const { k, d } = params;
  xi.fill(0);
  gammaSum.fill(0);
  obsSum.fill(0);
  outer.fill(0);
  for (let t = 0; t < n; t++) {
    const row = t * k;
    for (let i = 0; i < k; i++) {
      const g = alpha[row + i] * beta[row + i];
      gammaSum[i] += g;
      for (let a = 0; a < d; a++) {
        const xa = obs[t * d + a];
        obsSum[i * d + a] += g * xa;
        for (let c2 = 0; c2 <= a; c2++) outer[i * d * d + a * d + c2] += g * xa * obs[t * d + c2];
      }
    }
    if (t < n - 1) {
      const next = row + k;
      const cn = scale[t + 1];
      for (let j = 0; j < k; j++) tmp[j] = (b[next + j] * beta[next + j]) / cn;
      for (let i = 0; i < k; i++) {
        const ai = alpha[row + i];
        for (let j = 0; j < k; j++) xi[i * k + j] += ai * params.transition[i * k + j] * tmp[j];
      }
    }
  }
}

/**
 * Scaled forward pass into caller-owned buffers (n × k each): log emissions `logB`, scaled emissions `b`
 * (exp(logB − max_t)), normalised forward variables `alpha` (the filtered probabilities) and scale factors `scale`.
 * Returns the log-likelihood.
 */
function scaledForward(
  params: GaussianHmmParams,
  obs: Float64Array,
  n: number,
  logB: Float64Array,
  b: Float64Array,
  alpha: Float64Array,
  scale: Float64Array,
  z: Float64Array,
): number {
  const k = params.k;
  const e = compileEmissions(params);
  let logLik = 0;
  for (let t = 0; t < n; t++) {
    const row = t * k;
    emissionLogDensities(e, obs, t, logB, row, z);
    const lp = forwardStep(params, t === 0 ? null : alpha, row - k, logB, row, alpha, row, b);
    // c_t = exp(lp − max_j logB_t): the normaliser of the scaled step, which the backward pass divides by.
    let m = -Infinity;
    for (let j = 0; j < k; j++) if (logB[row + j] > m) m = logB[row + j];
    scale[t] = Math.exp(lp - m);
    logLik += lp;
  }
  return logLik;
}

/** Scaled backward pass (Rabiner's β̂_t = β_t / Π_{s>t} c_s) into `beta` (n × k); `tmp` is scratch of length k. */
function scaledBackward(
  transition: Float64Array,
  k: number,
  n: number,
  b: Float64Array,
  scale: Float64Array,
  beta: Float64Array,
  tmp: Float64Array,
): void {
  for (let j = 0; j < k; j++) beta[(n - 1) * k + j] = 1;
  for (let t = n - 2; t >= 0; t--) {
    const row = t * k;
    const next = row + k;
    const cn = scale[t + 1];
    for (let j = 0; j < k; j++) tmp[j] = (b[next + j] * beta[next + j]) / cn;
    for (let i = 0; i < k; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += transition[i * k + j] * tmp[j];
      beta[row + i] = s;
    }
  }
}

/** Result of {@link forwardBackward}: the SMOOTHED view, which uses later bars (analysis only, never history). */
export interface SmoothedResult {
  /** P(state_t | x_1..x_n), row-major n × k: depends on bars after t. */
  smoothed: Float64Array;
  /** Most likely state path (Viterbi), which also depends on bars after t. */
  viterbi: Uint8Array;
  logLik: number;
}

/**
 * Smoothed state probabilities (scaled forward-backward) and the Viterbi path (log space). Both use bars after t:
 * an analysis view, never a served or cached label.
 */
export function forwardBackward(params: GaussianHmmParams, obs: Float64Array, n: number): SmoothedResult {
  const { k, d } = params;
  const logB = new Float64Array(n * k);
  const b = new Float64Array(n * k);
  const alpha = new Float64Array(n * k);
  const beta = new Float64Array(n * k);
  const scale = new Float64Array(n);
  const logLik = scaledForward(params, obs, n, logB, b, alpha, scale, new Float64Array(d));
  scaledBackward(params.transition, k, n, b, scale, beta, new Float64Array(k));
  const smoothed = new Float64Array(n * k);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let i = 0; i < k; i++) s += smoothed[t * k + i] = alpha[t * k + i] * beta[t * k + i];
    for (let i = 0; i < k; i++) smoothed[t * k + i] /= s;
  }
  // Viterbi in log space with back-pointers.
  const logA = params.transition.map(Math.log);
  let delta = new Float64Array(k);
  let next = new Float64Array(k);
  const back = new Uint8Array(n * k);
  for (let j = 0; j < k; j++) delta[j] = Math.log(params.startProb[j]) + logB[j];
  for (let t = 1; t < n; t++) {
    for (let j = 0; j < k; j++) {
      let best = -Infinity;
      let arg = 0;
      for (let i = 0; i < k; i++) {
        const v = delta[i] + logA[i * k + j];
        if (v > best) {
          best = v;
          arg = i;
        }
      }
      next[j] = best + logB[t * k + j];
      back[t * k + j] = arg;
    }
    [delta, next] = [next, delta];
  }
  const viterbi = new Uint8Array(n);
  let last = 0;
  for (let j = 1; j < k; j++) if (delta[j] > delta[last]) last = j;
  viterbi[n - 1] = last;
  for (let t = n - 1; t > 0; t--) viterbi[t - 1] = back[t * k + viterbi[t]];
  return { smoothed, viterbi, logLik };
}

function normalise(a: Float64Array, off: number, len: number): void {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[off + i];
  if (s > 0) for (let i = 0; i < len; i++) a[off + i] /= s;
  else for (let i = 0; i < len; i++) a[off + i] = 1 / len;
}

/**
 * Raises each variance below its floor to the floor and zeroes that dimension's covariances: a dimension on which the
 * state has (nearly) collapsed carries no reliable correlation, and a diagonal row keeps the matrix positive definite.
 */
function applyVarianceFloor(cov: Float64Array, off: number, d: number, floor: Float64Array): void {
  for (let a = 0; a < d; a++) {
    if (cov[off + a * d + a] >= floor[a] || floor[a] <= 0) continue;
    for (let c = 0; c < d; c++) {
      cov[off + a * d + c] = 0;
      cov[off + c * d + a] = 0;
    }
    cov[off + a * d + a] = floor[a];
  }
}

/** Number of free parameters of a full-covariance Gaussian HMM (start, transitions, means, covariances). */
export function hmmParameterCount(k: number, d: number): number {
  return k - 1 + k * (k - 1) + k * d + (k * d * (d + 1)) / 2;
}

/** Bayesian information criterion −2 log L + p log n (lower is better). */
export function hmmBic(logLik: number, k: number, d: number, n: number): number {
  return -2 * logLik + hmmParameterCount(k, d) * Math.log(n);
}

/**
 * Stationary distribution π of the row-stochastic k × k matrix (π P = π, Σπ = 1), by power iteration from uniform
 * (converges for the irreducible aperiodic chains a fitted regime model has); at most 10,000 sweeps.
 */
export function stationaryDistribution(transition: Float64Array, k: number): Float64Array {
  let pi = new Float64Array(k).fill(1 / k);
  let next = new Float64Array(k);
  for (let sweep = 0; sweep < 10_000; sweep++) {
    next.fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) next[j] += pi[i] * transition[i * k + j];
    normalise(next, 0, k);
    let diff = 0;
    for (let j = 0; j < k; j++) diff = Math.max(diff, Math.abs(next[j] - pi[j]));
    [pi, next] = [next, pi];
    if (diff < 1e-15) break;
  }
  return pi;
}
