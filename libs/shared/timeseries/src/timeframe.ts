import { DAY_MS, weekday } from './iso-time';
import type { TradingCalendar } from './trading-calendar';

/**
 * Length of one bar of each timeframe, in ms. Its keys are the bar timeframes of the platform, the same literals as
 * `TimeframeSchema` of `@strata/marketdata-contracts` (a spec there checks that the two lists agree).
 */
export const TIMEFRAME_MS = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': DAY_MS,
} as const satisfies Record<string, number>;

/** A bar timeframe, as a key of {@link TIMEFRAME_MS} (structurally the `Timeframe` of the market-data contracts). */
export type BarTimeframe = keyof typeof TIMEFRAME_MS;

/**
 * Picks a calendar from the data itself: a series with any bar on a Saturday or Sunday (UTC date) trades every day
 * (`24x7`, e.g. crypto); otherwise it is taken as a US exchange-traded series (`nyse`). Reads the first `length` bars.
 */
export function inferTradingCalendar(ts: Float64Array, length: number = ts.length): TradingCalendar {
  for (let i = 0; i < length; i++) {
    const w = weekday(Math.floor(ts[i] / DAY_MS));
    if (w === 0 || w === 6) return '24x7';
  }
  return 'nyse';
}
