import {
  ANCHOR_BLOCK,
  anchorIndex,
  checkFrom,
  checkPeriod,
  checkSameLength,
  fillWarmUp,
  outputArray,
  taIsZeroScaled,
} from './kernel-support';

/*
 * Momentum and oscillator kernels: simple returns, ROC, RSI, fast stochastic, Williams %R, CCI, MFI.
 * Same contract as every kernel here (see moving-average.indicators.ts): NaN warm-up, point-in-time,
 * `from` restricts writing without changing any written value.
 */

/** Rounding of a running sum per update and per re-summed term, in units of its peak: ~3 eps. */
const SUM_ROUNDING = 3 * 2.220446049250313e-16;
/** Re-sum a running sum of non-negative values when its rounding could exceed 1e-11 of it. */
const SUM_GUARD = SUM_ROUNDING / 1e-11;

/** Sum of a ring in slot order (TA-Lib's circular-buffer order). */
function ringSum(ring: Float64Array): number {
  let s = 0;
  for (let j = 0; j < ring.length; j++) s += ring[j];
  return s;
}

/** Mean absolute deviation of a ring's values from `mean`; two accumulators shorten the add chain. */
function meanAbsDeviation(ring: Float64Array, mean: number): number {
  const p = ring.length;
  let d0 = 0;
  let d1 = 0;
  let j = 0;
  for (; j + 1 < p; j += 2) {
    d0 += Math.abs(ring[j] - mean);
    d1 += Math.abs(ring[j + 1] - mean);
  }
  if (j < p) d0 += Math.abs(ring[j] - mean);
  return (d0 + d1) / p;
}

/**
 * `ret_<n>`: simple return over `n` bars, `close[t] / close[t-n] - 1` (a fraction). Lookback `n`.
 * Equals TA-Lib `TA_ROCR(n) - 1`.
 */
export function simpleReturn(close: Float64Array, period: number, out?: Float64Array, from = 0): Float64Array {
  const n = close.length;
  checkPeriod('period', period, 1);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period);
  for (let t = start; t < n; t++) o[t] = close[t] / close[t - period] - 1;
  return o;
}

/**
 * `roc_<n>`: rate of change in PERCENT, TA-Lib `TA_ROC` (ta_ROC.c):
 * `ROC[t] = (close[t] / close[t-n] - 1) * 100`, and 0 when `close[t-n]` is 0 (TA-Lib's guard).
 * Lookback `n`.
 */
export function roc(close: Float64Array, period = 10, out?: Float64Array, from = 0): Float64Array {
  const n = close.length;
  checkPeriod('period', period, 1);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period);
  for (let t = start; t < n; t++) {
    const prev = close[t - period];
    o[t] = prev !== 0 ? (close[t] / prev - 1) * 100 : 0;
  }
  return o;
}

/**
 * `rsi_<n>`: Relative Strength Index with Wilder smoothing, TA-Lib `TA_RSI` (ta_RSI.c), default
 * compatibility, unstable period 0. In [0, 100].
 * - `d[i] = close[i] - close[i-1]`; gain = max(d, 0), loss = max(-d, 0);
 * - seed at index n: `avgGain = (gain[1] + ... + gain[n]) / n`, same for losses;
 * - then Wilder: `avg = (avg * (n - 1) + current) / n`;
 * - `RSI = 100 * avgGain / (avgGain + avgLoss)`, and 0 when both averages are 0 (a flat series gives 0,
 *   not 50, as in TA-Lib; TA-Lib 0.4 also zeroed sums below an absolute 1e-8, TA-Lib 0.8 does not).
 *
 * Lookback `n`. Recursive (Wilder): depends on the whole history (Wilder, New Concepts in Technical
 * Trading Systems, 1978).
 */
export function rsi(close: Float64Array, period = 14, out?: Float64Array, from = 0): Float64Array {
  const n = close.length;
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  const o = outputArray(n, out);
  fillWarmUp(o, from, period);
  if (n <= period) return o;
  let gain = 0;
  let loss = 0;
  for (let i = 1; i <= period; i++) {
    const d = close[i] - close[i - 1];
    if (d < 0) loss -= d;
    else gain += d;
  }
  loss /= period;
  gain /= period;
  if (period >= from) {
    const tot = gain + loss;
    o[period] = tot === 0 ? 0 : 100 * (gain / tot);
  }
  const m1 = period - 1;
  for (let t = period + 1; t < n; t++) {
    const d = close[t] - close[t - 1];
    // TA-Lib's operation order: multiply, add the new value, divide.
    loss *= m1;
    gain *= m1;
    if (d < 0) loss -= d;
    else gain += d;
    loss /= period;
    gain /= period;
    if (t >= from) {
      const tot = gain + loss;
      o[t] = tot === 0 ? 0 : 100 * (gain / tot);
    }
  }
  return o;
}

/** Output arrays of {@link stochFast}; each has the input length. */
export interface StochFastOutput {
  /** Fast %K in [0, 100]. */
  k: Float64Array;
  /** Fast %D: SMA(dPeriod) of fast %K, in [0, 100]. */
  d: Float64Array;
}

/**
 * Highest high and lowest low of the last `period` bars (current included), written to `hh[t]`, `ll[t]`
 * for t in `[start, n)`; `start >= period - 1`. Tracks the extreme's index and re-scans the window only
 * when it leaves, as TA-Lib's STOCHF and WILLR do: amortised a few comparisons per bar, exact values.
 */
export function rollingExtremes(
  high: Float64Array,
  low: Float64Array,
  period: number,
  hh: Float64Array,
  ll: Float64Array,
  start: number,
): void {
  const n = high.length;
  let hv = 0;
  let lv = 0;
  let hIdx = -1;
  let lIdx = -1;
  for (let t = start; t < n; t++) {
    const trailing = t - period + 1;
    if (lIdx < trailing) {
      lIdx = trailing;
      lv = low[trailing];
      for (let i = trailing + 1; i <= t; i++) {
        if (low[i] <= lv) {
          lv = low[i];
          lIdx = i;
        }
      }
    } else if (low[t] <= lv) {
      lv = low[t];
      lIdx = t;
    }
    if (hIdx < trailing) {
      hIdx = trailing;
      hv = high[trailing];
      for (let i = trailing + 1; i <= t; i++) {
        if (high[i] >= hv) {
          hv = high[i];
          hIdx = i;
        }
      }
    } else if (high[t] >= hv) {
      hv = high[t];
      hIdx = t;
    }
    hh[t] = hv;
    ll[t] = lv;
  }
}

/**
 * Fast stochastic, TA-Lib `TA_STOCHF` (ta_STOCHF.c) with fast %D as a simple moving average (MA type 0):
 * - `HH`, `LL` = highest high and lowest low of the last `kPeriod` bars, current bar included;
 * - `%K = (close - LL) / ((HH - LL) / 100)` (TA-Lib's operation order), and 0 when the window is flat,
 *   i.e. `|HH - LL| <= 1e-14 * (|HH| + |LL|)` (TA-Lib 0.8's scaled zero test);
 * - `%D = (K[t-dPeriod+1] + ... + K[t]) / dPeriod`, summed in time order.
 *
 * Lookback `(kPeriod - 1) + (dPeriod - 1)` = 15 for (14, 3): like TA-Lib, BOTH outputs are NaN before it,
 * so %K is withheld for two bars although it is defined from index 13 (Lane's stochastic oscillator).
 */
export function stochFast(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  kPeriod = 14,
  dPeriod = 3,
  out: Partial<StochFastOutput> = {},
  from = 0,
): StochFastOutput {
  const n = checkSameLength({ high, low, close });
  checkPeriod('kPeriod', kPeriod, 1);
  checkPeriod('dPeriod', dPeriod, 1);
  checkFrom(from, n);
  const hh = new Float64Array(n);
  const ll = new Float64Array(n);
  const first = Math.max(kPeriod - 1 + dPeriod - 1, from) - (dPeriod - 1);
  rollingExtremes(high, low, kPeriod, hh, ll, first);
  return stochFastFromExtremes(close, hh, ll, kPeriod, dPeriod, out, from);
}

/**
 * {@link stochFast} from precomputed `kPeriod` extremes ({@link rollingExtremes}), which must be filled
 * from index `max(lookback, from) - (dPeriod - 1)` on. Lets one extremes pass serve %K, %D and %R.
 */
export function stochFastFromExtremes(
  close: Float64Array,
  hh: Float64Array,
  ll: Float64Array,
  kPeriod: number,
  dPeriod: number,
  out: Partial<StochFastOutput>,
  from: number,
): StochFastOutput {
  const n = close.length;
  const ko = outputArray(n, out.k, 'out.k');
  const dout = outputArray(n, out.d, 'out.d');
  const lookback = kPeriod - 1 + dPeriod - 1;
  const start = fillWarmUp(ko, from, lookback);
  fillWarmUp(dout, from, lookback);
  if (start >= n) return { k: ko, d: dout };
  // The last dPeriod %K values; %D sums them oldest first, so the order is the same wherever we started.
  const ring = new Float64Array(dPeriod);
  let slot = 0;
  for (let t = start - dPeriod + 1; t < n; t++) {
    const h = hh[t];
    const l = ll[t];
    const kv = taIsZeroScaled(h - l, Math.abs(h) + Math.abs(l)) ? 0 : (close[t] - l) / ((h - l) / 100);
    ring[slot] = kv;
    slot = slot + 1 === dPeriod ? 0 : slot + 1;
    if (t >= start) {
      let s = 0;
      for (let i = 0, j = slot; i < dPeriod; i++) {
        s += ring[j];
        j = j + 1 === dPeriod ? 0 : j + 1;
      }
      ko[t] = kv;
      dout[t] = s / dPeriod;
    }
  }
  return { k: ko, d: dout };
}

/**
 * `willr_<n>`: Williams %R, TA-Lib `TA_WILLR` (ta_WILLR.c). In [-100, 0].
 * `%R = (HH - close) / ((HH - LL) / -100)` over the last `n` bars (current included), and 0 when the window
 * is flat, `|HH - LL| <= 1e-14 * (|HH| + |LL|)` (TA-Lib 0.8's scaled zero test).
 * Lookback `n - 1`.
 */
export function willr(
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
  const hh = new Float64Array(n);
  const ll = new Float64Array(n);
  rollingExtremes(high, low, period, hh, ll, Math.max(period - 1, from));
  return willrFromExtremes(close, hh, ll, period, out, from);
}

/** {@link willr} from precomputed `period` extremes filled from index `max(period - 1, from)` on. */
export function willrFromExtremes(
  close: Float64Array,
  hh: Float64Array,
  ll: Float64Array,
  period: number,
  out: Float64Array | undefined,
  from: number,
): Float64Array {
  const n = close.length;
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period - 1);
  for (let t = start; t < n; t++) {
    const h = hh[t];
    const l = ll[t];
    o[t] = taIsZeroScaled(h - l, Math.abs(h) + Math.abs(l)) ? 0 : (h - close[t]) / ((h - l) / -100);
  }
  return o;
}

/**
 * `cci_<n>`: Commodity Channel Index, TA-Lib `TA_CCI` (ta_CCI.c; Lambert, 1980):
 * - typical price `TP = (high + low + close) / 3`;
 * - `mean` = average TP of the last `n` bars, `MD` = mean absolute deviation of those TPs from `mean`;
 * - `CCI = (TP - mean) / (0.015 * MD)`, and 0 when `|TP - mean|` or `MD` is at most `1e-14 * |mean|`
 *   (TA-Lib 0.8's scaled flatness test; a flat window leaves sub-epsilon residue in `mean`).
 *
 * Lookback `n - 1`. The TP sum is a running sum re-summed exactly every `ANCHOR_BLOCK` bars and whenever
 * its rounding could exceed 1e-11 of the window's absolute deviation; the mean absolute deviation is
 * summed afresh for every bar (as TA-Lib does).
 */
export function cci(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  period = 20,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = checkSameLength({ high, low, close });
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const lookback = period - 1;
  const start = fillWarmUp(o, from, lookback);
  if (start >= n) return o;
  const t0 = anchorIndex(start, lookback);
  const mask = ANCHOR_BLOCK - 1;
  // TPs of the window; slot = absolute index % period (TA-Lib's circular buffer order).
  const ring = new Float64Array(period);
  let slot = (t0 - lookback) % period;
  for (let j = t0 - lookback; j < t0; j++) {
    ring[slot] = (high[j] + low[j] + close[j]) / 3;
    slot = slot + 1 === period ? 0 : slot + 1;
  }
  let sum = 0;
  let peak = 0;
  let steps = 0;
  for (let t = t0; t < n; t++) {
    const tp = (high[t] + low[t] + close[t]) / 3;
    const old = ring[slot];
    ring[slot] = tp;
    slot = slot + 1 === period ? 0 : slot + 1;
    const anchor = t === t0 || (t & mask) === 0;
    if (anchor) {
      sum = ringSum(ring);
      peak = sum;
      steps = 0;
    } else {
      sum += tp - old;
      steps++;
      if (sum > peak) peak = sum;
    }
    let mean = sum / period;
    let md = meanAbsDeviation(ring, mean);
    // The running TP sum rounds by at most ~3 * (steps + period) * eps * peak; re-sum when that could
    // exceed 1e-11 of the window's total absolute deviation (a quiet window), so CCI keeps its precision.
    if (!anchor && !(md * period * 1e-11 >= SUM_ROUNDING * (steps + period) * peak)) {
      sum = ringSum(ring);
      peak = sum;
      steps = 0;
      mean = sum / period;
      md = meanAbsDeviation(ring, mean);
    }
    if (t < start) continue;
    const num = tp - mean;
    const scale = Math.abs(mean);
    o[t] = taIsZeroScaled(num, scale) || taIsZeroScaled(md, scale) ? 0 : num / (0.015 * md);
  }
  return o;
}

/**
 * `mfi_<n>`: Money Flow Index, TA-Lib `TA_MFI` (ta_MFI.c). In [0, 100].
 * - `TP = (high + low + close) / 3`, raw money flow `MF = TP * volume`;
 * - MF counts as positive when TP rose from the previous bar, negative when it fell, and neither when the
 *   two TPs are equal within `1e-14 * (|TP| + |prevTP|)` (TA-Lib 0.8's scaled zero test: the three-price
 *   average of two bars with the same decimal sum can differ by a rounding residue; TA-Lib 0.4 compared
 *   exactly and counted such residue as a rise or a fall);
 * - `MFI = 100 * posMF / (posMF + negMF)` over the last `n` bars, and 0 when both sums are 0 (no TP
 *   change or no volume in the window, as TA-Lib; TA-Lib 0.4 also zeroed totals below 1 price x volume unit,
 *   TA-Lib 0.8 does not).
 *
 * Lookback `n` (the first flow needs the previous bar). Like TA-Lib it keeps running sums of the positive
 * and negative flows; unlike TA-Lib it re-sums them exactly every `ANCHOR_BLOCK` bars and whenever their
 * rounding could exceed 1e-11 of a sum (flows span orders of magnitude when volume bursts leave the
 * window), so a window without flows gives exactly 0 and values never depend on where a computation
 * started.
 */
export function mfi(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  period = 14,
  out?: Float64Array,
  from = 0,
): Float64Array {
  const n = checkSameLength({ high, low, close, volume });
  checkPeriod('period', period, 2);
  checkFrom(from, n);
  const o = outputArray(n, out);
  const start = fillWarmUp(o, from, period);
  if (start >= n) return o;
  const mask = ANCHOR_BLOCK - 1;
  const t0 = anchorIndex(start, period);
  // Flows of the window, slot = absolute index % period.
  const pos = new Float64Array(period);
  const neg = new Float64Array(period);
  const first = t0 - period + 1;
  let slot = first % period;
  let prevTp = (high[first - 1] + low[first - 1] + close[first - 1]) / 3;
  let p = 0;
  let q = 0;
  let peakP = 0;
  let peakQ = 0;
  let steps = 0;
  for (let t = first; t < n; t++) {
    const tp = (high[t] + low[t] + close[t]) / 3;
    const mf = tp * volume[t];
    const change = tp - prevTp;
    let newPos = 0;
    let newNeg = 0;
    if (!taIsZeroScaled(change, Math.abs(tp) + Math.abs(prevTp))) {
      if (change < 0) newNeg = mf;
      else newPos = mf;
    }
    prevTp = tp;
    const oldPos = pos[slot];
    const oldNeg = neg[slot];
    pos[slot] = newPos;
    neg[slot] = newNeg;
    slot = slot + 1 === period ? 0 : slot + 1;
    if (t < t0) continue;
    let exact = t === t0 || (t & mask) === 0;
    if (!exact) {
      // Running sums of non-negative flows: their rounding is at most ~3 * (steps + period) * eps times
      // the largest sum since the last re-summing. Re-sum when that could exceed 1e-11 of a sum (a burst
      // left the window, or a sum fell to zero, which must come out exactly 0).
      p += newPos - oldPos;
      q += newNeg - oldNeg;
      steps++;
      if (p > peakP) peakP = p;
      if (q > peakQ) peakQ = q;
      const bound = SUM_GUARD * (steps + period);
      if (!(p > bound * peakP) || !(q > bound * peakQ)) exact = true;
    }
    if (exact) {
      p = 0;
      q = 0;
      for (let j = 0; j < period; j++) {
        p += pos[j];
        q += neg[j];
      }
      peakP = p;
      peakQ = q;
      steps = 0;
    }
    if (t >= start) {
      const tot = p + q;
      o[t] = tot === 0 ? 0 : 100 * (p / tot);
    }
  }
  return o;
}
