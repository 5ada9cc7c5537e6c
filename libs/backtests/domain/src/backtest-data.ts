import { type Timeframe, type OhlcvSeries } from '@strata/marketdata-contracts';
import { annualisationFactor, type AnnualisationCalendar } from '@strata/shared-indicators';
import { inferTradingCalendar } from '@strata/shared-timeseries';

/**
 * One symbol's bars in ascending time, as columns. Times are bar starts in epoch ms UTC; prices in quote currency
 * (adjusted as the strategy asked); volume in units traded. The engine reads the whole history (indicators warm up on
 * it) and trades only the window `[from, to]` of the request.
 */
export interface SymbolBars extends OhlcvSeries {
  symbol: string;
  /**
   * Point-in-time series computed elsewhere, aligned to `ts`: `signal:<name>` (ML signal scores) and
   * `regime:<name>` (regime probabilities). The value at bar t must only depend on data up to t.
   */
  external?: Readonly<Record<string, Float64Array>>;
}

/** Everything a backtest reads: the bars of each symbol of the universe (same order as the universe). */
export interface BacktestData {
  timeframe: Timeframe;
  symbols: readonly SymbolBars[];
}

/** Raised for unusable input data; `symbol`, `field` and `index` name the first problem. */
export class InvalidBacktestDataError extends Error {
  constructor(
    readonly symbol: string,
    readonly field: string,
    readonly index: number,
    message: string,
  ) {
    super(`${symbol}: ${message}`);
    this.name = 'InvalidBacktestDataError';
  }
}

/**
 * Checks bars before a run: equal column lengths, strictly increasing finite times, finite prices > 0 with
 * low ≤ open, close ≤ high, finite volume ≥ 0, external columns of the right length. Throws
 * {@link InvalidBacktestDataError}; never repairs anything.
 */
export function validateBacktestData(data: BacktestData): void {
  for (const b of data.symbols) {
    const n = b.ts.length;
    for (const f of ['open', 'high', 'low', 'close', 'volume'] as const) {
      if (b[f].length !== n)
        throw new InvalidBacktestDataError(b.symbol, f, -1, `${f} has ${b[f].length} values, ts has ${n}`);
    }
    for (const [k, col] of Object.entries(b.external ?? {})) {
      if (col.length !== n)
        throw new InvalidBacktestDataError(
          b.symbol,
          k,
          -1,
          `external column ${k} has ${col.length} values, ts has ${n}`,
        );
    }
    let prev = -Infinity;
    for (let i = 0; i < n; i++) {
      const t = b.ts[i];
      if (!(t > prev) || !Number.isFinite(t))
        throw new InvalidBacktestDataError(b.symbol, 'ts', i, `ts[${i}] = ${t} is not after the previous bar`);
      prev = t;
      const o = b.open[i];
      const h = b.high[i];
      const l = b.low[i];
      const c = b.close[i];
      if (!(o > 0 && h > 0 && l > 0 && c > 0 && h < Infinity))
        throw new InvalidBacktestDataError(b.symbol, 'price', i, `bar ${i}: prices must be finite and > 0`);
      if (!(l <= o && l <= c && o <= h && c <= h))
        throw new InvalidBacktestDataError(b.symbol, 'price', i, `bar ${i}: open/close outside [low, high]`);
      const v = b.volume[i];
      if (!(v >= 0 && v < Infinity))
        throw new InvalidBacktestDataError(b.symbol, 'volume', i, `bar ${i}: volume must be finite and ≥ 0`);
    }
  }
}

/** Calendar of a series for annualisation: `crypto-24x7` when a weekend bar appears in its first 64 bars. */
export function seriesCalendar(ts: Float64Array): AnnualisationCalendar {
  return inferTradingCalendar(ts, Math.min(ts.length, 64)) === '24x7' ? 'crypto-24x7' : 'us-equity';
}

/** Bars per year of one series (252 for daily US equities, 365 for daily crypto, see `annualisationFactor`). */
export function barsPerYearOf(timeframe: Timeframe, ts: Float64Array): number {
  return annualisationFactor(timeframe, seriesCalendar(ts));
}

/**
 * Periods per year of a portfolio timeline, for annualising KPIs: the largest bars-per-year among its symbols (a
 * universe mixing a 24x7 market with equities steps every calendar day).
 */
export function timelinePeriodsPerYear(data: BacktestData): number {
  let p = 0;
  for (const s of data.symbols) p = Math.max(p, barsPerYearOf(data.timeframe, s.ts));
  return p || annualisationFactor(data.timeframe, 'us-equity');
}
