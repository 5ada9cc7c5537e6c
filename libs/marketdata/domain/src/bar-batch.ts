import type { BarRows, CalendarGap, RejectedRow, Timeframe } from '@strata/marketdata-contracts';
import { barsContentHash, formatIsoUtc, inferTradingCalendar, type TradingCalendar } from '@strata/shared-timeseries';
import type { BarsParseResult } from './bars';
import { ADJ_ROLE, BAR_COLUMNS, barColumn } from './bar-rows';
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

/** Options of {@link validateBars} (and `readBarsCsv`). */
export interface ReadBarsOptions {
  timeframe: Timeframe;
  /** Calendar for gap detection; `auto` (default) uses {@link inferTradingCalendar}. */
  calendar?: TradingCalendar | 'auto';
}

const OPEN = 1;
const HIGH = 2;
const LOW = 3;
const CLOSE = 4;

/**
 * Validates decoded rows, losing nothing: every row is either accepted or returned in `rejects` with its line, a
 * stable reason code and a message. Rows the decoder could not read are rejected with the decoder's reason; then,
 * first failure wins: price (open, high, low, close, adj_close) ≤ 0 (`non_positive_price`), volume < 0
 * (`negative_volume`), high < low (`high_below_low`), open or close outside [low, high] (`open_close_outside_range`),
 * then against the last accepted row: same time (`duplicate_timestamp`) or earlier (`out_of_order`).
 *
 * Pure and non-destructive: `rows` is not modified. When every row is accepted the bars are views of its columns (no
 * copy, unless more than 1/64 of the arrays is spare capacity); otherwise the accepted rows are copied.
 */
export function validateBarRows(rows: BarRows): BarsParseResult {
  const n = rows.length;
  const { ts, open, high, low, close, volume, adjClose: adj, line, unreadable } = rows;
  const rejects: RejectedRow[] = [];
  const rejectedRows: number[] = [];
  let k = 0;
  let u = 0;
  let nextUnreadable = unreadable.length ? unreadable[0].row : -1;
  let lastTs = -Infinity;
  let lastRow = -1;
  for (let r = 0; r < n; r++) {
    if (r === nextUnreadable) {
      const x = unreadable[u++];
      rejects.push({ line: line[r], reason: x.reason, message: x.message });
      rejectedRows.push(r);
      nextUnreadable = u < unreadable.length ? unreadable[u].row : -1;
      continue;
    }
    const o = open[r];
    const h = high[r];
    const l = low[r];
    const c = close[r];
    const vol = volume[r];
    const t = ts[r];
    // Decoded values are never NaN, so this is exactly "none of the checks below fails" (one branch per good row).
    if (
      o > 0 &&
      h > 0 &&
      l > 0 &&
      c > 0 &&
      (adj === null || adj[r] > 0) &&
      vol >= 0 &&
      h >= l &&
      o >= l &&
      o <= h &&
      c >= l &&
      c <= h &&
      t > lastTs
    ) {
      k++;
      lastTs = t;
      lastRow = r;
      continue;
    }
    const lastLine = lastRow < 0 ? 0 : line[lastRow];
    if (o <= 0 || h <= 0 || l <= 0 || c <= 0 || (adj !== null && adj[r] <= 0)) {
      const which = o <= 0 ? OPEN : h <= 0 ? HIGH : l <= 0 ? LOW : c <= 0 ? CLOSE : ADJ_ROLE;
      rejects.push({
        line: line[r],
        reason: 'non_positive_price',
        message: `${BAR_COLUMNS[which]} ${barColumn(rows, which)[r]} is not positive`,
      });
    } else if (vol < 0) {
      rejects.push({ line: line[r], reason: 'negative_volume', message: `volume ${vol} is negative` });
    } else if (h < l) {
      rejects.push({ line: line[r], reason: 'high_below_low', message: `high ${h} is below low ${l}` });
    } else if (o < l || o > h || c < l || c > h) {
      const which = o < l || o > h ? OPEN : CLOSE;
      rejects.push({
        line: line[r],
        reason: 'open_close_outside_range',
        message: `${BAR_COLUMNS[which]} ${barColumn(rows, which)[r]} is outside [low ${l}, high ${h}]`,
      });
    } else if (t === lastTs) {
      rejects.push({
        line: line[r],
        reason: 'duplicate_timestamp',
        message: `timestamp ${formatIsoUtc(t)} repeats line ${lastLine}`,
      });
    } else {
      rejects.push({
        line: line[r],
        reason: 'out_of_order',
        message: `timestamp ${formatIsoUtc(t)} is earlier than ${formatIsoUtc(lastTs)} on line ${lastLine}`,
      });
    }
    rejectedRows.push(r);
  }

  const keep = <A extends Float64Array | Uint32Array>(arr: A): A => {
    if (k === n) {
      // Usually only the slot of a trailing newline is spare: a view then (no 60 MB copy per million rows).
      const capacity = arr.length;
      return (capacity === n ? arr : capacity - n <= capacity >> 6 ? arr.subarray(0, n) : arr.slice(0, n)) as A;
    }
    const out = new (arr.constructor as new (length: number) => A)(k);
    let j = 0;
    let from = 0;
    for (const bad of rejectedRows) {
      out.set(arr.subarray(from, bad), j);
      j += bad - from;
      from = bad + 1;
    }
    out.set(arr.subarray(from, n), j);
    return out;
  };
  return {
    bars: {
      length: k,
      ts: keep(ts),
      open: keep(open),
      high: keep(high),
      low: keep(low),
      close: keep(close),
      volume: keep(volume),
      adjClose: adj ? keep(adj) : null,
      line: keep(line),
    },
    rejects,
    rowsRead: n,
    columns: rows.columns,
  };
}

/**
 * The one validation every ingest source goes through: decoded rows (CSV text, Parquet columns, Alpha Vantage JSON,
 * generated arrays) in, a {@link BarBatch} out: accepted bars and rejects ({@link validateBarRows}), the calendar gaps
 * between accepted bars and their content hash. Pure: no I/O; `rows` is not modified.
 */
export function validateBars(rows: BarRows, options: ReadBarsOptions): BarBatch {
  const parsed = validateBarRows(rows);
  const { bars } = parsed;
  const calendar =
    !options.calendar || options.calendar === 'auto' ? inferTradingCalendar(bars.ts, bars.length) : options.calendar;
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
