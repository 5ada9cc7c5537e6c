import { checkFrom, checkPeriod, checkSameLength, fillWarmUp, outputArray } from './kernel-support';

/**
 * `adx_<n>`: Average Directional Movement Index, TA-Lib `TA_ADX` (ta_ADX.c; Wilder, 1978), unstable
 * period 0. In [0, 100]. Exactly TA-Lib's seeding:
 * - per bar i >= 1: `up = high[i] - high[i-1]`, `down = low[i-1] - low[i]`; `-DM = down` when
 *   `down > 0 && up < down`, else `+DM = up` when `up > 0 && up > down`, else neither (ties give neither);
 *   `TR` as {@link trueRange};
 * - bars 1 .. n-1 are SUMMED into `DM+`, `DM-`, `TR` (n - 1 values, TA-Lib's seed);
 * - from bar n on, Wilder-smoothed sums: `S = S - S / n + current`;
 * - `+DI = 100 * DM+ / TR`, `-DI = 100 * DM- / TR`, `DX = 100 * |(-DI) - (+DI)| / ((-DI) + (+DI))`;
 * - `ADX[2n-1]` = mean of the DX of bars n .. 2n-1; then `ADX = (ADX * (n - 1) + DX) / n`;
 * - a bar whose smoothed TR is 0, or whose +DI + -DI is 0, contributes no DX: it is left out of the seed
 *   sum (still divided by n) and leaves ADX unchanged afterwards (TA-Lib's structure; a flat series gives 0).
 *
 * Lookback `2n - 1` = 27 for n = 14. Recursive: depends on the whole history.
 */
export function adx(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = checkSameLength({ high, low, close });
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const lookback = 2 * period - 1;
  fillWarmUp(o, from, lookback);
  if (n <= lookback) return o;

  let prevHigh = high[0];
  let prevLow = low[0];
  let prevClose = close[0];
  let dmPlus = 0;
  let dmMinus = 0;
  let tr = 0;
  for (let t = 1; t < period; t++) {
    const h = high[t];
    const l = low[t];
    const up = h - prevHigh;
    const down = prevLow - l;
    if (down > 0 && up < down) dmMinus += down;
    else if (up > 0 && up > down) dmPlus += up;
    tr += trueRangeOf(h, l, prevClose);
    prevHigh = h;
    prevLow = l;
    prevClose = close[t];
  }
  let sumDx = 0;
  let adxv = 0;
  for (let t = period; t < n; t++) {
    const h = high[t];
    const l = low[t];
    const up = h - prevHigh;
    const down = prevLow - l;
    // Wilder smoothing in TA-Lib's form: S -= S / n, then add today's value.
    dmMinus -= dmMinus / period;
    dmPlus -= dmPlus / period;
    if (down > 0 && up < down) dmMinus += down;
    else if (up > 0 && up > down) dmPlus += up;
    tr = tr - tr / period + trueRangeOf(h, l, prevClose);
    prevHigh = h;
    prevLow = l;
    prevClose = close[t];
    let dx = NaN;
    if (tr !== 0) {
      const minusDi = 100 * (dmMinus / tr);
      const plusDi = 100 * (dmPlus / tr);
      const sum = minusDi + plusDi;
      if (sum !== 0) dx = 100 * (Math.abs(minusDi - plusDi) / sum);
    }
    if (t < lookback) {
      if (dx === dx) sumDx += dx;
    } else if (t === lookback) {
      if (dx === dx) sumDx += dx;
      adxv = sumDx / period;
      if (t >= from) o[t] = adxv;
    } else {
      if (dx === dx) adxv = (adxv * (period - 1) + dx) / period;
      if (t >= from) o[t] = adxv;
    }
  }
  return o;
}

function trueRangeOf(h: number, l: number, prevClose: number): number {
  let r = h - l;
  const a = Math.abs(h - prevClose);
  if (a > r) r = a;
  const b = Math.abs(l - prevClose);
  if (b > r) r = b;
  return r;
}
