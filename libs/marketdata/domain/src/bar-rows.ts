import type { BarColumns, BarRows, RejectReason, UnreadableRow } from '@strata/marketdata-contracts';
import { parseIsoTimestamp } from '@strata/shared-timeseries';
import { BarsCsvFormatError } from './bars';
import { DecimalStatus, decimalStatus, parseDecimal } from './decimal';

/** Column names of bars, in canonical order (the index is a column's role); `adj_close` is optional. */
export const BAR_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume', 'adj_close'] as const;

/** Role (index in {@link BAR_COLUMNS}) of the timestamp column. */
export const TS_ROLE = 0;
/** Role of the `adj_close` column. */
export const ADJ_ROLE = 6;
const REQUIRED = 6;

/** First and last instant an ISO-8601 four-digit year can name (0000-01-01T00:00:00Z, 9999-12-31T23:59:59.999Z). */
const MIN_ISO_MS = -62_167_219_200_000;
const MAX_ISO_MS = 253_402_300_799_999;

/**
 * The role (index in {@link BAR_COLUMNS}) of each source column, from its name: trimmed, one pair of double quotes
 * removed, case-insensitive. Throws {@link BarsCsvFormatError} naming line 1 (the header) for an unknown, empty or
 * repeated name or a missing required column; the message quotes the names joined by commas.
 */
export function barColumnRoles(names: readonly string[]): { roles: Int8Array; columns: string[] } {
  const columns = names.map((c) => {
    let t = c.trim();
    if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1).trim();
    return t.toLowerCase();
  });
  const roles = new Int8Array(columns.length);
  const seen = new Set<string>();
  const problems: string[] = [];
  columns.forEach((c, i) => {
    const role = (BAR_COLUMNS as readonly string[]).indexOf(c);
    if (role < 0) problems.push(c === '' ? `column ${i + 1} has an empty name` : `unknown column "${c}"`);
    else if (seen.has(c)) problems.push(`column "${c}" appears twice`);
    seen.add(c);
    roles[i] = role;
  });
  const missing = BAR_COLUMNS.slice(0, REQUIRED).filter((c) => !seen.has(c));
  if (missing.length) problems.unshift(`missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  if (problems.length) {
    const raw = names.join(',');
    throw new BarsCsvFormatError(
      1,
      `malformed header "${raw.length > 120 ? `${raw.slice(0, 120)}…` : raw}": ${problems.join('; ')}; expected timestamp,open,high,low,close,volume with an optional adj_close`,
    );
  }
  return { roles, columns };
}

/** Empty rows for up to `capacity` rows of the given columns (an `adj_close` column array only when named). */
export function createBarRows(capacity: number, columns: string[]): BarRows {
  return {
    length: 0,
    ts: new Float64Array(capacity),
    open: new Float64Array(capacity),
    high: new Float64Array(capacity),
    low: new Float64Array(capacity),
    close: new Float64Array(capacity),
    volume: new Float64Array(capacity),
    adjClose: columns.includes('adj_close') ? new Float64Array(capacity) : null,
    line: new Uint32Array(capacity),
    unreadable: [],
    columns,
  };
}

/** The column array of `rows` for a role (`adj_close` must exist). */
export function barColumn(rows: BarRows, role: number): Float64Array {
  switch (role) {
    case 0:
      return rows.ts;
    case 1:
      return rows.open;
    case 2:
      return rows.high;
    case 3:
      return rows.low;
    case 4:
      return rows.close;
    case 5:
      return rows.volume;
    default:
      return rows.adjClose!;
  }
}

/** Why a field could not be read: its role's name and the text (`open "abc" is not a finite number`). */
export function barFieldMessage(role: number, text: string): string {
  const what = role === TS_ROLE ? 'an ISO-8601 date or date-time' : 'a finite number';
  return `${BAR_COLUMNS[role]} ${text === '' ? 'is empty' : `"${text.length > 64 ? `${text.slice(0, 64)}…` : text}" is not ${what}`}`;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Reads one text field `s[start, end)` for a role into `out[slot]`: spaces and tabs trimmed, one pair of double
 * quotes removed, then an ISO-8601 time ({@link parseIsoTimestamp}, epoch ms UTC) or a decimal literal
 * ({@link parseDecimal}; -0 is read as +0). Returns null when read, otherwise the reject of the row: `unparsable`, or
 * `non_finite` for NaN, ±Infinity and overflow, with {@link barFieldMessage}'s message.
 */
export function readBarText(
  s: string,
  start: number,
  end: number,
  role: number,
  out: Float64Array,
  slot: number,
): { reason: RejectReason; message: string } | null {
  let a = start;
  let b = end;
  while (a < b && isSpace(s.charCodeAt(a))) a++;
  while (b > a && isSpace(s.charCodeAt(b - 1))) b--;
  if (b - a >= 2 && s.charCodeAt(a) === 34 && s.charCodeAt(b - 1) === 34) {
    a++;
    b--;
  }
  let reason: RejectReason | null = null;
  if (role === TS_ROLE) {
    const t = parseIsoTimestamp(s, a, b);
    if (t !== t) reason = 'unparsable';
    out[slot] = t;
  } else {
    const x = parseDecimal(s, a, b);
    if (decimalStatus !== DecimalStatus.Ok)
      reason = decimalStatus === DecimalStatus.NonFinite ? 'non_finite' : 'unparsable';
    out[slot] = x;
  }
  return reason === null ? null : { reason, message: barFieldMessage(role, s.slice(a, b)) };
}

/**
 * Checks a time given as a number (Parquet timestamps, generated arrays): a whole number of epoch ms within the
 * years 0000–9999, the instants an ISO-8601 text can name. Returns null when it is one, else the reject's message.
 */
export function barTimeProblem(ms: number): string | null {
  if (ms >= MIN_ISO_MS && ms <= MAX_ISO_MS && Math.floor(ms) === ms) return null;
  return `timestamp ${Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? `"${new Date(ms).toISOString()}"` : String(ms)} is not an ISO-8601 date or date-time`;
}

/**
 * The decoder of bars given as typed columns (the synthetic generator's series, or any {@link BarColumns}): row i is
 * reported at line i + 2, as in the ingest CSV of the same bars (`toIngestCsv`). A value that is NaN or ±Infinity
 * makes its row unreadable (`non_finite`, message as for the CSV text `NaN` / `Infinity` / `-Infinity`), so does a
 * time that is not a whole number of ms in the years 0000–9999 (`unparsable`); -0 is read as +0. The columns are used
 * as they are (no copy) unless a -0 must be replaced.
 */
export function decodeBarColumns(bars: BarColumns): BarRows {
  const n = bars.length;
  const cols = [
    bars.ts,
    bars.open,
    bars.high,
    bars.low,
    bars.close,
    bars.volume,
    ...(bars.adjClose ? [bars.adjClose] : []),
  ].map((c) => (c.length === n ? c : c.subarray(0, n)));
  const unreadable: UnreadableRow[] = [];
  for (let k = 0; k < cols.length; k++) {
    const c = cols[k];
    for (let i = 0; i < n; i++) {
      if (c[i] === 0 && 1 / c[i] < 0) {
        cols[k] = c.map((x) => (x === 0 ? 0 : x));
        break;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const timeProblem = barTimeProblem(cols[0][i]);
    if (timeProblem !== null) {
      unreadable.push({ row: i, reason: 'unparsable', message: timeProblem });
      continue;
    }
    for (let k = 1; k < cols.length; k++) {
      const x = cols[k][i];
      if (x - x !== 0) {
        unreadable.push({ row: i, reason: 'non_finite', message: barFieldMessage(k, String(x)) });
        break;
      }
    }
  }
  const line = new Uint32Array(n);
  for (let i = 0; i < n; i++) line[i] = i + 2;
  const [ts, open, high, low, close, volume, adjClose] = cols;
  return {
    length: n,
    ts,
    open,
    high,
    low,
    close,
    volume,
    adjClose: adjClose ?? null,
    line,
    unreadable,
    columns: [...BAR_COLUMNS.slice(0, REQUIRED), ...(adjClose ? ['adj_close'] : [])],
  };
}
