import { type CalendarGap, type Timeframe } from '@strata/marketdata-contracts';
import {
  DAY_MS,
  formatIsoUtc,
  TIMEFRAME_MS,
  tradingDaysBetween,
  type TradingCalendar,
} from '@strata/shared-timeseries';

/**
 * Holes in the expected calendar between consecutive bars of a strictly increasing series. Gaps are recorded,
 * never filled. `after`/`before` are the bars on either side (ISO-8601 UTC); `missingBars` counts expected bars
 * strictly between them.
 *
 * - `1d`: every trading day of `calendar` strictly between two bars' UTC dates is a missing bar.
 * - intraday on `24x7`: every step of the timeframe between two bars is a missing bar
 *   (`ceil(Δt / step) − 1`, so off-grid bars do not hide a hole).
 * - intraday on `nyse`/`weekdays` (session markets): bars are grouped into sessions by UTC date (US sessions never
 *   cross 00:00 UTC). Inside a session every missing step counts; overnight and weekends do not. Whole trading days
 *   with no bar at all are reported as one gap whose `missingBars` is the number of missing sessions times the
 *   largest number of bars seen in one session of this series (an estimate: early closes have fewer bars).
 *   A late open or early close inside a session is not detected.
 */
export function findCalendarGaps(
  ts: Float64Array,
  timeframe: Timeframe,
  calendar: TradingCalendar,
  length: number = ts.length,
): CalendarGap[] {
  const gaps: CalendarGap[] = [];
  if (length < 2) return gaps;
  const step = TIMEFRAME_MS[timeframe];
  const push = (i: number, missing: number): void => {
    gaps.push({ after: formatIsoUtc(ts[i - 1]), before: formatIsoUtc(ts[i]), missingBars: missing });
  };
  if (timeframe === '1d') {
    let prevDay = Math.floor(ts[0] / DAY_MS);
    for (let i = 1; i < length; i++) {
      const day = Math.floor(ts[i] / DAY_MS);
      if (day - prevDay > 1) {
        const missing = tradingDaysBetween(calendar, prevDay, day);
        if (missing > 0) push(i, missing);
      }
      prevDay = day;
    }
    return gaps;
  }
  if (calendar === '24x7') {
    for (let i = 1; i < length; i++) {
      const delta = ts[i] - ts[i - 1];
      if (delta > step) push(i, Math.ceil(delta / step) - 1);
    }
    return gaps;
  }
  // Session market: first find the largest session (bars per UTC date).
  let barsPerSession = 1;
  let run = 1;
  for (let i = 1; i < length; i++) {
    if (Math.floor(ts[i] / DAY_MS) === Math.floor(ts[i - 1] / DAY_MS)) run++;
    else run = 1;
    if (run > barsPerSession) barsPerSession = run;
  }
  for (let i = 1; i < length; i++) {
    const a = Math.floor(ts[i - 1] / DAY_MS);
    const b = Math.floor(ts[i] / DAY_MS);
    if (a === b) {
      const delta = ts[i] - ts[i - 1];
      if (delta > step) push(i, Math.ceil(delta / step) - 1);
    } else {
      const sessions = tradingDaysBetween(calendar, a, b);
      if (sessions > 0) push(i, sessions * barsPerSession);
    }
  }
  return gaps;
}
