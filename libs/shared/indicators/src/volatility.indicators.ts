import type { BarTimeframe } from '@strata/shared-timeseries';
import { anchorIndex, checkFrom, checkPeriod, checkSameLength, fillWarmUp, outputArray } from './kernel-support';
import { rollingMoments } from './window-moments';

/*
 * Volatility kernels: true range, ATR, Bollinger %B and bandwidth, annualised realized volatility.
 * Same contract as every kernel here (see moving-average.indicators.ts).
 */

/**
 * True range, TA-Lib `TA_TRANGE` (ta_TRANGE.c; Wilder, 1978), in price units:
 * `TR[t] = max(high[t] - low[t], |high[t] - close[t-1]|, |low[t] - close[t-1]|)`. Lookback 1 (index 0 is NaN).
 */
export function trueRange(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = checkSameLength({ high, low, close });
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, 1);
  for (let t = start; t < n; t++) o[t] = trueRangeAt(high[t], low[t], close[t - 1]);
  return o;
}

/** TA-Lib's TRUE_RANGE macro: the order of comparisons decides nothing but is kept as in ta_TRANGE.c. */
function trueRangeAt(h: number, l: number, prevClose: number): number {
  let r = h - l;
  const a = Math.abs(prevClose - h);
  if (a > r) r = a;
  const b = Math.abs(prevClose - l);
  if (b > r) r = b;
  return r;
}

/**
 * `atr_<n>`: Average True Range with Wilder smoothing, TA-Lib `TA_ATR` (ta_ATR.c), unstable period 0,
 * in price units:
 * - seed at index n: `ATR[n] = (TR[1] + ... + TR[n]) / n` (TA-Lib's SMA of the first n true ranges);
 * - then `ATR[t] = (ATR[t-1] * (n - 1) + TR[t]) / n`.
 *
 * Lookback `n`. Recursive: depends on the whole history.
 */
export function atr(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 14,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = checkSameLength({ high, low, close });
  checkPeriod('period', period, 1);
  checkFrom(from, n);
  const o = outputArray(n, out);
  fillWarmUp(o, from, period);
  if (n <= period) return o;
  let sum = 0;
  for (let t = 1; t <= period; t++) sum += trueRangeAt(high[t], low[t], close[t - 1]);
  let prev = sum / period;
  if (period >= from) o[period] = prev;
  const m1 = period - 1;
  for (let t = period + 1; t < n; t++) {
    prev *= m1;
    prev += trueRangeAt(high[t], low[t], close[t - 1]);
    prev /= period;
    if (t >= from) o[t] = prev;
  }
  return o;
}

/** Output arrays of {@link bollinger}; each has the input length. */
export interface BollingerOutput {
  /** %B = (close - lower) / (upper - lower): 0 at the lower band, 1 at the upper band (a fraction). */
  pctB: Float64Array;
  /** Bandwidth = (upper - lower) / middle (a fraction of the middle band). */
  bandwidth: Float64Array;
}

/**
 * Bollinger %B and bandwidth from TA-Lib `TA_BBANDS` (ta_BBANDS.c) with an SMA middle band and
 * `nbDevUp = nbDevDn = nbDev`:
 * - `middle = SMA(n)`; `sd` = POPULATION standard deviation of the last n closes (divide by n, as TA-Lib's
 *   `TA_STDDEV`);
 * - `upper = middle + nbDev * sd`, `lower = middle - nbDev * sd`;
 * - `%B = (close - lower) / (upper - lower)`, `bandwidth = (upper - lower) / middle`.
 *
 * The variance comes from `rollingMoments`: running sums on closes shifted by a window member, re-summed
 * exactly whenever their rounding could exceed 1e-11 of the variance. Unlike TA-Lib 0.4's running
 * `E[x^2] - mean^2` on raw prices, which loses up to ~1e-8 relative to cancellation at equity price levels,
 * this keeps ~1e-11 and gives a flat window a variance of exactly 0. `upper - lower` and `close - lower` are taken algebraically (`2 * nbDev * sd`,
 * `close - middle + nbDev * sd`) rather than from the rounded bands. When `upper == lower` (a flat window)
 * %B is undefined and is NaN; bandwidth is then 0. Lookback `n - 1`.
 */
export function bollinger(
  close: Float64Array,
  period = 20,
  nbDev = 2,
  out: Partial<BollingerOutput> = {},
  from = 0,
): BollingerOutput {
  const n = close.length;
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  if (!Number.isFinite(nbDev) || nbDev <= 0) throw new RangeError(`nbDev must be a positive number, got ${nbDev}`);
  const pctB = outputArray(n, out.pctB, 'out.pctB');
  const bw = outputArray(n, out.bandwidth, 'out.bandwidth');
  const start = fillWarmUp(pctB, from, period - 1);
  fillWarmUp(bw, from, period - 1);
  // M2 goes to `bw` and close - middle to `pctB`, then both are turned into the features in place.
  rollingMoments(close, period, period - 1, start, bw, pctB);
  for (let t = start; t < n; t++) {
    const m2 = bw[t];
    const closeMinusMid = pctB[t];
    const dev = m2 > 0 ? nbDev * Math.sqrt(m2 / period) : 0;
    const width = 2 * dev;
    pctB[t] = dev > 0 ? (closeMinusMid + dev) / width : NaN;
    bw[t] = width / (close[t] - closeMinusMid);
  }
  return { pctB, bandwidth: bw };
}

/**
 * Calendar used to annualise volatility (not the trading-day calendar of `@strata/shared-timeseries`).
 * - `us-equity`: 252 sessions a year of 6.5 hours (390 minutes), NYSE regular hours.
 * - `crypto-24x7`: 365 days a year of 24 hours.
 */
export type AnnualisationCalendar = 'us-equity' | 'crypto-24x7';

const MINUTES_PER_BAR: Record<BarTimeframe, number> = { '1m': 1, '5m': 5, '15m': 15, '1h': 60, '1d': 0 };

/**
 * Bars per year used to annualise a per-bar volatility (multiply the per-bar std by its square root):
 *
 * | timeframe | us-equity (default) | crypto-24x7 |
 * |---|---|---|
 * | 1d  | 252               | 365            |
 * | 1h  | 252 x 6.5 = 1,638 | 365 x 24 = 8,760 |
 * | 15m | 252 x 390/15 = 6,552 | 365 x 1440/15 = 35,040 |
 * | 5m  | 252 x 390/5 = 19,656 | 365 x 1440/5 = 105,120 |
 * | 1m  | 252 x 390 = 98,280 | 365 x 1440 = 525,600 |
 *
 * The equity hourly factor counts the 6.5-hour session, so a partial first or last hour counts as a bar
 * of the same variance (a convention, stated so it can be changed in a new feature-set version).
 */
export function annualisationFactor(timeframe: BarTimeframe, calendar: AnnualisationCalendar = 'us-equity'): number {
  const minutes = MINUTES_PER_BAR[timeframe];
  if (minutes === undefined) throw new RangeError(`unknown timeframe ${String(timeframe)}`);
  if (calendar === 'us-equity') return minutes === 0 ? 252 : timeframe === '1h' ? 252 * 6.5 : (252 * 390) / minutes;
  if (calendar === 'crypto-24x7') return minutes === 0 ? 365 : (365 * 1440) / minutes;
  throw new RangeError(`unknown calendar ${String(calendar)}`);
}

/**
 * `rv_<n>`: annualised realized volatility (a fraction per sqrt-year; 0.2 = 20%):
 * `r[i] = ln(close[i] / close[i-1])`, `rv[t] = sampleStd(r[t-n+1 .. t]) * sqrt(barsPerYear)` with the
 * sample (n - 1) standard deviation (`rollingMoments`, accurate to ~1e-11 relative as in `bollinger`).
 * Lookback `n` (n returns need n + 1 closes).
 * `barsPerYear` comes from {@link annualisationFactor} (252 for daily bars).
 */
export function realizedVolatility(
  close: Float64Array,
  period = 20,
  barsPerYear = 252,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = close.length;
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  if (!Number.isFinite(barsPerYear) || barsPerYear <= 0) {
    throw new RangeError(`barsPerYear must be a positive number, got ${barsPerYear}`);
  }
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period);
  if (start >= n) return o;
  const scale = Math.sqrt(barsPerYear);
  // One log per bar; logRet[j] is the return from bar j-1 to bar j (index 0 unused).
  const firstReturn = anchorIndex(start, period) - period + 1;
  const logRet = new Float64Array(n);
  for (let j = firstReturn; j < n; j++) logRet[j] = Math.log(close[j] / close[j - 1]);
  rollingMoments(logRet, period, period, start, o);
  for (let t = start; t < n; t++) {
    const m2 = o[t];
    o[t] = m2 > 0 ? Math.sqrt(m2 / (period - 1)) * scale : 0;
  }
  return o;
}
