import type { Timeframe } from '@strata/contracts';
import { checkFrom, checkPeriod, checkSameLength, fillWarmUp, outputArray } from './kernel-support';

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
 * Moments are taken over each window afresh on values shifted by the window's first close,
 * `d = x - x[t-n+1]`: `middle = x[t-n+1] + mean(d)`, `variance = (sum(d^2) - sum(d)^2 / n) / n`. Unlike
 * TA-Lib 0.4's `E[x^2] - mean^2` on raw prices, which loses up to ~1e-8 relative to cancellation at equity
 * price levels, the shift bounds the cancellation (the shift is a window member) and makes a flat
 * window's variance exactly 0. When `upper == lower` (a flat window) %B is undefined and is NaN; bandwidth is then 0.
 * Lookback `n - 1`.
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
  for (let t = start; t < n; t++) {
    const first = t - period + 1;
    const x0 = close[first];
    // One pass over d = x - x0 with two accumulator pairs (shortens the add dependency chains).
    // x0 is a member of the window, so sum(d^2) exceeds n * variance by at most a factor n + 1: the
    // subtraction below cancels at most ~log10(21) digits, and a flat window gives exactly 0.
    let s0 = 0;
    let s1 = 0;
    let q0 = 0;
    let q1 = 0;
    let j = first + 1;
    for (; j < t; j += 2) {
      const d0 = close[j] - x0;
      const d1 = close[j + 1] - x0;
      s0 += d0;
      q0 += d0 * d0;
      s1 += d1;
      q1 += d1 * d1;
    }
    if (j === t) {
      const d0 = close[t] - x0;
      s0 += d0;
      q0 += d0 * d0;
    }
    const sd = s0 + s1;
    const md = sd / period;
    const ss = q0 + q1 - sd * md;
    const mid = x0 + md;
    const dev = ss > 0 ? nbDev * Math.sqrt(ss / period) : 0;
    // upper - lower and close - lower taken algebraically (2 dev, close - mid + dev): forming the bands
    // first would cancel ~log10(price / width) digits, visible on quiet windows of high-priced series.
    const width = 2 * dev;
    pctB[t] = dev > 0 ? (close[t] - x0 - md + dev) / width : NaN;
    bw[t] = width / mid;
  }
  return { pctB, bandwidth: bw };
}

/**
 * Trading calendar used to annualise volatility.
 * - `us-equity`: 252 sessions a year of 6.5 hours (390 minutes), NYSE regular hours.
 * - `crypto-24x7`: 365 days a year of 24 hours.
 */
export type TradingCalendar = 'us-equity' | 'crypto-24x7';

const MINUTES_PER_BAR: Record<Timeframe, number> = { '1m': 1, '5m': 5, '15m': 15, '1h': 60, '1d': 0 };

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
export function annualisationFactor(timeframe: Timeframe, calendar: TradingCalendar = 'us-equity'): number {
  const minutes = MINUTES_PER_BAR[timeframe];
  if (minutes === undefined) throw new RangeError(`unknown timeframe ${String(timeframe)}`);
  if (calendar === 'us-equity') return minutes === 0 ? 252 : timeframe === '1h' ? 252 * 6.5 : (252 * 390) / minutes;
  if (calendar === 'crypto-24x7') return minutes === 0 ? 365 : (365 * 1440) / minutes;
  throw new RangeError(`unknown calendar ${String(calendar)}`);
}

/**
 * `rv_<n>`: annualised realized volatility (a fraction per sqrt-year; 0.2 = 20%):
 * `r[i] = ln(close[i] / close[i-1])`, `rv[t] = sampleStd(r[t-n+1 .. t]) * sqrt(barsPerYear)` with the
 * sample (n - 1) standard deviation (moments on returns shifted by a window member, as in `bollinger`).
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
  // Log returns of the window in a ring (one log per bar). Slot = absolute index % period and the moments
  // are summed in slot order shifted by ring[0] (a window member), so every window's value is the same
  // wherever the computation started, and the cancellation is bounded as in `bollinger`.
  const ring = new Float64Array(period);
  let slot = (start - period + 1) % period;
  for (let j = start - period + 1; j < start; j++) {
    ring[slot] = Math.log(close[j] / close[j - 1]);
    slot = slot + 1 === period ? 0 : slot + 1;
  }
  for (let t = start; t < n; t++) {
    ring[slot] = Math.log(close[t] / close[t - 1]);
    slot = slot + 1 === period ? 0 : slot + 1;
    const r0 = ring[0];
    let s0 = 0;
    let s1 = 0;
    let q0 = 0;
    let q1 = 0;
    let j = 1;
    for (; j + 1 < period; j += 2) {
      const d0 = ring[j] - r0;
      const d1 = ring[j + 1] - r0;
      s0 += d0;
      q0 += d0 * d0;
      s1 += d1;
      q1 += d1 * d1;
    }
    if (j < period) {
      const d0 = ring[j] - r0;
      s0 += d0;
      q0 += d0 * d0;
    }
    const sd = s0 + s1;
    const ss = q0 + q1 - sd * (sd / period);
    o[t] = ss > 0 ? Math.sqrt(ss / (period - 1)) * scale : 0;
  }
  return o;
}
