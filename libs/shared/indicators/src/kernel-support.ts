/**
 * Shared plumbing of the indicator kernels: output allocation, warm-up filling, parameter checks and
 * TA-Lib's zero tests. Every kernel writes into a caller-supplied (or freshly allocated) Float64Array of
 * the input length and fills warm-up positions with NaN (never 0), which the feature store maps to NULL.
 */

/**
 * TA-Lib's `TA_EPSILON` (ta_utility.h, TA-Lib 0.8): 1e-14.
 *
 * Zero tests on DIFFERENCES of prices use it relative to the operands' magnitude ({@link taIsZeroScaled}),
 * as current TA-Lib does (its issues #107 and #253): a window that is flat but leaves a sub-epsilon rounding
 * residue reads as flat, and an instrument quoted far below 1.0 is never zeroed. TA-Lib 0.4 used an
 * absolute band of 1e-8 instead; we do not reproduce that scale-dependent rule.
 */
export const TA_EPSILON = 1e-14;

/** TA-Lib's `TA_IS_ZERO_SCALED(v, scale)`: `|v| <= 1e-14 * scale`, a relative dead zone of ~90 ulp. */
export function taIsZeroScaled(v: number, scale: number): boolean {
  return Math.abs(v) <= TA_EPSILON * scale;
}

/**
 * Returns `out` when given (checking its length) or a new Float64Array of `n` elements.
 * @throws RangeError when `out` has the wrong length.
 */
export function outputArray(n: number, out: Float64Array | undefined, name = 'out'): Float64Array {
  if (out === undefined) return new Float64Array(n);
  if (out.length !== n) throw new RangeError(`${name} has length ${out.length}, expected ${n}`);
  return out;
}

/**
 * Fills `out[from .. min(lookback, n))` with NaN: the warm-up part of the requested range.
 * Returns the first index at which the kernel must compute a value: `max(from, lookback)`.
 */
export function fillWarmUp(out: Float64Array, from: number, lookback: number): number {
  const n = out.length;
  const end = lookback < n ? lookback : n;
  for (let i = from; i < end; i++) out[i] = NaN;
  return from > lookback ? from : lookback;
}

/**
 * Checks an integer period: `min <= period <= 100000` (TA-Lib's parameter range).
 * @throws RangeError naming the parameter.
 */
export function checkPeriod(name: string, period: number, min: number): void {
  if (!Number.isInteger(period) || period < min || period > 100000) {
    throw new RangeError(`${name} must be an integer in [${min}, 100000], got ${period}`);
  }
}

/**
 * Checks the `from` index of a partial (tail) computation: an integer in `[0, n]`.
 * @throws RangeError.
 */
export function checkFrom(from: number, n: number): void {
  if (!Number.isInteger(from) || from < 0 || from > n) {
    throw new RangeError(`from must be an integer in [0, ${n}], got ${from}`);
  }
}

/**
 * Checks that all input series have the same length.
 * @throws RangeError naming the first series whose length differs.
 */
export function checkSameLength(series: Record<string, Float64Array>): number {
  let n = -1;
  for (const name of Object.keys(series)) {
    const len = series[name].length;
    if (n === -1) n = len;
    else if (len !== n) throw new RangeError(`${name} has length ${len}, expected ${n} like the other inputs`);
  }
  return n < 0 ? 0 : n;
}

/**
 * Block length of the anchored running sums: a windowed kernel that keeps a running window sum re-sums
 * its window exactly at the first computed index and at every index divisible by this block length.
 * Rounding drift therefore spans at most 64 updates (relative error ~1e-14 for sums of positive values),
 * and a value depends only on its absolute index, never on where a computation started.
 */
export const ANCHOR_BLOCK = 64;

/**
 * First index a windowed kernel with anchored running sums must compute so that the values from `start`
 * on are bit-identical to a computation from the beginning: the last anchor at or before `start`, or
 * `lookback` (the first anchor of a full computation) when that comes later.
 */
export function anchorIndex(start: number, lookback: number): number {
  const a = start - (start % ANCHOR_BLOCK);
  return a > lookback ? a : lookback;
}
