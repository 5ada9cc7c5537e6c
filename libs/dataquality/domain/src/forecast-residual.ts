/**
 * Forecast-residual detector: a one-step-ahead forecast with a prediction interval for the log close and the log
 * volume of each bar, and a score for how far the actual value lies outside the interval.
 *
 * Why a closed form and not a fitted ETS: findings must not depend on where a batch starts, so each bar needs its own
 * forecast fitted only on a fixed trailing window, i.e. one fit per bar, and a library ETS fit per bar would cap the
 * sentinel at a few hundred bars/s (measured: docs/sentinel.md, "Forecast-residual detector"). On log prices close to
 * a random walk ETS selects α ≈ 1 anyway, so the price model is a random walk with drift (drift and scale from the
 * trailing window) and volume uses simple exponential smoothing with a fixed α restarted at the start of the window:
 * O(window) per bar and exact under batching. Intraday time-of-day seasonality of volume is not modelled.
 */

/**
 * Score of an actual value `absError` away from the point forecast, for a prediction interval of half-width
 * `halfWidth`: 0 inside the interval, then 1 − exp(−(u − 1)) with u = absError / halfWidth (0.63 at twice the
 * half-width, 0.95 at four times). Returns 0 for a non-positive or non-finite half-width.
 */
export function intervalExcessScore(absError: number, halfWidth: number): number {
  if (!(halfWidth > 0) || !Number.isFinite(absError)) return 0;
  const u = absError / halfWidth;
  return u <= 1 ? 0 : 1 - Math.exp(1 - u);
}

/** One-step simple-exponential-smoothing forecast of a window and the RMS of its in-window one-step errors. */
export interface SesForecast {
  /** Forecast of the value after the window. */
  level: number;
  /** Root mean square of the one-step errors inside the window (the interval scale). */
  rmse: number;
}

/**
 * Simple exponential smoothing (ETS(A,N,N), fixed α) over `y[from .. to)`, started at `y[from]`: returns the forecast
 * of `y[to]` and the RMS of the in-window one-step errors. Needs `to − from ≥ 2`. Writes into `out` to avoid allocation.
 */
export function sesForecast(y: Float64Array, from: number, to: number, alpha: number, out: SesForecast): SesForecast {
  let level = y[from];
  let sse = 0;
  for (let j = from + 1; j < to; j++) {
    const err = y[j] - level;
    sse += err * err;
    level += alpha * err;
  }
  out.level = level;
  out.rmse = Math.sqrt(sse / Math.max(1, to - from - 1));
  return out;
}
