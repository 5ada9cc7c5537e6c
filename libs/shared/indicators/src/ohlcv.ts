/**
 * One symbol's bars as columns, in ascending time order, all of one length. Prices in quote currency
 * (adjusted or raw as the caller chose), volume in the instrument's volume unit (shares, contracts, coins).
 */
export interface OhlcvColumns {
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

/** Why {@link validateOhlcv} rejected a column value. */
export type InvalidBarReason = 'length_mismatch' | 'non_finite' | 'non_positive_price' | 'negative_volume';

/**
 * Thrown when bars handed to the feature computation are unusable. Carries the column, the 0-based bar
 * index and a stable reason code so the caller can report it (the feature layer maps it to problem+json).
 */
export class InvalidBarsError extends RangeError {
  /** Stable reason code. */
  readonly reason: InvalidBarReason;
  /** Column holding the bad value (`open`, `high`, `low`, `close`, `volume`). */
  readonly field: keyof OhlcvColumns;
  /** 0-based bar index of the bad value, or -1 for a length mismatch. */
  readonly index: number;

  constructor(reason: InvalidBarReason, field: keyof OhlcvColumns, index: number, message: string) {
    super(message);
    this.name = 'InvalidBarsError';
    this.reason = reason;
    this.field = field;
    this.index = index;
  }
}

const PRICE_FIELDS = ['open', 'high', 'low', 'close'] as const;

/**
 * Checks bars before computing features: equal lengths, finite values, prices > 0, volume >= 0.
 * Returns the bar count. The ratio features divide by prices, so a zero or negative price would otherwise
 * surface as an infinite or meaningless feature instead of an error. O(n), about 1 ns per value.
 * @throws InvalidBarsError naming the first offending column and bar.
 */
export function validateOhlcv(bars: OhlcvColumns): number {
  const n = bars.close.length;
  for (const field of [...PRICE_FIELDS, 'volume'] as const) {
    const len = bars[field].length;
    if (len !== n) {
      throw new InvalidBarsError('length_mismatch', field, -1, `${field} has ${len} values, close has ${n}`);
    }
  }
  for (const field of PRICE_FIELDS) {
    const a = bars[field];
    for (let i = 0; i < n; i++) {
      const v = a[i];
      // `v > 0` is false for NaN too; tell the two apart only on the error path.
      if (!(v > 0 && v < Infinity)) {
        const reason = Number.isFinite(v) ? 'non_positive_price' : 'non_finite';
        throw new InvalidBarsError(reason, field, i, `${field}[${i}] = ${v}: prices must be finite and > 0`);
      }
    }
  }
  const vol = bars.volume;
  for (let i = 0; i < n; i++) {
    const v = vol[i];
    if (!(v >= 0 && v < Infinity)) {
      const reason = Number.isFinite(v) ? 'negative_volume' : 'non_finite';
      throw new InvalidBarsError(reason, 'volume', i, `volume[${i}] = ${v}: volume must be finite and >= 0`);
    }
  }
  return n;
}
