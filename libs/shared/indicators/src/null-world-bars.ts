import { Xoshiro128ss } from '@strata/shared-random';
import type { OhlcvColumns } from './ohlcv';

/**
 * A "null world" of a series for the leakage guard: the same bar times, and bars rebuilt from a seeded permutation of
 * the series' own bar-to-bar moves (open, high, low and close relative to the previous close, and volume, moved
 * together). Every marginal property of one bar's move is kept, while the order of moves is random, so nothing in the
 * past predicts the future. A feature computed point-in-time then has no information about the forward return, and
 * one that reads a later bar still does (it reads the permuted future), which is what the guard detects.
 * Bar 0 is kept. Deterministic in (`bars`, `seed`).
 */
export function nullWorldBars(bars: OhlcvColumns, seed: number): OhlcvColumns {
  const n = bars.close.length;
  const perm = Int32Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1);
  const rng = new Xoshiro128ss(seed, 5);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  if (n === 0) return { open, high, low, close, volume };
  open[0] = bars.open[0];
  high[0] = bars.high[0];
  low[0] = bars.low[0];
  close[0] = bars.close[0];
  volume[0] = bars.volume[0];
  for (let t = 1; t < n; t++) {
    const s = perm[t - 1];
    const prev = bars.close[s - 1];
    const c = close[t - 1];
    open[t] = (c * bars.open[s]) / prev;
    high[t] = (c * bars.high[s]) / prev;
    low[t] = (c * bars.low[s]) / prev;
    close[t] = (c * bars.close[s]) / prev;
    volume[t] = bars.volume[s];
  }
  return { open, high, low, close, volume };
}
