import type { BarColumns, RejectedRow } from '@strata/marketdata-contracts';

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
