import { CalendarGap, Timeframe } from '@strata/marketdata-contracts';
import type { BarsParseResult } from './bars';
import { parseBarsCsv } from './bars-csv.parser';
import { barsContentHash, formatIsoUtc, inferTradingCalendar, type TradingCalendar } from '@strata/shared-timeseries';
import { findCalendarGaps } from './calendar-gaps';

/** A parsed, validated batch ready to commit: accepted bars, rejects, calendar gaps and the content hash. */
export interface BarBatch extends BarsParseResult {
  timeframe: Timeframe;
  /** Calendar the gaps were measured against. */
  calendar: TradingCalendar;
  /** Holes in the calendar between accepted bars; recorded, not filled. */
  gaps: CalendarGap[];
  /** {@link barsContentHash} of the accepted bars. */
  contentHash: string;
  /** First accepted bar time, ISO-8601 UTC; null when no row was accepted. */
  from: string | null;
  /** Last accepted bar time, ISO-8601 UTC; null when no row was accepted. */
  to: string | null;
}

/** Options of {@link readBarsCsv}. */
export interface ReadBarsOptions {
  timeframe: Timeframe;
  /** Calendar for gap detection; `auto` (default) uses {@link inferTradingCalendar}. */
  calendar?: TradingCalendar | 'auto';
}

/**
 * Parses and validates a bars CSV ({@link parseBarsCsv}), then measures calendar gaps and hashes the accepted
 * rows. Pure: no I/O. Throws `BarsCsvFormatError` for an empty input or a malformed header.
 */
export function readBarsCsv(input: string | Uint8Array, options: ReadBarsOptions): BarBatch {
  const parsed = parseBarsCsv(input);
  const { bars } = parsed;
  const calendar = !options.calendar || options.calendar === 'auto' ? inferTradingCalendar(bars.ts, bars.length) : options.calendar;
  return {
    ...parsed,
    timeframe: options.timeframe,
    calendar,
    gaps: findCalendarGaps(bars.ts, options.timeframe, calendar, bars.length),
    contentHash: barsContentHash(bars),
    from: bars.length ? formatIsoUtc(bars.ts[0]) : null,
    to: bars.length ? formatIsoUtc(bars.ts[bars.length - 1]) : null,
  };
}
