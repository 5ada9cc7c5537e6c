import { Xoshiro128ss } from '@strata/shared-random';

/** A Markov-switching price series with known regimes (for tests, the evaluation and the benchmark). */
export interface RegimeSeriesSpec {
  /** Seed (same seed and spec → the same series on every platform). */
  seed: number;
  /** Number of bars. */
  bars: number;
  /** Row-stochastic transition matrix between regimes (row i: next regime given regime i). */
  transition: number[][];
  /** Mean log return per bar of each regime. */
  drift: number[];
  /** Standard deviation of the log return per bar of each regime (fraction, e.g. 0.01 = 1 %). */
  vol: number[];
  /** First close. Default 100. */
  startPrice?: number;
  /** Regime of bar 0. Default 0. */
  startRegime?: number;
}

/** Generated series: closes and the true regime of each bar (the regime that drew the bar's log return). */
export interface RegimeSeries {
  close: Float64Array;
  regime: Uint8Array;
}

/**
 * Markov-switching Gaussian log returns: regime_t follows the chain, r_t ~ N(drift[regime_t], vol[regime_t]²),
 * close_t = close_{t−1} · exp(r_t). Regimes are drawn on stream 1 and returns on stream 2 of the seed, so changing the
 * vols never changes the regime path.
 */
export function generateRegimeSeries(spec: RegimeSeriesSpec): RegimeSeries {
  const k = spec.transition.length;
  for (const row of spec.transition)
    if (row.length !== k || Math.abs(row.reduce((a, b) => a + b, 0) - 1) > 1e-9)
      throw new RangeError('transition must be a square row-stochastic matrix');
  const regimes = new Xoshiro128ss(spec.seed, 1);
  const shocks = new Xoshiro128ss(spec.seed, 2);
  const close = new Float64Array(spec.bars);
  const regime = new Uint8Array(spec.bars);
  let s = spec.startRegime ?? 0;
  let price = spec.startPrice ?? 100;
  for (let t = 0; t < spec.bars; t++) {
    if (t > 0) {
      const u = regimes.uniform();
      let acc = 0;
      let next = k - 1;
      for (let j = 0; j < k; j++) {
        acc += spec.transition[s][j];
        if (u < acc) {
          next = j;
          break;
        }
      }
      s = next;
      price *= Math.exp(spec.drift[s] + spec.vol[s] * shocks.normal());
    }
    regime[t] = s;
    close[t] = price;
  }
  return { close, regime };
}
