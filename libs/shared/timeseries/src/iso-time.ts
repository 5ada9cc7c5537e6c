/** Milliseconds in one UTC day. */
export const DAY_MS = 86_400_000;

/**
 * Days since 1970-01-01 of a proleptic Gregorian civil date (H. Hinnant's `days_from_civil`); exact for any year.
 * `month` is 1–12, `day` 1–31 (not range-checked here).
 */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Civil date `[year, month 1–12, day 1–31]` of a day number (days since 1970-01-01); inverse of {@link daysFromCivil}. */
export function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/** Day of week of a day number: 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export function weekday(days: number): number {
  return (((days + 4) % 7) + 7) % 7;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Reads exactly `n` ASCII digits at `i`; -1 when any is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (!(c >= 0 && c <= 9)) return -1; // also rejects NaN (reading past the string)
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses an ISO-8601 (extended format) date or date-time in `s[start, end)` to epoch ms UTC, without regexes or
 * `Date`. Returns NaN when the text is not one of the accepted forms or names an impossible date or time.
 *
 * Accepted: `YYYY-MM-DD`, or `YYYY-MM-DD` + (`T` | `t` | one space) + `HH:MM`, `HH:MM:SS` or `HH:MM:SS.f…` (1–9
 * fraction digits), then an optional zone `Z`, `±HH:MM`, `±HHMM` or `±HH`. No zone means UTC. A date alone is
 * 00:00 UTC of that date. Fractions finer than one millisecond must be zero: the time axis is integer ms and
 * nothing is rounded silently. Leap seconds (`:60`) and hour 24 are rejected.
 */
export function parseIsoTimestamp(s: string, start = 0, end = s.length): number {
  const len = end - start;
  if (len < 10) return NaN;
  const y = digits(s, start, 4);
  if (y < 0 || s.charCodeAt(start + 4) !== 45 || s.charCodeAt(start + 7) !== 45) return NaN;
  const mo = digits(s, start + 5, 2);
  const d = digits(s, start + 8, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return NaN;
  const dayMs = daysFromCivil(y, mo, d) * DAY_MS;
  if (len === 10) return dayMs;
  const sep = s.charCodeAt(start + 10);
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN; // 'T', 't', ' '
  let i = start + 11;
  if (end - i < 5 || s.charCodeAt(i + 2) !== 58) return NaN; // ':'
  const hh = digits(s, i, 2);
  const mi = digits(s, i + 3, 2);
  if (hh < 0 || hh > 23 || mi < 0 || mi > 59) return NaN;
  i += 5;
  let ss = 0;
  let ms = 0;
  if (i < end && s.charCodeAt(i) === 58) {
    if (end - i < 3) return NaN;
    ss = digits(s, i + 1, 2);
    if (ss < 0 || ss > 59) return NaN;
    i += 3;
    if (i < end && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
      // '.' or ',' decimal sign (both allowed by ISO-8601)
      i++;
      let n = 0;
      while (i < end) {
        const c = s.charCodeAt(i) - 48;
        if (!(c >= 0 && c <= 9)) break;
        if (n < 3) ms = ms * 10 + c;
        else if (c !== 0) return NaN; // sub-millisecond precision would be lost
        n++;
        i++;
      }
      if (n === 0 || n > 9) return NaN;
      if (n === 1) ms *= 100;
      else if (n === 2) ms *= 10;
    }
  }
  let offsetMin = 0;
  if (i < end) {
    const z = s.charCodeAt(i);
    if (z === 90 || z === 122) {
      // 'Z' / 'z'
      if (i + 1 !== end) return NaN;
    } else if (z === 43 || z === 45) {
      // '+' / '-'
      const rest = end - i - 1;
      const oh = digits(s, i + 1, 2);
      let om = 0;
      if (rest === 2) om = 0;
      else if (rest === 5 && s.charCodeAt(i + 3) === 58) om = digits(s, i + 4, 2);
      else if (rest === 4) om = digits(s, i + 3, 2);
      else return NaN;
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
      offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om);
    } else return NaN;
  }
  return dayMs + ((hh * 60 + mi - offsetMin) * 60 + ss) * 1000 + ms;
}

/** Formats epoch ms as ISO-8601 UTC with milliseconds, e.g. `2021-03-31T19:00:00.000Z` (same as `Date#toISOString`). */
export function formatIsoUtc(ms: number): string {
  return new Date(ms).toISOString();
}
