import type { RejectReason } from './marketdata.contracts';

/** A row a source decoder could not read (a field that is no number or no time, a wrong field count, a blank line). */
export interface UnreadableRow {
  /** Index of the row in its {@link BarRows}. */
  row: number;
  reason: RejectReason;
  message: string;
}

/**
 * Rows of OHLCV bars as a source decoder read them (CSV text, Parquet columns, Alpha Vantage JSON, generated arrays),
 * before validation: `validateBars` of `@strata/marketdata-domain` turns them into accepted bars and rejects. Rows are
 * in source order; each column holds at least `length` values, finite for every row not listed in `unreadable` (times
 * in epoch ms UTC, prices in quote currency, -0 already read as +0); an unreadable row has no meaningful values.
 */
export interface BarRows {
  /** Rows read: data rows of the source, blank lines between rows included, trailing blank lines not. */
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  /** The `adj_close` column when the source has one, otherwise null. */
  adjClose: Float64Array | null;
  /**
   * Where each row is reported, 1-based: its line in a CSV (the header is line 1); for sources without lines (Parquet,
   * JSON, arrays) row i (0-based) is line i + 2, as if under a header line.
   */
  line: Uint32Array;
  /** Rows that could not be read, in ascending `row` order; their rejects come first in validation. */
  unreadable: UnreadableRow[];
  /** Column names in source order, lower-cased (`timestamp,open,high,low,close,volume[,adj_close]` for fixed shapes). */
  columns: string[];
}
