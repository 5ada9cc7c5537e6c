/*
 * Rolling-window kernels the indicator library does not have. Same contract as `@strata/shared-indicators`: output of
 * the input length, NaN during warm-up, value at t reads inputs ≤ t only (point-in-time).
 */

/**
 * Rolling population standard deviation over `period` values: sqrt(Σ(x − mean)² / period), each window summed afresh
 * relative to its first value (exact, independent of where the computation starts; O(n × period)).
 * Lookback `period − 1`. A NaN inside a window makes that window NaN.
 */
export function rollingStd(x: Float64Array, period: number, out = new Float64Array(x.length)): Float64Array {
  const n = x.length;
  out.fill(NaN, 0, Math.min(n, period - 1));
  for (let t = period - 1; t < n; t++) out[t] = stdWindow(x, t - period + 1, t + 1);
  return out;
}

function stdWindow(x: Float64Array, a: number, b: number): number {
  const k = x[a];
  let s = 0;
  let q = 0;
  for (let i = a; i < b; i++) {
    const d = x[i] - k;
    s += d;
    q += d * d;
  }
  const m = b - a;
  const v = (q - (s * s) / m) / m;
  return v > 0 ? Math.sqrt(v) : v === v ? 0 : NaN;
}

/** Rolling z-score: (x − SMA(period)) / population std(period); NaN when the std is 0. Lookback `period − 1`. */
export function rollingZScore(x: Float64Array, period: number, out = new Float64Array(x.length)): Float64Array {
  const n = x.length;
  out.fill(NaN, 0, Math.min(n, period - 1));
  for (let t = period - 1; t < n; t++) {
    const a = t - period + 1;
    const k = x[a];
    let s = 0;
    let q = 0;
    for (let i = a; i <= t; i++) {
      const d = x[i] - k;
      s += d;
      q += d * d;
    }
    const mean = s / period;
    const v = q / period - mean * mean;
    out[t] = v > 0 ? (x[t] - k - mean) / Math.sqrt(v) : NaN;
  }
  return out;
}

/**
 * Rolling maximum (`sign` = 1) or minimum (`sign` = −1) over `period` values including t, with a monotonic deque:
 * O(n). Lookback `period − 1`. NaN values are skipped (a window of only NaN gives NaN).
 */
export function rollingExtreme(
  x: Float64Array,
  period: number,
  sign: 1 | -1,
  out = new Float64Array(x.length),
): Float64Array {
  const n = x.length;
  const dq = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let t = 0; t < n; t++) {
    const v = x[t];
    if (v === v) {
      if (sign === 1) while (tail > head && x[dq[tail - 1]] <= v) tail--;
      else while (tail > head && x[dq[tail - 1]] >= v) tail--;
      dq[tail++] = t;
    }
    while (tail > head && dq[head] <= t - period) head++;
    out[t] = t < period - 1 || tail === head ? NaN : x[dq[head]];
  }
  return out;
}

/** `x[t − k]` (k ≥ 0), NaN for t < k. */
export function shiftBack(x: Float64Array, k: number, out = new Float64Array(x.length)): Float64Array {
  if (k < 0) throw new RangeError(`shiftBack reads past values only, got k = ${k}`);
  const n = x.length;
  out.fill(NaN, 0, Math.min(k, n));
  for (let t = k; t < n; t++) out[t] = x[t - k];
  return out;
}

/** Applies a kernel after the leading NaNs of `x` (warm-up of a derived source), writing NaN before them. */
export function afterLeadingNaN(x: Float64Array, kernel: (tail: Float64Array) => Float64Array): Float64Array {
  let f = 0;
  while (f < x.length && x[f] !== x[f]) f++;
  if (f === 0) return kernel(x);
  const out = new Float64Array(x.length).fill(NaN);
  if (f < x.length) out.set(kernel(x.subarray(f)), f);
  return out;
}
