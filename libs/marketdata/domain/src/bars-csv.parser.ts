import type { BarRows, UnreadableRow } from '@strata/marketdata-contracts';
import { BarsCsvFormatError, type BarsParseResult } from './bars';
import { barColumn, barColumnRoles, createBarRows, readBarText, TS_ROLE } from './bar-rows';
import { DecimalStatus, decimalStatus, parseDecimal } from './decimal';
import { validateBarRows, validateBars, type BarBatch, type ReadBarsOptions } from './bar-batch';
import { parseIsoTimestamp } from '@strata/shared-timeseries';

const TS = TS_ROLE;

const utf8 = new TextDecoder('utf-8');

// 10^0 … 10^22 are exact doubles (Clinger's fast path, as in parseDecimal).
const POW10 = new Float64Array(23);
POW10[0] = 1;
for (let i = 1; i < 23; i++) POW10[i] = POW10[i - 1] * 10;

/** Where {@link readPlainNumber} stopped. */
let numEnd = 0;

/**
 * Hot-path reader for the common field shape `[-]digits[.digits]` starting at `i`: stops at the first other
 * character and records it in `numEnd`, writes the value to `out[slot]` and returns true; false (→ caller takes the
 * general, exact path) when there is no digit, more than 15 digits in all (leading zeros included, so the mantissa
 * below is an exact integer < 10^15), or an exponent follows. Exact: one correctly rounded division of two exact
 * doubles. (The value goes to a typed array rather than being returned: a double returned by a call that is not
 * inlined is boxed, i.e. one heap allocation per field.)
 */
function readPlainNumber(s: string, i: number, end: number, out: Float64Array, slot: number): boolean {
  let neg = false;
  if (i < end && s.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  const i0 = i;
  let mant = 0;
  let c = 0;
  // `(c >>> 0) <= 9` is one unsigned compare for '0'..'9' (characters below '0' wrap to large values).
  while (i < end && (c = s.charCodeAt(i) - 48) >>> 0 <= 9) {
    mant = mant * 10 + c;
    i++;
  }
  let digits = i - i0;
  let scale = 0;
  if (i < end && s.charCodeAt(i) === 46) {
    i++;
    const f0 = i;
    while (i < end && (c = s.charCodeAt(i) - 48) >>> 0 <= 9) {
      mant = mant * 10 + c;
      i++;
    }
    scale = i - f0;
    digits += scale;
  }
  numEnd = i;
  if (digits === 0 || digits > 15) return false;
  const v = scale === 0 ? mant : mant / POW10[scale];
  out[slot] = neg && v !== 0 ? -v : v;
  return true;
}

/** Two ASCII digits at `i` as a number, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >>> 0 <= 9 && b >>> 0 <= 9 ? a * 10 + b : -1;
}

/** Date part (YYYYMMDD as a number) and epoch ms of the last date {@link readFixedTimestamp} converted. */
let lastDateKey = -1;
let lastDateMs = 0;

/**
 * Hot-path reader for the two fixed-width timestamp shapes, `YYYY-MM-DD` (10 characters) and
 * `YYYY-MM-DD[T| ]HH:MM:SSZ` (20), starting at `p` and followed by ',' or the line end `end`: writes the epoch ms
 * (exactly what {@link parseIsoTimestamp} returns for that text) to `out[slot]`, sets `numEnd` after the field and
 * returns true; false (→ caller takes the general path) for any other shape. A successful parse of that width proves
 * the field holds no comma. The date part is validated and converted by parseIsoTimestamp only when it differs from
 * the previous call's (intraday rows share it; `decodeBarsCsv` forgets it at the start of every input); the time of
 * day is read here with parseIsoTimestamp's range checks (hour 0–23, minute and second 0–59).
 */
function readFixedTimestamp(s: string, p: number, end: number, out: Float64Array, slot: number): boolean {
  const w =
    p + 10 <= end && (p + 10 === end || s.charCodeAt(p + 10) === 44)
      ? 10
      : p + 20 <= end && (p + 20 === end || s.charCodeAt(p + 20) === 44) && s.charCodeAt(p + 19) === 90
        ? 20
        : 0;
  if (w === 0) return false;
  const yh = twoDigits(s, p);
  const yl = twoDigits(s, p + 2);
  const mo = twoDigits(s, p + 5);
  const d = twoDigits(s, p + 8);
  const dateKey = yh < 0 || yl < 0 || mo < 0 || d < 0 ? -1 : ((yh * 100 + yl) * 100 + mo) * 100 + d;
  let t: number;
  if (dateKey >= 0 && dateKey === lastDateKey && s.charCodeAt(p + 4) === 45 && s.charCodeAt(p + 7) === 45)
    t = lastDateMs;
  else {
    t = parseIsoTimestamp(s, p, p + 10);
    if (t !== t) return false;
    lastDateKey = dateKey;
    lastDateMs = t;
  }
  if (w === 10) {
    out[slot] = t;
    numEnd = p + w;
    return true;
  }
  const sep = s.charCodeAt(p + 10);
  const hh = twoDigits(s, p + 11);
  const mi = twoDigits(s, p + 14);
  const ss = twoDigits(s, p + 17);
  if (!(
    (sep === 84 || sep === 116 || sep === 32) &&
    s.charCodeAt(p + 13) === 58 &&
    s.charCodeAt(p + 16) === 58 &&
    hh >= 0 &&
    hh <= 23 &&
    mi >= 0 &&
    mi <= 59 &&
    ss >= 0 &&
    ss <= 59
  )) {
    return false;
  }
  out[slot] = t + ((hh * 60 + mi) * 60 + ss) * 1000;
  numEnd = p + w;
  return true;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * The CSV decoder: reads a bars CSV into {@link BarRows} for `validateBars`, losing nothing: every data row becomes a
 * row, read or listed in `unreadable` (wrong field count, a field that is no number or no time, a blank line between
 * rows), with its 1-based line (header = line 1). Throws {@link BarsCsvFormatError} (naming line 1) only when the
 * input is empty or the header is malformed.
 *
 * Format: a header naming the columns `timestamp,open,high,low,close,volume` and optionally `adj_close`, in any
 * order, case-insensitive; comma-separated; LF or CRLF line ends; a UTF-8 BOM is ignored; fields may be padded with
 * spaces or wrapped in double quotes (no embedded commas). Timestamps: see {@link parseIsoTimestamp} (UTC when no
 * offset). Numbers: plain decimal literals with an optional exponent. Blank lines at the end are not rows.
 *
 * Hot loop: charCode scanning, no per-field regexes and no substring allocation for well-formed rows; values go
 * straight into the column arrays.
 */
export function decodeBarsCsv(input: string | Uint8Array): BarRows {
  // A string built by concatenation is a V8 rope; V8 flattens it in place on the first indexed read (the BOM check
  // below), after which every read is direct. (An explicit UTF-8 round trip to flatten it cost ~130 ms per 65 MB and
  // made the scan no faster.)
  const s = typeof input === 'string' ? input : utf8.decode(input);
  const n = s.length;
  let pos = n > 0 && s.charCodeAt(0) === 0xfeff ? 1 : 0;
  let eol = s.indexOf('\n', pos);
  if (eol < 0) eol = n;
  let end = eol > pos && s.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
  if (s.slice(pos, end).trim() === '')
    throw new BarsCsvFormatError(1, 'empty header line: expected timestamp,open,high,low,close,volume[,adj_close]');
  const { roles, columns } = barColumnRoles(s.slice(pos, end).split(','));
  const ncols = roles.length;
  lastDateKey = -1; // no date reuse across inputs

  let capacity = 1;
  for (let i = s.indexOf('\n', eol + 1); i >= 0; i = s.indexOf('\n', i + 1)) capacity++;
  const rows = createBarRows(capacity, columns);
  const lines = rows.line;
  const unreadable: UnreadableRow[] = rows.unreadable;
  // Fields are read straight into their column at the row's index (an unreadable row's values are left as garbage).
  const cols = Array.from(roles, (role) => barColumn(rows, role));
  const pendingBlank: number[] = [];

  let r = 0;
  let line = 1;
  pos = eol + 1;

  while (pos < n) {
    line++;
    eol = s.indexOf('\n', pos);
    if (eol < 0) eol = n;
    end = eol > pos && s.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    let a = pos;
    while (a < end && isSpace(s.charCodeAt(a))) a++;
    if (a === end) {
      pendingBlank.push(line);
      pos = eol + 1;
      continue;
    }
    if (pendingBlank.length) {
      for (const b of pendingBlank) {
        lines[r] = b;
        unreadable.push({ row: r++, reason: 'unparsable', message: 'empty line' });
      }
      pendingBlank.length = 0;
    }

    // Split and parse fields in one scan.
    let f = 0;
    let p = pos;
    let bad: { reason: UnreadableRow['reason']; message: string } | null = null;
    for (;;) {
      // Fast path: a plain number directly followed by ',' or the line end (no padding, quotes or exponent).
      if (f < ncols && bad === null && roles[f] !== TS) {
        if (readPlainNumber(s, p, end, cols[f], r) && (numEnd === end || s.charCodeAt(numEnd) === 44)) {
          f++;
          if (numEnd >= end) break;
          p = numEnd + 1;
          continue;
        }
        // Second chance for long or exponent literals (`4.0362791447748130e+28`): find the field end from where the
        // reader stopped and parse the unpadded, unquoted field once with parseDecimal.
        let q = numEnd;
        while (q < end && s.charCodeAt(q) !== 44) q++;
        const c0 = s.charCodeAt(p);
        if (q > p && !isSpace(c0) && c0 !== 34 && !isSpace(s.charCodeAt(q - 1))) {
          const y = parseDecimal(s, p, q);
          if (decimalStatus === DecimalStatus.Ok) {
            cols[f][r] = y;
            f++;
            if (q >= end) break;
            p = q + 1;
            continue;
          }
        }
      }
      // Fast path: a fixed-width timestamp (see readFixedTimestamp).
      if (f < ncols && bad === null && roles[f] === TS) {
        if (readFixedTimestamp(s, p, end, cols[f], r)) {
          f++;
          if (numEnd >= end) break;
          p = numEnd + 1;
          continue;
        }
      }
      // General path: padding, quotes, other time shapes, and fields that are no number or no time.
      let q = p;
      while (q < end && s.charCodeAt(q) !== 44) q++;
      if (f < ncols && bad === null) bad = readBarText(s, p, q, roles[f], cols[f], r);
      f++;
      if (q >= end) break;
      p = q + 1;
    }

    lines[r] = line;
    if (f !== ncols) unreadable.push({ row: r, reason: 'unparsable', message: `expected ${ncols} fields, found ${f}` });
    else if (bad !== null) unreadable.push({ row: r, reason: bad.reason, message: bad.message });
    r++;
    pos = eol + 1;
  }
  rows.length = r;
  return rows;
}

/**
 * Decodes ({@link decodeBarsCsv}) and validates (`validateBarRows`) a CSV of OHLCV bars into columnar typed arrays,
 * losing nothing: every data row is either accepted or returned in `rejects` with its 1-based line number (header =
 * line 1), a stable reason code and a message. Throws {@link BarsCsvFormatError} (naming line 1) only when the input
 * is empty or the header is malformed. See `readBarsCsv` for the batch with calendar gaps and content hash.
 */
export function parseBarsCsv(input: string | Uint8Array): BarsParseResult {
  return validateBarRows(decodeBarsCsv(input));
}

/**
 * Decodes ({@link decodeBarsCsv}) and validates ({@link validateBars}) a bars CSV: accepted bars, rejects, calendar
 * gaps and the content hash. Pure: no I/O. Throws `BarsCsvFormatError` for an empty input or a malformed header.
 */
export function readBarsCsv(input: string | Uint8Array, options: ReadBarsOptions): BarBatch {
  return validateBars(decodeBarsCsv(input), options);
}
