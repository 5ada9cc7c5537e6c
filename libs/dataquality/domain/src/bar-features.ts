import { intervalExcessScore, sesForecast, type SesForecast } from './forecast-residual';
import type { SentinelConfig } from './sentinel.config';
import { type OhlcvSeries } from '@strata/marketdata-contracts';

/** Number of Isolation Forest features per bar. */
export const FEATURE_COUNT = 6;
/** Feature names in column order of {@link BarStats.features}. */
export const FEATURE_NAMES = [
  'log_return',
  'range_over_close',
  'overnight_gap',
  'volume_z',
  'close_vs_median',
  'return_sigmas',
] as const;

/** Bars whose price was printed with the previous close on every field: O = H = L = C = previous close. */
export function isStaleBar(bars: OhlcvSeries, i: number): boolean {
  if (i < 1) return false;
  const p = bars.close[i - 1];
  return bars.open[i] === p && bars.high[i] === p && bars.low[i] === p && bars.close[i] === p;
}

/** True when a bar's prices are finite, positive and OHLC-consistent (low ≤ open, close ≤ high). */
export function isConsistentBar(bars: OhlcvSeries, i: number): boolean {
  const o = bars.open[i];
  const h = bars.high[i];
  const l = bars.low[i];
  const c = bars.close[i];
  return l > 0 && h >= l && o >= l && o <= h && c >= l && c <= h && Number.isFinite(h);
}

/**
 * Per-bar window statistics, features and forecast residuals of one series, computed for bars `[from, n)`.
 * Every value of bar i depends only on bars `[i − windowBars, i]`, so it is identical whatever earlier history the
 * columns hold (the property that makes batched scoring equal to one pass).
 */
export interface BarStats {
  /** First bar computed (≥ windowBars). */
  from: number;
  /** 1 when bar i's features are complete and finite (consistent prices, enough valid history). */
  valid: Uint8Array;
  /** 1 when bar i is stale (see {@link isStaleBar}). */
  stale: Uint8Array;
  /** Log return close(i−1) → close(i). */
  ret: Float64Array;
  /**
   * Robust per-bar volatility of log returns from bars before i: the RMS of 1.4826·median|r| (close to close) and the
   * median Parkinson estimate ln(H/L)/(2√ln2) (intraday), so neither an overnight-free range nor a noisy 19-return MAD
   * alone sets the scale (the max of the two overstated σ by up to 2× and hid spikes, measured on the tuning seeds).
   */
  sigma: Float64Array;
  /** Median Parkinson volatility ln(H/L)/(2√ln2) of the window's bars (the intraday range scale; 0 when unknown). */
  rangeSigma: Float64Array;
  /** Mean log return of the window (the drift of the random-walk forecast). */
  drift: Float64Array;
  /** Forecast-residual score of the close (0 inside the interval). */
  priceResidual: Float64Array;
  /** Forecast-residual score of the log volume (0 inside the interval; 0 when volume is not traded). */
  volumeResidual: Float64Array;
  /** Signed log-volume error over its interval half-width (> 0: more volume than forecast). */
  volumeSurprise: Float64Array;
  /** Row-major features, {@link FEATURE_COUNT} per bar (row i at i·FEATURE_COUNT). */
  features: Float64Array;
}

/** Parkinson (1980): σ ≈ ln(H/L) / (2√ln 2) for one bar of Brownian motion. */
export const PARKINSON = 1 / (2 * Math.sqrt(Math.LN2));
const MAD_TO_SIGMA = 1.482602218505602; // 1 / Φ⁻¹(0.75)
const MIN_SIGMA = 1e-6;

/** Median of `buf[0 .. len)` by insertion sort (reorders the buffer; len ≤ a few dozen). */
function medianInPlace(buf: Float64Array, len: number): number {
  for (let a = 1; a < len; a++) {
    const v = buf[a];
    let b = a - 1;
    while (b >= 0 && buf[b] > v) {
      buf[b + 1] = buf[b];
      b--;
    }
    buf[b + 1] = v;
  }
  const m = len >> 1;
  return len % 2 === 1 ? buf[m] : 0.5 * (buf[m - 1] + buf[m]);
}

/**
 * Computes {@link BarStats} for bars `[max(from, windowBars), n)` of `bars`.
 *
 * Features of bar i (W = windowBars, all windows are bars i − W .. i − 1, stale and inconsistent bars skipped where
 * they would bias a scale):
 * 1. `log_return` ln(c_i / c_{i−1});
 * 2. `range_over_close` (h_i − l_i) / c_i;
 * 3. `overnight_gap` o_i / c_{i−1} − 1;
 * 4. `volume_z` z-score of ln(1 + v_i) against the window's mean and standard deviation (0 when volume is not traded);
 * 5. `close_vs_median` c_i / median(c) − 1;
 * 6. `return_sigmas` (r_i − drift) / σ_i: the move in units of the bar's own recent volatility. Justification: the
 *    forest splits on raw axes, and raw returns mix regimes (a 3 % day is ordinary at 4 % volatility and extreme at
 *    0.8 %); the scale-free move lets one forest serve calm and volatile stretches of the same fitting window.
 *
 * The forecast residuals use the same windows: log close ~ random walk with drift (interval ±z·σ_i), log volume ~
 * SES with elasticity to the bar's absolute move (see forecast-residual.ts).
 */
export function computeBarStats(bars: OhlcvSeries, from: number, cfg: SentinelConfig, volumeTraded: boolean): BarStats {
  const n = bars.ts.length;
  const W = cfg.windowBars;
  const start = Math.max(from, W);
  const valid = new Uint8Array(n);
  const stale = new Uint8Array(n);
  const ret = new Float64Array(n);
  const sigma = new Float64Array(n);
  const drift = new Float64Array(n);
  const rangeSigma = new Float64Array(n);
  const priceResidual = new Float64Array(n);
  const volumeResidual = new Float64Array(n);
  const volumeSurprise = new Float64Array(n);
  const features = new Float64Array(n * FEATURE_COUNT);
  const stats: BarStats = {
    from: start,
    valid,
    stale,
    ret,
    sigma,
    rangeSigma,
    drift,
    priceResidual,
    volumeResidual,
    volumeSurprise,
    features,
  };
  if (start >= n) return stats;
  const { open, high, low, close, volume } = bars;
  const z = cfg.forecast.intervalZ;
  const elasticity = cfg.forecast.volumeElasticity;
  const alpha = cfg.forecast.volumeAlpha;

  // Per-bar inputs over the whole span the windows touch.
  const lo = start - W;
  const consistent = new Uint8Array(n);
  const logVol = new Float64Array(n);
  for (let i = lo; i < n; i++) {
    consistent[i] = isConsistentBar(bars, i) ? 1 : 0;
    stale[i] = isStaleBar(bars, i) ? 1 : 0;
    const v = volume[i];
    logVol[i] = v > 0 ? Math.log1p(v) : 0;
  }
  // Per-bar inputs of the scale estimates, computed once: log return (NaN when it must not count: an inconsistent
  // bar or neighbour, or a stale bar) and the Parkinson term (0 when the range is empty).
  const usableRet = new Float64Array(n).fill(NaN);
  const parkOf = new Float64Array(n);
  for (let j = lo + 1; j < n; j++) {
    if (consistent[j] === 1 && consistent[j - 1] === 1 && stale[j] === 0) {
      usableRet[j] = Math.log(close[j] / close[j - 1]);
      const hl = Math.log(high[j] / low[j]);
      parkOf[j] = hl > 0 ? hl * PARKINSON : 0;
    }
  }
  const absRet = new Float64Array(W);
  const park = new Float64Array(W);
  const closes = new Float64Array(W);
  const ses: SesForecast = { level: 0, rmse: 0 };

  for (let i = start; i < n; i++) {
    const c = close[i];
    const pc = close[i - 1];
    const r = Math.log(c / pc);
    ret[i] = r;
    let nr = 0;
    let np = 0;
    let nc = 0;
    let sumR = 0;
    let sumV = 0;
    let sumV2 = 0;
    for (let j = i - W; j < i; j++) {
      if (consistent[j] === 1) closes[nc++] = close[j];
      const rj = usableRet[j];
      if (j > i - W && rj === rj) {
        absRet[nr++] = rj < 0 ? -rj : rj;
        sumR += rj;
        if (parkOf[j] > 0) park[np++] = parkOf[j];
      }
      sumV += logVol[j];
      sumV2 += logVol[j] * logVol[j];
    }
    if (consistent[i] === 0 || consistent[i - 1] === 0 || nr < Math.min(5, W - 1) || nc < Math.min(5, W)) continue;
    const madSigma = MAD_TO_SIGMA * medianInPlace(absRet, nr);
    const parkSigma = np >= 3 ? medianInPlace(park, np) : 0;
    const s = Math.max(
      parkSigma > 0 ? Math.sqrt(0.5 * (madSigma * madSigma + parkSigma * parkSigma)) : madSigma,
      MIN_SIGMA,
    );
    const mu = sumR / nr;
    sigma[i] = s;
    rangeSigma[i] = parkSigma;
    drift[i] = mu;
    const med = medianInPlace(closes, nc);
    const move = (r - mu) / s;
    priceResidual[i] = intervalExcessScore(Math.abs(r - mu), z * s);

    let volZ = 0;
    if (volumeTraded) {
      const mean = sumV / W;
      const sd = Math.sqrt(Math.max(0, sumV2 / W - mean * mean));
      volZ = (logVol[i] - mean) / Math.max(sd, 1e-3);
      if (volZ > 50) volZ = 50;
      else if (volZ < -50) volZ = -50;
      sesForecast(logVol, i - W, i, alpha, ses);
      const absMove = move < 0 ? -move : move;
      const expected = ses.level + elasticity * Math.max(0, absMove - 0.8);
      const hw = z * Math.max(ses.rmse, 0.05);
      const err = logVol[i] - expected;
      volumeSurprise[i] = err / hw;
      volumeResidual[i] = intervalExcessScore(err < 0 ? -err : err, hw);
    }
    const row = i * FEATURE_COUNT;
    features[row] = r;
    features[row + 1] = (high[i] - low[i]) / c;
    features[row + 2] = open[i] / pc - 1;
    features[row + 3] = volZ;
    features[row + 4] = c / med - 1;
    features[row + 5] = move > 1e3 ? 1e3 : move < -1e3 ? -1e3 : move;
    let ok = 1;
    for (let k = 0; k < FEATURE_COUNT; k++) if (!Number.isFinite(features[row + k])) ok = 0;
    valid[i] = ok;
  }
  return stats;
}
