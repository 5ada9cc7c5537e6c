import { mulberry32 } from '@strata/shared-random';
import type { OhlcvColumns } from './ohlcv';

/**
 * Deterministic synthetic daily-like OHLCV bars for benchmarks and property tests: a seeded random walk in
 * log price (volatility 1% per bar) with a weak pull back to `startPrice` (0.1% of the log distance per bar,
 * so a million bars stay within a realistic price range), open near the previous close, high/low outside
 * [open, close], log-normal volume (median 1,000,000). Same `seed` and `n` give bit-identical bars.
 * Not a market model: the market-data synthetic generator (regimes, jumps, labelled anomalies) lives elsewhere.
 */
export function randomWalkBars(n: number, seed = 42, startPrice = 100): OhlcvColumns {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const rand = mulberry32(seed);
  const normal = (): number => {
    // Box-Muller; 1 - u keeps the argument of log in (0, 1].
    const u = 1 - rand();
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  const anchor = Math.log(startPrice);
  let prev = startPrice;
  for (let i = 0; i < n; i++) {
    const o = prev * Math.exp(0.002 * normal());
    const c = o * Math.exp(0.001 * (anchor - Math.log(o)) + 0.01 * normal());
    open[i] = o;
    close[i] = c;
    high[i] = Math.max(o, c) * Math.exp(Math.abs(0.005 * normal()));
    low[i] = Math.min(o, c) * Math.exp(-Math.abs(0.005 * normal()));
    volume[i] = Math.round(1_000_000 * Math.exp(0.5 * normal()));
    prev = c;
  }
  return { open, high, low, close, volume };
}
