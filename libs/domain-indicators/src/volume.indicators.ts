import { checkFrom, checkPeriod, checkSameLength, fillWarmUp, outputArray } from './kernel-support';

/**
 * `obv`: On-Balance Volume, TA-Lib `TA_OBV` (ta_OBV.c; Granville, 1963), in volume units:
 * - seeded with the FIRST bar's volume: `OBV[0] = volume[0]` (TA-Lib's seed, not 0);
 * - `OBV[t] = OBV[t-1] + volume[t]` if `close[t] > close[t-1]`, `- volume[t]` if lower, unchanged if equal.
 *
 * Lookback 0. Cumulative: depends on the whole history (and on where the history starts).
 */
export function obv(close: Float64Array, volume: Float64Array, out?: Float64Array, from = 0): Float64Array {
  const n = checkSameLength({ close, volume });
  checkFrom(from, n);
  const o = outputArray(n, out);
  if (n === 0) return o;
  let acc = volume[0];
  if (from === 0) o[0] = acc;
  for (let t = 1; t < n; t++) {
    const c = close[t];
    const p = close[t - 1];
    if (c > p) acc += volume[t];
    else if (c < p) acc -= volume[t];
    if (t >= from) o[t] = acc;
  }
  return o;
}

/**
 * `volume_z_<n>`: volume z-score, `(volume[t] - mean) / sd` where `mean` and `sd` are the mean and SAMPLE
 * (n - 1) standard deviation of the last n volumes, current bar included. Dimensionless.
 * Moments are taken over each window afresh on volumes shifted by the window's first volume,
 * `variance = (sum(d^2) - sum(d)^2 / n) / (n - 1)` with `d = v - v[t-n+1]`: the shift bounds the
 * cancellation and makes a window of identical volumes have sd exactly 0; the z-score is then undefined
 * and is NaN.
 * Lookback `n - 1`.
 */
export function volumeZScore(volume: Float64Array, period = 20, out?: Float64Array, from = 0): Float64Array {
  const n = volume.length;
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period - 1);
  for (let t = start; t < n; t++) {
    const first = t - period + 1;
    const v0 = volume[first];
    let s0 = 0;
    let s1 = 0;
    let q0 = 0;
    let q1 = 0;
    let j = first + 1;
    for (; j < t; j += 2) {
      const d0 = volume[j] - v0;
      const d1 = volume[j + 1] - v0;
      s0 += d0;
      q0 += d0 * d0;
      s1 += d1;
      q1 += d1 * d1;
    }
    if (j === t) {
      const d0 = volume[t] - v0;
      s0 += d0;
      q0 += d0 * d0;
    }
    const sd = s0 + s1;
    const m = sd / period;
    const ss = q0 + q1 - sd * m;
    o[t] = ss > 0 ? (volume[t] - v0 - m) / Math.sqrt(ss / (period - 1)) : NaN;
  }
  return o;
}

