import { ANCHOR_BLOCK, anchorIndex, checkFrom, checkPeriod, fillWarmUp, outputArray } from './kernel-support';

/*
 * Moving averages and the features built on them: SMA, EMA, close-to-average ratios, MACD.
 *
 * Common contract of every kernel in this library:
 * - inputs are Float64Arrays of one symbol's bars in ascending time order;
 * - the output has the input length; positions before the lookback are NaN (warm-up, NULL in the store);
 * - point-in-time: the value at index t depends only on inputs at indices <= t;
 * - `from` (default 0) restricts WRITING to indices >= from (indices below are left untouched). Values written
 *   are bit-identical to a full computation: windowed kernels read only their window, recursive kernels still
 *   run their recursion from index 0.
 */

/**
 * Simple moving average, TA-Lib `TA_SMA` (ta_SMA.c): `SMA[t] = (x[t-n+1] + ... + x[t]) / n`.
 * Lookback `n - 1`. Like TA-Lib it keeps a running window sum; unlike TA-Lib the sum is re-summed exactly
 * every {@link ANCHOR_BLOCK} bars, so drift is bounded and each value depends only on its window and index.
 */
export function sma(values: Float64Array, period: number, out?: Float64Array, from = 0): Float64Array {
  const n = values.length;
  checkPeriod('period', period, 1);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const lookback = period - 1;
  const start = fillWarmUp(o, from, lookback);
  if (start >= n) return o;
  const t0 = anchorIndex(start, lookback);
  const mask = ANCHOR_BLOCK - 1;
  let s = 0;
  for (let t = t0; t < n; t++) {
    if (t === t0 || (t & mask) === 0) {
      s = 0;
      for (let j = t - lookback; j <= t; j++) s += values[j];
    } else {
      s += values[t] - values[t - period];
    }
    if (t >= start) o[t] = s / period;
  }
  return o;
}

/**
 * Exponential moving average, TA-Lib `TA_EMA` with its default compatibility (ta_EMA.c, `TA_INT_EMA`):
 * - `k = 2 / (n + 1)`;
 * - seeded with the SMA of the first `n` values: `EMA[n-1] = (x[0] + ... + x[n-1]) / n`;
 * - then `EMA[t] = (x[t] - EMA[t-1]) * k + EMA[t-1]` (TA-Lib's operation order).
 *
 * Lookback `n - 1`. Recursive: the value at t depends on every input from index 0, so an exact refresh
 * needs the whole history (cost O(length), a few ns per bar).
 */
export function ema(values: Float64Array, period: number, out?: Float64Array, from = 0): Float64Array {
  const n = values.length;
  checkPeriod('period', period, 1);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const lookback = period - 1;
  fillWarmUp(o, from, lookback);
  if (n <= lookback) return o;
  const k = 2 / (period + 1);
  let sum = 0;
  for (let i = 0; i < period; i++) sum += values[i];
  let prev = sum / period;
  if (lookback >= from) o[lookback] = prev;
  let t = period;
  for (; t < n && t < from; t++) prev = (values[t] - prev) * k + prev;
  for (; t < n; t++) {
    prev = (values[t] - prev) * k + prev;
    o[t] = prev;
  }
  return o;
}

/**
 * `sma_<n>_ratio`: close divided by its SMA(n), minus 1 (a fraction; 0.01 = close 1% above the average).
 * SMA as in {@link sma} (TA-Lib `TA_SMA`). Lookback `n - 1`.
 */
export function smaRatio(close: Float64Array, period: number, out?: Float64Array, from = 0): Float64Array {
  const o = sma(close, period, out, from);
  const n = close.length;
  for (let t = from > period - 1 ? from : period - 1; t < n; t++) o[t] = close[t] / o[t] - 1;
  return o;
}

/**
 * `ema_<n>_ratio`: close divided by its EMA(n), minus 1 (a fraction). EMA as in {@link ema} (TA-Lib
 * `TA_EMA`, SMA-seeded). Lookback `n - 1`; recursive (depends on the whole history).
 */
export function emaRatio(close: Float64Array, period: number, out?: Float64Array, from = 0): Float64Array {
  const o = ema(close, period, out, from);
  const n = close.length;
  for (let t = from > period - 1 ? from : period - 1; t < n; t++) o[t] = close[t] / o[t] - 1;
  return o;
}

/** Output arrays of {@link macd}; each has the input length. */
export interface MacdOutput {
  /** MACD line: fast EMA minus slow EMA, in price units. */
  macd: Float64Array;
  /** Signal line: EMA(signalPeriod) of the MACD line, in price units. */
  signal: Float64Array;
  /** Histogram: MACD line minus signal line, in price units. */
  hist: Float64Array;
}

/**
 * MACD, TA-Lib `TA_MACD` (ta_MACD.c, `TA_INT_MACD`) with its exact seeding and lookback:
 * - if `slow < fast` the two are swapped (as TA-Lib does);
 * - both EMAs start at index `slow - 1`: the slow EMA is seeded with the SMA of `x[0 .. slow-1]`, the fast
 *   EMA with the SMA of the `fast` values ending there, `x[slow-fast .. slow-1]` (TA-Lib aligns the fast
 *   EMA to the slow one's start rather than seeding it at index `fast - 1`);
 * - EMA recursion `e = (x - e) * k + e` with `k = 2 / (n + 1)`;
 * - `macd = fastEMA - slowEMA` from index `slow - 1`;
 * - `signal` = EMA(signalPeriod) of `macd`, seeded with the SMA of its first `signalPeriod` values;
 * - `hist = macd - signal`.
 *
 * Lookback `(slow - 1) + (signalPeriod - 1)` = 33 for (12, 26, 9): like TA-Lib, all three outputs are NaN
 * before it (the MACD line is also withheld until the signal exists). Recursive: depends on the whole history.
 */
export function macd(
  close: Float64Array,
  fastPeriod = 12,
  slowPeriod = 26,
  signalPeriod = 9,
  out: Partial<MacdOutput> = {},
  from = 0,
): MacdOutput {
  const n = close.length;
  checkPeriod('fastPeriod', fastPeriod, 2);
  checkPeriod('slowPeriod', slowPeriod, 2);
  checkPeriod('signalPeriod', signalPeriod, 1);
  checkFrom(from, n);
  if (slowPeriod < fastPeriod) [fastPeriod, slowPeriod] = [slowPeriod, fastPeriod];
  const m = outputArray(n, out.macd, 'out.macd');
  const sig = outputArray(n, out.signal, 'out.signal');
  const hist = outputArray(n, out.hist, 'out.hist');
  const t0 = slowPeriod - 1;
  const lookback = t0 + signalPeriod - 1;
  fillWarmUp(m, from, lookback);
  fillWarmUp(sig, from, lookback);
  fillWarmUp(hist, from, lookback);
  if (n <= lookback) return { macd: m, signal: sig, hist };

  const kSlow = 2 / (slowPeriod + 1);
  const kFast = 2 / (fastPeriod + 1);
  const kSig = 2 / (signalPeriod + 1);
  let sumSlow = 0;
  for (let i = 0; i <= t0; i++) sumSlow += close[i];
  let sumFast = 0;
  for (let i = slowPeriod - fastPeriod; i <= t0; i++) sumFast += close[i];
  let eSlow = sumSlow / slowPeriod;
  let eFast = sumFast / fastPeriod;
  let line = eFast - eSlow;
  let sigSum = line;
  for (let t = t0 + 1; t < lookback; t++) {
    const x = close[t];
    eSlow = (x - eSlow) * kSlow + eSlow;
    eFast = (x - eFast) * kFast + eFast;
    line = eFast - eSlow;
    sigSum += line;
  }
  if (lookback > t0) {
    const x = close[lookback];
    eSlow = (x - eSlow) * kSlow + eSlow;
    eFast = (x - eFast) * kFast + eFast;
    line = eFast - eSlow;
    sigSum += line;
  }
  let s = sigSum / signalPeriod;
  if (lookback >= from) {
    m[lookback] = line;
    sig[lookback] = s;
    hist[lookback] = line - s;
  }
  for (let t = lookback + 1; t < n; t++) {
    const x = close[t];
    eSlow = (x - eSlow) * kSlow + eSlow;
    eFast = (x - eFast) * kFast + eFast;
    line = eFast - eSlow;
    s = (line - s) * kSig + s;
    if (t >= from) {
      m[t] = line;
      sig[t] = s;
      hist[t] = line - s;
    }
  }
  return { macd: m, signal: sig, hist };
}
