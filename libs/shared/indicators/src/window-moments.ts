import { ANCHOR_BLOCK, anchorIndex } from './kernel-support';

const EPS = 2.220446049250313e-16;
/**
 * Largest relative error of the sum of squared deviations we accept from the running update before
 * re-summing the window exactly. 1e-11 keeps every derived feature far inside the 1e-9 contract.
 */
const M2_TOLERANCE = 1e-11;
/** Error of an exact re-summing plus `steps` running updates: at most ~12 * (steps + period) * eps * peak. */
const GUARD = (12 * EPS) / M2_TOLERANCE;

/**
 * Rolling sum of squared deviations (M2 = sum((x - mean)^2)) of the last `period` values and the deviation
 * of the newest value from the window mean (`x[t] - mean`, taken as `(x[t] - K) - sum(d) / n` so it keeps
 * its precision when it is small next to the values), for
 * the windows ending at t in `[start, n)`; `start >= lookback >= period - 1`, windows before `lookback` are
 * not valid (e.g. a return series whose index 0 is undefined).
 *
 * O(1) per value with a guaranteed accuracy: sums are kept on values shifted by `K`, a member of the window
 * at the last exact re-summing, and updated by adding the new value and removing the old one. The rounding
 * error of the re-summing and those updates is at most ~12 * (steps + period) * eps * peak, where `peak` is
 * the largest shifted sum of squares since the last re-summing (each update rounds terms no larger than
 * peak; the mean's share follows from sum(d)^2 / n <= sum(d^2)), so whenever M2 falls below
 * `GUARD * (steps + period) * peak` (the error could exceed
 * 1e-11 of M2: a flat window, a quiet window after a jump, or a spike leaving the window) the window is
 * re-summed exactly with a new shift. Windows are also re-summed at every multiple of ANCHOR_BLOCK and at
 * the first index computed, so a value depends only on the data and its index, never on where a
 * computation started (callers must start at `anchorIndex(start, lookback)`, which this function does).
 * A window of identical values gets M2 exactly 0 (re-summing with a member shift gives exact zeros).
 *
 * `devOut` may be omitted when only M2 is needed. Indices below `start` are not written.
 */
export function rollingMoments(
  x: Float64Array,
  period: number,
  lookback: number,
  start: number,
  m2Out: Float64Array,
  devOut?: Float64Array,
): void {
  const n = x.length;
  if (start >= n) return;
  const mask = ANCHOR_BLOCK - 1;
  const t0 = anchorIndex(start, lookback);
  let k = 0;
  let s1 = 0;
  let s2 = 0;
  let peak = 0;
  let steps = 0;
  for (let t = t0; t < n; t++) {
    let m2 = 0;
    let exact = t === t0 || (t & mask) === 0;
    if (!exact) {
      const dn = x[t] - k;
      const dd = x[t - period] - k;
      s1 += dn - dd;
      s2 += dn * dn - dd * dd;
      steps++;
      if (s2 > peak) peak = s2;
      m2 = s2 - s1 * (s1 / period);
      // NaN-safe: a NaN m2 also fails the test and is re-summed.
      if (!(m2 > GUARD * (steps + period) * peak)) exact = true;
    }
    if (exact) {
      const first = t - period + 1;
      k = x[first];
      s1 = 0;
      s2 = 0;
      for (let j = first + 1; j <= t; j++) {
        const d = x[j] - k;
        s1 += d;
        s2 += d * d;
      }
      peak = s2;
      steps = 0;
      m2 = s2 - s1 * (s1 / period);
      if (m2 < 0) m2 = 0;
    }
    if (t >= start) {
      m2Out[t] = m2;
      if (devOut !== undefined) devOut[t] = x[t] - k - s1 / period;
    }
  }
}
