/** Outcome of {@link parseDecimal}, read from {@link decimalStatus} right after the call. */
export enum DecimalStatus {
  Ok = 0,
  /** Not a number at all (empty, letters, two dots …). */
  Unparsable = 1,
  /** `NaN`, `Infinity`, `inf` (any case, optional sign) or a finite-looking literal that overflows to ±Infinity. */
  NonFinite = 2,
}

/** Status of the last {@link parseDecimal} call (a module variable, so the hot loop allocates nothing). */
export let decimalStatus: DecimalStatus = DecimalStatus.Ok;

// 10^0 … 10^22 are exactly representable as doubles (Clinger's fast path).
const POW10 = new Float64Array(23);
POW10[0] = 1;
for (let i = 1; i < 23; i++) POW10[i] = POW10[i - 1] * 10;

function isWord(s: string, start: number, end: number, word: string): boolean {
  if (end - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) if ((s.charCodeAt(start + k) | 0x20) !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Parses a decimal literal `[+-]digits[.digits][(e|E)[+-]digits]` in `s[start, end)` without regexes or substring
 * allocation in the common case, and sets {@link decimalStatus}.
 *
 * Correctly rounded (identical to `Number(text)`): with at most 15 significant digits and a decimal exponent
 * within ±22, both the integer mantissa and the power of ten are exact doubles, so one IEEE multiplication or
 * division yields the correctly rounded result (Clinger 1990). Longer literals fall back to `Number()` on the
 * (already validated) text. Returns NaN when the status is not Ok, ±Infinity for infinite literals.
 */
export function parseDecimal(s: string, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (i < end) {
    const c0 = s.charCodeAt(i);
    if (c0 === 45 || c0 === 43) {
      neg = c0 === 45;
      i++;
    }
  }
  let mant = 0;
  let sig = 0; // significant digits taken into mant
  let exp10 = 0;
  let nDigits = 0;
  let c = 0;
  while (i < end) {
    c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) break;
    if (mant !== 0 || c !== 0) {
      mant = mant * 10 + c;
      sig++;
    }
    nDigits++;
    i++;
  }
  if (i < end && s.charCodeAt(i) === 46) {
    i++;
    while (i < end) {
      c = s.charCodeAt(i) - 48;
      if (!(c >= 0 && c <= 9)) break;
      if (mant !== 0 || c !== 0) {
        mant = mant * 10 + c;
        sig++;
      }
      exp10--;
      nDigits++;
      i++;
    }
  }
  if (nDigits === 0) {
    const w = neg || s.charCodeAt(start) === 43 ? start + 1 : start;
    if (isWord(s, w, end, 'nan') || isWord(s, w, end, 'inf') || isWord(s, w, end, 'infinity')) {
      decimalStatus = DecimalStatus.NonFinite;
      return isWord(s, w, end, 'nan') ? NaN : neg ? -Infinity : Infinity;
    }
    decimalStatus = DecimalStatus.Unparsable;
    return NaN;
  }
  if (i < end) {
    const e = s.charCodeAt(i);
    if (e !== 101 && e !== 69) {
      decimalStatus = DecimalStatus.Unparsable;
      return NaN;
    }
    i++;
    let eneg = false;
    if (i < end && (s.charCodeAt(i) === 45 || s.charCodeAt(i) === 43)) {
      eneg = s.charCodeAt(i) === 45;
      i++;
    }
    let ev = 0;
    let en = 0;
    while (i < end) {
      c = s.charCodeAt(i) - 48;
      if (!(c >= 0 && c <= 9)) break;
      if (ev < 100000) ev = ev * 10 + c;
      en++;
      i++;
    }
    if (en === 0 || i !== end) {
      decimalStatus = DecimalStatus.Unparsable;
      return NaN;
    }
    exp10 += eneg ? -ev : ev;
  }
  let v: number;
  if (mant === 0) v = 0;
  else if (sig <= 15 && exp10 >= -22 && exp10 <= 22) v = exp10 < 0 ? mant / POW10[-exp10] : mant * POW10[exp10];
  else v = Math.abs(Number(s.slice(start, end)));
  if (v === Infinity) {
    decimalStatus = DecimalStatus.NonFinite;
    return neg ? -Infinity : Infinity;
  }
  decimalStatus = DecimalStatus.Ok;
  // -0 is normalised to +0 so equal values hash and compare identically.
  return neg && v !== 0 ? -v : v;
}
