import { civilFromDays, daysFromCivil, weekday } from './iso-time';

/**
 * Which days a market trades on, for gap detection.
 * - `nyse`: Monday–Friday except NYSE full-day holidays and special closures (see {@link nyseHolidays}).
 * - `weekdays`: Monday–Friday, no holidays.
 * - `24x7`: every day (crypto).
 */
export type TradingCalendar = 'nyse' | 'weekdays' | '24x7';

/** Day number (days since 1970-01-01) of the n-th (1-based) `dow` (0 = Sunday) of a month. */
function nthWeekday(year: number, month: number, dow: number, n: number): number {
  const first = daysFromCivil(year, month, 1);
  return first + ((dow - weekday(first) + 7) % 7) + (n - 1) * 7;
}

function lastWeekday(year: number, month: number, dow: number): number {
  const last = (month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1)) - 1;
  return last - ((weekday(last) - dow + 7) % 7);
}

/** Easter Sunday (Gregorian), anonymous "Meeus/Jones/Butcher" algorithm; returns a day number. */
export function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return daysFromCivil(year, month, day);
}

/** Fixed-date holiday observed per NYSE rule: Saturday → preceding Friday, Sunday → following Monday. */
function observed(day: number): number {
  const w = weekday(day);
  return w === 6 ? day - 1 : w === 0 ? day + 1 : day;
}

/**
 * Unscheduled full-day NYSE closures since 1970 (national days of mourning, weather, 9/11), as day numbers.
 * Source: NYSE historical closings list.
 */
const SPECIAL_CLOSURES: readonly number[] = [
  [1972, 12, 28], // President Truman
  [1973, 1, 25], // President Johnson
  [1977, 7, 14], // New York City blackout
  [1985, 9, 27], // Hurricane Gloria
  [1994, 4, 27], // President Nixon
  [2001, 9, 11],
  [2001, 9, 12],
  [2001, 9, 13],
  [2001, 9, 14], // September 11
  [2004, 6, 11], // President Reagan
  [2007, 1, 2], // President Ford
  [2012, 10, 29],
  [2012, 10, 30], // Hurricane Sandy
  [2018, 12, 5], // President G. H. W. Bush
  [2025, 1, 9], // President Carter
].map(([y, m, d]) => daysFromCivil(y, m, d));

/**
 * NYSE full-day market holidays of one year (day numbers, sorted). A simple rule-based calendar valid from 1971:
 * New Year's Day (Sunday → Monday; Saturday → not observed, per NYSE Rule 7.2), Martin Luther King Jr. Day (third
 * Monday of January, from 1998), Washington's Birthday (third Monday of February), Good Friday, Memorial Day (last
 * Monday of May), Juneteenth (19 June, from 2022), Independence Day, Labor Day (first Monday of September),
 * Thanksgiving (fourth Thursday of November), Christmas (fixed dates observed Saturday → Friday, Sunday → Monday),
 * plus the special closures listed in {@link SPECIAL_CLOSURES}. Early closes (half days) are trading days.
 */
export function nyseHolidays(year: number): number[] {
  const out: number[] = [];
  const ny = daysFromCivil(year, 1, 1);
  if (weekday(ny) === 0) out.push(ny + 1);
  else if (weekday(ny) !== 6) out.push(ny);
  if (year >= 1998) out.push(nthWeekday(year, 1, 1, 3));
  out.push(nthWeekday(year, 2, 1, 3));
  out.push(easterSunday(year) - 2);
  out.push(lastWeekday(year, 5, 1));
  if (year >= 2022) out.push(observed(daysFromCivil(year, 6, 19)));
  out.push(observed(daysFromCivil(year, 7, 4)));
  out.push(nthWeekday(year, 9, 1, 1));
  out.push(nthWeekday(year, 11, 4, 4));
  out.push(observed(daysFromCivil(year, 12, 25)));
  for (const d of SPECIAL_CLOSURES) if (civilFromDays(d)[0] === year) out.push(d);
  return [...new Set(out)].sort((a, b) => a - b);
}

// Business-day flags for day numbers in [FLAG_FROM, FLAG_TO), built lazily once per calendar.
const FLAG_FROM = daysFromCivil(1950, 1, 1);
const FLAG_TO = daysFromCivil(2200, 1, 1);
const flagCache = new Map<TradingCalendar, Uint8Array>();

function flags(calendar: TradingCalendar): Uint8Array {
  let f = flagCache.get(calendar);
  if (f) return f;
  f = new Uint8Array(FLAG_TO - FLAG_FROM);
  for (let d = FLAG_FROM; d < FLAG_TO; d++) {
    const w = weekday(d);
    f[d - FLAG_FROM] = calendar === '24x7' || (w !== 0 && w !== 6) ? 1 : 0;
  }
  if (calendar === 'nyse') {
    for (let y = 1950; y < 2200; y++)
      for (const h of nyseHolidays(y)) if (h >= FLAG_FROM && h < FLAG_TO) f[h - FLAG_FROM] = 0;
  }
  flagCache.set(calendar, f);
  return f;
}

/** True when the market trades on day number `day` (days since 1970-01-01, UTC date). */
export function isTradingDay(calendar: TradingCalendar, day: number): boolean {
  if (calendar === '24x7') return true;
  if (day >= FLAG_FROM && day < FLAG_TO) return flags(calendar)[day - FLAG_FROM] === 1;
  const w = weekday(day);
  if (w === 0 || w === 6) return false;
  return calendar === 'weekdays' || !nyseHolidays(civilFromDays(day)[0]).includes(day);
}

/** Number of trading days strictly between day numbers `a` and `b` (0 when `b <= a + 1`). */
export function tradingDaysBetween(calendar: TradingCalendar, a: number, b: number): number {
  if (b - a <= 1) return 0;
  if (calendar === '24x7') return b - a - 1;
  let n = 0;
  if (a + 1 >= FLAG_FROM && b <= FLAG_TO) {
    const f = flags(calendar);
    for (let d = a + 1; d < b; d++) n += f[d - FLAG_FROM];
    return n;
  }
  for (let d = a + 1; d < b; d++) if (isTradingDay(calendar, d)) n++;
  return n;
}
