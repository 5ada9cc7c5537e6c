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

// Double-double (hi + lo, ≈106 bits) values of 10^q for q in [Q_MIN, Q_MAX], built at load from exact BigInt powers
// (≈2 ms; module constants keep the hot path free of null checks).
const Q_MIN = -270;
const Q_MAX = 290;
const ddHi = new Float64Array(Q_MAX - Q_MIN + 1);
const ddLo = new Float64Array(Q_MAX - Q_MIN + 1);

function buildPow10Table(): void {
  const hi = ddHi;
  const lo = ddLo;
  for (let q = Q_MIN; q <= Q_MAX; q++) {
    if (q >= 0) {
      const p = 10n ** BigInt(q);
      const h = Number(p); // BigInt → Number rounds to nearest
      hi[q - Q_MIN] = h;
      lo[q - Q_MIN] = Number(p - BigInt(h));
    } else {
      // 10^q = X · 2^-k with X = floor(2^k / 10^-q) holding ≥ 120 bits; scaling by 2^-k in two normal steps is exact.
      const k = Math.ceil(-q * Math.log2(10)) + 120;
      const x = (1n << BigInt(k)) / 10n ** BigInt(-q);
      const h = Number(x);
      const l = Number(x - BigInt(h));
      const k1 = Math.floor(k / 2);
      const s1 = 2 ** -k1;
      const s2 = 2 ** -(k - k1);
      hi[q - Q_MIN] = h * s1 * s2;
      lo[q - Q_MIN] = l * s1 * s2;
    }
  }
}
buildPow10Table();

const SPLIT = 134217729; // 2^27 + 1, Veltkamp/Dekker splitting for error-free products
const DD_SLACK = 2 ** -90; // bound on the relative error of the double-double product below (actual < 2^-100)

/**
 * Correctly rounded `(a · 10^nb + b) · 10^q` for a < 10^11, b < 10^nb ≤ 10^8, or NaN when it cannot be certified.
 * The exact integer mantissa is held as a double-double and multiplied by a double-double 10^q with error-free
 * (Dekker) products; the leading double H is then the correctly rounded result unless the exact value could lie
 * within the error bound of a rounding boundary, which is checked directly (both ends of the error interval must
 * round to H). Uncertified cases (near ties, subnormal or overflowing ranges) return NaN and the caller uses Number().
 */
function scaleExact(a: number, b: number, nb: number, q: number): number {
  if (q < Q_MIN || q > Q_MAX) return NaN;
  let wh = a;
  let wl = 0;
  if (nb !== 0) {
    const m = POW10[nb];
    const p = a * m;
    let t = SPLIT * a;
    const ah = t - (t - a);
    const al = a - ah;
    t = SPLIT * m;
    const mh = t - (t - m);
    const ml = m - mh;
    const pe = ah * mh - p + ah * ml + al * mh + al * ml;
    const s = p + b;
    const bv = s - p;
    const se = p - (s - bv) + (b - bv);
    const e = se + pe; // both small integers: exact
    wh = s + e;
    wl = e - (wh - s);
  }
  const ph = ddHi[q - Q_MIN];
  const pl = ddLo[q - Q_MIN];
  const h = wh * ph;
  let t = SPLIT * wh;
  const xh = t - (t - wh);
  const xl = wh - xh;
  t = SPLIT * ph;
  const yh = t - (t - ph);
  const yl = ph - yh;
  const l = xh * yh - h + xh * yl + xl * yh + xl * yl + (wh * pl + wl * ph);
  const H = h + l;
  if (!(H >= 1e-250 && H <= 1e290)) return NaN;
  const L = l - (H - h);
  const err = H * DD_SLACK;
  if (H + (L + err) !== H || H + (L - err) !== H) return NaN;
  return H;
}

/**
 * Parses a decimal literal `[+-]digits[.digits][(e|E)[+-]digits]` in `s[start, end)` without regexes or substring
 * allocation in the common case, and sets {@link decimalStatus}.
 *
 * Correctly rounded (identical to `Number(text)`): with at most 15 significant digits and a decimal exponent
 * within ±22, both the integer mantissa and the power of ten are exact doubles, so one IEEE multiplication or
 * division yields the correctly rounded result (Clinger 1990). Up to 19 significant digits (trailing zeros beyond
 * them are dropped exactly) and decimal exponents in [-270, 290], a double-double product with a certified error
 * bound gives the correctly rounded result or declines. Everything else, and every declined case, falls back to
 * `Number()` on the (already validated) text. Returns NaN when the status is not Ok, ±Infinity for infinite literals.
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
  // Significant digits: the first 11 in `a`, the next up to 8 in `b` (`nb` of them); zeros after the 19th are
  // dropped (exponent adjusted); a non-zero digit after the 19th marks the literal as too long for the exact paths.
  let a = 0;
  let b = 0;
  let nb = 0;
  let sig = 0;
  let tooLong = false;
  let exp10 = 0;
  let nDigits = 0;
  let c = 0;
  while (i < end) {
    c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) break;
    if (sig !== 0 || c !== 0) {
      if (sig < 11) {
        a = a * 10 + c;
        sig++;
      } else if (sig < 19) {
        b = b * 10 + c;
        nb++;
        sig++;
      } else {
        exp10++;
        if (c !== 0) tooLong = true;
      }
    }
    nDigits++;
    i++;
  }
  if (i < end && s.charCodeAt(i) === 46) {
    i++;
    while (i < end) {
      c = s.charCodeAt(i) - 48;
      if (!(c >= 0 && c <= 9)) break;
      if (sig !== 0 || c !== 0) {
        if (sig < 11) {
          a = a * 10 + c;
          sig++;
          exp10--;
        } else if (sig < 19) {
          b = b * 10 + c;
          nb++;
          sig++;
          exp10--;
        } else if (c !== 0) tooLong = true;
      } else exp10--;
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
  if (sig === 0) v = 0;
  else if (tooLong) v = Math.abs(Number(s.slice(start, end)));
  else if (sig <= 15 && exp10 >= -22 && exp10 <= 22) {
    const mant = nb === 0 ? a : a * POW10[nb] + b; // < 10^15: exact
    v = exp10 < 0 ? mant / POW10[-exp10] : mant * POW10[exp10];
  } else {
    v = scaleExact(a, b, nb, exp10);
    if (v !== v) v = Math.abs(Number(s.slice(start, end)));
  }
  if (v === Infinity) {
    decimalStatus = DecimalStatus.NonFinite;
    return neg ? -Infinity : Infinity;
  }
  decimalStatus = DecimalStatus.Ok;
  // -0 is normalised to +0 so equal values hash and compare identically.
  return neg && v !== 0 ? -v : v;
}
