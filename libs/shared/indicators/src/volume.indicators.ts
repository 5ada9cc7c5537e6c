import { checkFrom, checkPeriod, checkSameLength, fillWarmUp, outputArray } from './kernel-support';
import { rollingMoments } from './window-moments';

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
 * Moments come from `rollingMoments` (running sums on volumes shifted by a window member, re-summed
 * exactly whenever their rounding could exceed 1e-11 of M2, e.g. when a volume burst leaves the window);
 * a window of identical volumes has sd exactly 0, and the z-score is then undefined and is NaN.
 * Lookback `n - 1`.
 */
export function volumeZScore(volume: Float64Array, period = 20, out?: Float64Array, from = 0): Float64Array {
  const n = volume.length;
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period - 1);
  if (start >= n) return o;
  const m2 = new Float64Array(n);
  rollingMoments(volume, period, period - 1, start, m2, o);
  for (let t = start; t < n; t++) {
    const v = m2[t];
    o[t] = v > 0 ? o[t] / Math.sqrt(v / (period - 1)) : NaN;
  }
  return o;
}

/**
 * `obv_rate_<n>`: On-Balance Volume as a normalised rate, the signed volume of the last n bars over their volume:
 * `Σ_{i=t-n+1..t} s_i·volume[i] / Σ_{i=t-n+1..t} volume[i]`, `s_i = +1 / −1 / 0` as `close[i]` is above / below /
 * equal to `close[i-1]`. Equals `(OBV[t] − OBV[t−n]) / SUM(volume, n)[t]` with TA-Lib `TA_OBV` and `TA_SUM`
 * (the OBV seed cancels in the difference). In [−1, 1]; NaN when the window's volume is 0 (undefined).
 *
 * Scale-free (a share split rescales every volume of a window by the same factor, which cancels) and windowed (reads
 * bars t−n..t only, not the whole history), so unlike {@link obv} its value at a bar is unchanged by a later split.
 * Each window is summed afresh in ascending order (n additions per bar), so a value depends only on its window.
 * Lookback n (the first sign needs a previous close).
 */
export function obvRate(
  close: Float64Array,
  volume: Float64Array,
  period = 20,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = checkSameLength({ close, volume });
  checkPeriod('period', period, 1);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period);
  for (let t = start; t < n; t++) {
    let signed = 0;
    let total = 0;
    for (let i = t - period + 1; i <= t; i++) {
      const v = volume[i];
      const c = close[i];
      const p = close[i - 1];
      if (c > p) signed += v;
      else if (c < p) signed -= v;
      total += v;
    }
    o[t] = total > 0 ? signed / total : NaN;
  }
  return o;
}
