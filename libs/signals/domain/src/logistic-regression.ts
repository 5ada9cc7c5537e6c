/**
 * L2-regularised logistic regression, the linear baseline of the signal evaluation.
 *
 * Features are standardised with the training mean and (population) standard deviation; a missing value (NaN) is
 * imputed with the training mean (0 after standardising); a constant feature gets coefficient 0. The objective is
 *   Σ_i [ln(1 + e^{η_i}) − y_i η_i] + (λ/2)·‖β‖²,  η = b + z·β  (intercept b not penalised),
 * minimised by Newton's method (IRLS) with step halving, solving the (d+1)² normal equations by Cholesky.
 */

/** A fitted model. Coefficients apply to standardised features. */
export interface LogisticModel {
  featureNames: string[];
  /** Training mean per feature (also the imputation value). */
  mean: Float64Array;
  /** Training standard deviation per feature (0 for a constant feature). */
  scale: Float64Array;
  /** Coefficient per standardised feature. */
  coef: Float64Array;
  intercept: number;
  /** Newton iterations used. */
  iterations: number;
}

/** Options of {@link fitLogisticRegression}. */
export interface LogisticOptions {
  /** L2 penalty λ ≥ 0 on the standardised coefficients (default 1). */
  l2?: number;
  /** Maximum Newton iterations (default 100). */
  maxIterations?: number;
  /** Stop when the largest coefficient change is below this (default 1e-10). */
  tolerance?: number;
}

/**
 * Fits the model on `nRows` rows of the row-major matrix `X` (NaN = missing) with labels `y` ∈ {0, 1}.
 * @throws RangeError on shape mismatch, labels other than 0/1, or λ < 0.
 */
export function fitLogisticRegression(
  X: Float64Array,
  nRows: number,
  featureNames: string[],
  y: ArrayLike<number>,
  opts: LogisticOptions = {},
): LogisticModel {
  const d = featureNames.length;
  const l2 = opts.l2 ?? 1;
  const maxIt = opts.maxIterations ?? 100;
  const tol = opts.tolerance ?? 1e-10;
  if (X.length !== nRows * d || y.length !== nRows)
    throw new RangeError(`shape mismatch: X ${X.length}, nRows ${nRows}, ${d} features, y ${y.length}`);
  if (!(l2 >= 0)) throw new RangeError(`l2 must be ≥ 0, got ${l2}`);
  for (let i = 0; i < nRows; i++)
    if (y[i] !== 0 && y[i] !== 1) throw new RangeError(`label at row ${i} is ${y[i]}, expected 0 or 1`);

  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    let c = 0;
    for (let i = 0, o = j; i < nRows; i++, o += d) {
      const v = X[o];
      if (v === v) {
        s += v;
        c++;
      }
    }
    const m = c > 0 ? s / c : 0;
    let ss = 0;
    for (let i = 0, o = j; i < nRows; i++, o += d) {
      const v = X[o];
      if (v === v) ss += (v - m) * (v - m);
    }
    mean[j] = m;
    scale[j] = c > 0 ? Math.sqrt(ss / c) : 0;
  }
  // Standardised design with a leading 1 for the intercept: p = d + 1 columns.
  const p = d + 1;
  const Z = new Float64Array(nRows * p);
  for (let i = 0; i < nRows; i++) {
    Z[i * p] = 1;
    for (let j = 0; j < d; j++) {
      const v = X[i * d + j];
      Z[i * p + 1 + j] = v === v && scale[j] > 0 ? (v - mean[j]) / scale[j] : 0;
    }
  }
  const active = new Uint8Array(p).fill(1);
  for (let j = 0; j < d; j++) if (!(scale[j] > 0)) active[1 + j] = 0;

  const beta = new Float64Array(p);
  const eta = new Float64Array(nRows);
  const objective = (b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < nRows; i++) {
      let e = 0;
      for (let k = 0; k < p; k++) e += Z[i * p + k] * b[k];
      eta[i] = e;
      s += (e > 0 ? e : 0) + Math.log1p(Math.exp(-Math.abs(e))) - y[i] * e;
    }
    for (let k = 1; k < p; k++) s += 0.5 * l2 * b[k] * b[k];
    return s;
  };
  let f = objective(beta);
  const grad = new Float64Array(p);
  const hess = new Float64Array(p * p);
  const step = new Float64Array(p);
  const trial = new Float64Array(p);
  let it = 0;
  for (; it < maxIt; it++) {
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < nRows; i++) {
      const pr = 1 / (1 + Math.exp(-eta[i]));
      const r = pr - y[i];
      const w = Math.max(pr * (1 - pr), 1e-12);
      const o = i * p;
      for (let a = 0; a < p; a++) {
        const za = Z[o + a];
        if (za === 0) continue;
        grad[a] += r * za;
        const wz = w * za;
        for (let b = 0; b <= a; b++) hess[a * p + b] += wz * Z[o + b];
      }
    }
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < a; b++) hess[b * p + a] = hess[a * p + b];
      if (a > 0) {
        grad[a] += l2 * beta[a];
        hess[a * p + a] += l2;
      }
      if (!active[a]) {
        // Pin inactive (constant) features at 0: identity row/column, zero gradient.
        for (let b = 0; b < p; b++) hess[a * p + b] = hess[b * p + a] = 0;
        hess[a * p + a] = 1;
        grad[a] = 0;
      }
    }
    for (let a = 0; a < p; a++) step[a] = -grad[a];
    choleskySolveInPlace(hess, p, step);
    // Step halving keeps each Newton step a descent step (needed when the data are nearly separable and λ is small).
    let t = 1;
    let fNew = Infinity;
    for (let h = 0; h < 30; h++, t /= 2) {
      for (let a = 0; a < p; a++) trial[a] = beta[a] + t * step[a];
      fNew = objective(trial);
      if (fNew <= f) break;
    }
    let maxChange = 0;
    for (let a = 0; a < p; a++) maxChange = Math.max(maxChange, Math.abs(trial[a] - beta[a]));
    beta.set(trial);
    f = objective(beta); // also refreshes eta
    if (maxChange < tol) {
      it++;
      break;
    }
  }
  return { featureNames: [...featureNames], mean, scale, coef: beta.slice(1), intercept: beta[0], iterations: it };
}

/** Solves A x = b for symmetric positive-definite `A` (p × p, overwritten by its Cholesky factor); `b` becomes x. */
function choleskySolveInPlace(A: Float64Array, p: number, b: Float64Array): void {
  for (let j = 0; j < p; j++) {
    let s = A[j * p + j];
    for (let k = 0; k < j; k++) s -= A[j * p + k] * A[j * p + k];
    if (!(s > 0)) throw new RangeError('logistic regression: Hessian is not positive definite');
    const l = Math.sqrt(s);
    A[j * p + j] = l;
    for (let i = j + 1; i < p; i++) {
      let t = A[i * p + j];
      for (let k = 0; k < j; k++) t -= A[i * p + k] * A[j * p + k];
      A[i * p + j] = t / l;
    }
  }
  for (let i = 0; i < p; i++) {
    let t = b[i];
    for (let k = 0; k < i; k++) t -= A[i * p + k] * b[k];
    b[i] = t / A[i * p + i];
  }
  for (let i = p - 1; i >= 0; i--) {
    let t = b[i];
    for (let k = i + 1; k < p; k++) t -= A[k * p + i] * b[k];
    b[i] = t / A[i * p + i];
  }
}

/** Probabilities of the positive class for `nRows` rows of `X` (same columns as training; NaN imputed with the mean). */
export function predictLogistic(model: LogisticModel, X: ArrayLike<number>, nRows: number): Float64Array {
  const d = model.featureNames.length;
  const out = new Float64Array(nRows);
  for (let i = 0; i < nRows; i++) {
    let e = model.intercept;
    for (let j = 0; j < d; j++) {
      const v = X[i * d + j];
      if (v === v && model.scale[j] > 0) e += (model.coef[j] * (v - model.mean[j])) / model.scale[j];
    }
    out[i] = 1 / (1 + Math.exp(-e));
  }
  return out;
}
