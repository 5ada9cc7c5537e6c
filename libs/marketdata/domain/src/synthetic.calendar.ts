import { type Timeframe } from '@strata/marketdata-contracts';
import { nyseHolidays, type TradingCalendar } from '@strata/shared-timeseries';

/** Bar length in minutes per platform timeframe. */
export const TIMEFRAME_MINUTES: Readonly<Record<Timeframe, number>> = {
  '1m': 1,
  '5m': 5,
  '15m': 15,
  '1h': 60,
  '1d': 1440,
};

const MS_PER_MINUTE = 60_000;
const MS_PER_DAY = 86_400_000;

/**
 * Which slots a synthetic series occupies: the market data library's trading calendars, so ingest gap detection
 * measures a synthetic series against the very calendar it was generated on.
 * - `nyse`: NYSE trading days (weekends, exchange holidays and special closures excluded);
 * - `weekdays`: Monday to Friday;
 * - `24x7`: every day, around the clock (crypto); bars follow each other without breaks.
 * Daily bars are stamped at 00:00 UTC of the trading date (the `YYYY-MM-DD` of the ingest CSV); intraday bars on
 * `nyse`/`weekdays` fill the trading session of each trading day (no early closes are modelled).
 */
export type SyntheticCalendar = TradingCalendar;

/** A trading session in local exchange time, e.g. `{ timeZone: 'America/New_York', open: '09:30', close: '16:00' }`. */
export interface SessionSpec {
  /** IANA time zone name of the exchange. */
  timeZone: string;
  /** Local session open, `HH:MM` (24 h). */
  open: string;
  /** Local session close, `HH:MM` (24 h), after `open`. */
  close: string;
}

/** The default US equity session: 09:30–16:00 America/New_York (so 14:30–21:00 UTC in winter, 13:30–20:00 UTC in summer). */
export const US_EQUITY_SESSION: SessionSpec = { timeZone: 'America/New_York', open: '09:30', close: '16:00' };

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at instant `utcMs`, in ms (positive east of Greenwich; e.g. -4 h for New York in July). */
export function timeZoneOffsetMs(timeZone: string, utcMs: number): number {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  const p: Record<string, number> = {};
  for (const part of fmt.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/**
 * UTC epoch ms of a local wall-clock time in `timeZone`. For a wall time that occurs twice (the repeated hour when
 * daylight saving ends) the earlier instant is returned; a wall time that does not exist (the skipped hour when it
 * starts) is mapped with the offset in force just before the change, so it lands one hour later in local terms.
 */
export function zonedWallTimeToUtcMs(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  minuteOfDay: number,
): number {
  const wallAsUtc = Date.UTC(year, month - 1, day) + minuteOfDay * MS_PER_MINUTE;
  // Two fixed-point passes: the offset at (wall - offset) is the offset in force at the answer.
  const before = timeZoneOffsetMs(timeZone, wallAsUtc - 86_400_000 / 2);
  const after = timeZoneOffsetMs(timeZone, wallAsUtc + 86_400_000 / 2);
  if (before === after) return wallAsUtc - before;
  const withBefore = wallAsUtc - before;
  const withAfter = wallAsUtc - after;
  const okBefore = timeZoneOffsetMs(timeZone, withBefore) === before;
  const okAfter = timeZoneOffsetMs(timeZone, withAfter) === after;
  if (okBefore && okAfter) return Math.min(withBefore, withAfter);
  if (okBefore) return withBefore;
  if (okAfter) return withAfter;
  return withBefore;
}

/** Parses `HH:MM` into minutes after midnight; throws on anything else. */
export function parseClock(text: string): number {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new RangeError(`expected HH:MM, got "${text}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Timestamps of a synthetic series plus which bars open a session (and so carry an overnight gap). */
export interface CalendarSlots {
  /** Bar start times, epoch ms UTC, strictly increasing. */
  ts: Float64Array;
  /** 1 where the bar is the first of a trading session (every bar for daily session-calendar bars), else 0. */
  sessionStart: Uint8Array;
  /** Bars per year used to scale annualised drift, volatility and jump intensity. */
  barsPerYear: number;
}

/**
 * Lays out `count` bar slots of `timeframe` from `startMs` (epoch ms UTC; for `nyse`/`weekdays` calendars only its
 * UTC date is used, moved forward to the next trading day).
 *
 * Bars per year: 252 trading days, 365 calendar days for `24x7`; intraday session bars are
 * `ceil(session minutes / bar minutes)` per day times 252 (a last, shorter bar is kept when the session does not divide
 * evenly, e.g. 15:30–16:00 for 1 h bars on a 09:30 open).
 */
export function layoutSlots(
  count: number,
  timeframe: Timeframe,
  calendar: SyntheticCalendar,
  startMs: number,
  session: SessionSpec,
): CalendarSlots {
  const ts = new Float64Array(count);
  const sessionStart = new Uint8Array(count);
  const barMinutes = TIMEFRAME_MINUTES[timeframe];
  if (calendar === '24x7') {
    const step = barMinutes * MS_PER_MINUTE;
    const first = timeframe === '1d' ? Math.floor(startMs / MS_PER_DAY) * MS_PER_DAY : startMs;
    for (let i = 0; i < count; i++) ts[i] = first + i * step;
    if (count > 0) sessionStart[0] = 1;
    return { ts, sessionStart, barsPerYear: (365 * 1440) / barMinutes };
  }
  let day = Math.floor(startMs / MS_PER_DAY) * MS_PER_DAY;
  // Same rule as the market data library's isTradingDay, with holidays cached per year: long synthetic histories
  // run centuries past the range that library precomputes.
  let yearFrom = 0;
  let yearTo = -1;
  let holidays = new Set<number>();
  const isTrading = (dayNumber: number): boolean => {
    const w = (((dayNumber + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    if (w === 0 || w === 6) return false;
    if (calendar !== 'nyse') return true;
    if (dayNumber < yearFrom || dayNumber >= yearTo) {
      const year = new Date(dayNumber * MS_PER_DAY).getUTCFullYear();
      yearFrom = Date.UTC(year, 0, 1) / MS_PER_DAY;
      yearTo = Date.UTC(year + 1, 0, 1) / MS_PER_DAY;
      holidays = new Set(nyseHolidays(year));
    }
    return !holidays.has(dayNumber);
  };
  const nextBusinessDay = (d: number): number => {
    let x = d;
    while (!isTrading(x / MS_PER_DAY)) x += MS_PER_DAY;
    return x;
  };
  day = nextBusinessDay(day);
  if (timeframe === '1d') {
    for (let i = 0; i < count; i++) {
      ts[i] = day;
      sessionStart[i] = 1;
      day = nextBusinessDay(day + MS_PER_DAY);
    }
    return { ts, sessionStart, barsPerYear: 252 };
  }
  const openMin = parseClock(session.open);
  const closeMin = parseClock(session.close);
  const barsPerSession = Math.ceil((closeMin - openMin) / barMinutes);
  let i = 0;
  while (i < count) {
    const d = new Date(day);
    const y = d.getUTCFullYear();
    const mo = d.getUTCMonth() + 1;
    const dd = d.getUTCDate();
    const openUtc = zonedWallTimeToUtcMs(session.timeZone, y, mo, dd, openMin);
    for (let j = 0; j < barsPerSession && i < count; j++, i++) {
      ts[i] = openUtc + j * barMinutes * MS_PER_MINUTE;
      sessionStart[i] = j === 0 ? 1 : 0;
    }
    day = nextBusinessDay(day + MS_PER_DAY);
  }
  return { ts, sessionStart, barsPerYear: barsPerSession * 252 };
}
