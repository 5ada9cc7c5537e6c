import { RejectedRow, Timeframe } from '@strata/marketdata-contracts';

/**
 * One series of OHLCV bars as columns: one typed array per field, all of one length, rows strictly increasing in `ts`.
 * Times are bar start times in epoch milliseconds UTC (daily bars: 00:00 UTC of the trading date); prices in quote
 * currency (raw or adjusted: the type that extends or the function that takes it says which); volume in units traded
 * (shares, coins, contracts). The shape every domain lib (sentinel, backtest, synthetic) reads bars in.
 */
export interface OhlcvSeries {
  /** Bar start time, epoch ms UTC. */
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/**
 * A window of one (symbol, timeframe) series, as read from a store of bars or of values computed from bars.
 * Times in epoch ms UTC: `from` / `to` inclusive, `after` exclusive (the cursor of a page); `limit` caps the rows
 * returned (ascending `ts`). Absent bounds mean unbounded.
 */
export interface SeriesWindow {
  symbol: string;
  timeframe: Timeframe;
  from?: number;
  to?: number;
  after?: number;
  limit?: number;
}

/**
 * A batch of OHLCV bars in columnar form, all columns of length `length`. Prices are in currency units exactly as
 * given by the source (no adjustment).
 */
export interface BarColumns extends OhlcvSeries {
  /** Number of bars. */
  length: number;
  /** Split- and dividend-adjusted close when the source has an `adj_close` column, otherwise null. */
  adjClose: Float64Array | null;
}

/** Accepted bars plus, for each, the 1-based line in the source file it came from (header = line 1). */
export interface ParsedBars extends BarColumns {
  /** Source line of each accepted bar. */
  line: Uint32Array;
}

/** Outcome of parsing and validating one CSV file: every data row is either accepted or listed in `rejects`. */
export interface BarsParseResult {
  bars: ParsedBars;
  /** Every rejected data row, in file order, with its line number, stable reason code and a human message. */
  rejects: RejectedRow[];
  /** Data rows read (accepted + rejected); blank trailing lines are not rows. */
  rowsRead: number;
  /** Column names in file order, lower-cased. */
  columns: string[];
}

/**
 * Thrown when a CSV cannot be read at all (empty input, malformed header). `line` names the offending line
 * (1-based, the header is line 1); data-row problems never throw, they become rejects.
 */
export class BarsCsvFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'BarsCsvFormatError';
  }
}
