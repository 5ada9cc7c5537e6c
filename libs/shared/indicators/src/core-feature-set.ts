import type { BarTimeframe } from '@strata/shared-timeseries';
import { checkFrom } from './kernel-support';
import {
  cci,
  mfi,
  roc,
  rollingExtremes,
  rsi,
  simpleReturn,
  stochFastFromExtremes,
  willrFromExtremes,
} from './momentum.indicators';
import { emaRatio, macd, smaRatio } from './moving-average.indicators';
import { type OhlcvColumns, validateOhlcv } from './ohlcv';
import { adx } from './trend.indicators';
import {
  type AnnualisationCalendar,
  annualisationFactor,
  atr,
  bollinger,
  realizedVolatility,
} from './volatility.indicators';
import { obv, obvRate, volumeZScore } from './volume.indicators';

/**
 * Names of the `core` feature set, version 1, in their stable order (the column order of the feature view
 * and of every row the feature store returns). Other tools rely on these names: never rename within v1.
 */
export const CORE_V1_FEATURE_NAMES = [
  'ret_1',
  'ret_5',
  'ret_20',
  'sma_20_ratio',
  'ema_20_ratio',
  'macd',
  'macd_signal',
  'macd_hist',
  'rsi_14',
  'bb_pct_b',
  'bb_bandwidth',
  'atr_14',
  'stoch_k',
  'stoch_d',
  'willr_14',
  'cci_20',
  'adx_14',
  'obv',
  'mfi_14',
  'roc_10',
  'rv_20',
  'volume_z_20',
] as const;

/** One feature name of `core` v1. */
export type CoreFeatureName = (typeof CORE_V1_FEATURE_NAMES)[number];

/** Feature values of `core` v1 as columns, one Float64Array per feature, NaN where undefined (NULL). */
export type CoreFeatureColumns = Record<CoreFeatureName, Float64Array>;

/**
 * Names of the `core` feature set, version 2, in their stable order: v1 with its five unit-bearing columns replaced
 * IN PLACE by scale-free ones (`macd` → `macd_norm`, `macd_signal` → `macd_signal_norm`, `macd_hist` →
 * `macd_hist_norm`, `atr_14` → `natr_14`, `obv` → `obv_rate_20`); the other 17 columns are v1's, computed identically.
 * See {@link FEATURE_SET_CORE_V2} for the formulas.
 */
export const CORE_V2_FEATURE_NAMES = [
  'ret_1',
  'ret_5',
  'ret_20',
  'sma_20_ratio',
  'ema_20_ratio',
  'macd_norm',
  'macd_signal_norm',
  'macd_hist_norm',
  'rsi_14',
  'bb_pct_b',
  'bb_bandwidth',
  'natr_14',
  'stoch_k',
  'stoch_d',
  'willr_14',
  'cci_20',
  'adx_14',
  'obv_rate_20',
  'mfi_14',
  'roc_10',
  'rv_20',
  'volume_z_20',
] as const;

/** One feature name of `core` v2. */
export type CoreV2FeatureName = (typeof CORE_V2_FEATURE_NAMES)[number];

/** Feature values of `core` v2 as columns (NaN where undefined). */
export type CoreV2FeatureColumns = Record<CoreV2FeatureName, Float64Array>;

/** One feature of a feature-set definition. */
export interface FeatureDefinition {
  /** Column name, stable within the feature-set version. */
  readonly name: string;
  /** What the value is, with its unit. */
  readonly description: string;
  /** Parameters of the computation (periods, multipliers, conventions). */
  readonly params: Readonly<Record<string, number | string>>;
  /**
   * First bar index with a value (bars before it are NaN/NULL): the warm-up, as in TA-Lib's lookback with
   * unstable period 0. A value also needs `lookback` bars before it.
   */
  readonly lookback: number;
  /**
   * True when the value depends on every bar since the first (EMA / Wilder recursions, cumulative sums):
   * recomputing it exactly needs the whole history. False: only the last `lookback + 1` bars are read.
   */
  readonly dependsOnFullHistory: boolean;
  /** Where the definition comes from. */
  readonly source: string;
  /**
   * How a reference implementation computes it exactly from TA-Lib (Python `talib` on float64 arrays `o, h, l, c, v`),
   * for the `peer` parity tests; `shift(x, k)[t] = x[t − k]` (NaN before k).
   */
  readonly talib: string;
}

/** A named, immutable, versioned feature-set definition. */
export interface FeatureSetDefinition {
  /** Feature-set name (`core`). */
  readonly name: string;
  /** Integer version; a change of any output value is a new version, never an edit. */
  readonly version: number;
  /** Version of the code computing it, recorded with each materialisation for lineage. */
  readonly codeVersion: string;
  /** Index of the first bar at which every feature has a value (max lookback). */
  readonly warmUpBars: number;
  /** Features in their stable column order. */
  readonly features: readonly FeatureDefinition[];
}

/**
 * The TA-Lib (Python `talib`, float64 arrays `h, l, c, v`) or numpy expression equal to each `core` column, v1 and v2;
 * `shift(x, k)[t] = x[t − k]` (NaN for t < k). The `peer` parity tests evaluate these.
 */
const TALIB: Record<CoreFeatureName | CoreV2FeatureName, string> = {
  ret_1: 'ROCR(c, 1) - 1',
  ret_5: 'ROCR(c, 5) - 1',
  ret_20: 'ROCR(c, 20) - 1',
  sma_20_ratio: 'c / SMA(c, 20) - 1',
  ema_20_ratio: 'c / EMA(c, 20) - 1',
  macd: 'MACD(c, 12, 26, 9)[0]',
  macd_signal: 'MACD(c, 12, 26, 9)[1]',
  macd_hist: 'MACD(c, 12, 26, 9)[2]',
  macd_norm: 'MACD(c, 12, 26, 9)[0] / c',
  macd_signal_norm: 'MACD(c, 12, 26, 9)[1] / c',
  macd_hist_norm: 'MACD(c, 12, 26, 9)[2] / c',
  rsi_14: 'RSI(c, 14)',
  bb_pct_b:
    '(c - lower) / (upper - lower) with upper, middle, lower = BBANDS(c, 20, 2, 2, 0); NaN where upper == lower',
  bb_bandwidth: '(upper - lower) / middle with upper, middle, lower = BBANDS(c, 20, 2, 2, 0)',
  atr_14: 'ATR(h, l, c, 14)',
  natr_14: 'NATR(h, l, c, 14)  (= ATR(h, l, c, 14) / c * 100)',
  stoch_k: 'STOCHF(h, l, c, 14, 3, 0)[0]',
  stoch_d: 'STOCHF(h, l, c, 14, 3, 0)[1]',
  willr_14: 'WILLR(h, l, c, 14)',
  cci_20: 'CCI(h, l, c, 20)',
  adx_14: 'ADX(h, l, c, 14)',
  obv: 'OBV(c, v)',
  obv_rate_20: '(OBV(c, v) - shift(OBV(c, v), 20)) / SUM(v, 20); NaN where SUM(v, 20) == 0',
  mfi_14: 'MFI(h, l, c, v, 14)',
  roc_10: 'ROC(c, 10)',
  rv_20:
    'numpy: sample std (ddof=1) of the last 20 values of log(c[t] / c[t-1]) * sqrt(bars per year); first value at t = 20',
  volume_z_20:
    'numpy: (v - mean(v[t-19..t])) / std(v[t-19..t], ddof=1); NaN where that std == 0; first value at t = 19',
};

const TA = 'TA-Lib 0.8 (ta_func/ta_';
const FEATURES: FeatureDefinition[] = [
  f('ret_1', 'Simple return over 1 bar, close[t]/close[t-1] - 1 (fraction)', { period: 1 }, 1, false, 'ROCR - 1'),
  f('ret_5', 'Simple return over 5 bars (fraction)', { period: 5 }, 5, false, 'ROCR - 1'),
  f('ret_20', 'Simple return over 20 bars (fraction)', { period: 20 }, 20, false, 'ROCR - 1'),
  f('sma_20_ratio', 'close / SMA(20) - 1 (fraction)', { period: 20 }, 19, false, `${TA}SMA.c)`),
  f(
    'ema_20_ratio',
    'close / EMA(20) - 1, EMA seeded by the SMA of the first 20 closes (fraction)',
    { period: 20 },
    19,
    true,
    `${TA}EMA.c)`,
  ),
  f('macd', 'MACD line, EMA(12) - EMA(26) (price units)', { fast: 12, slow: 26, signal: 9 }, 33, true, `${TA}MACD.c)`),
  f(
    'macd_signal',
    'MACD signal, EMA(9) of the MACD line (price units)',
    { fast: 12, slow: 26, signal: 9 },
    33,
    true,
    `${TA}MACD.c)`,
  ),
  f('macd_hist', 'MACD line - signal (price units)', { fast: 12, slow: 26, signal: 9 }, 33, true, `${TA}MACD.c)`),
  f(
    'rsi_14',
    'Relative Strength Index, Wilder smoothing, 0..100',
    { period: 14, smoothing: 'wilder' },
    14,
    true,
    `${TA}RSI.c)`,
  ),
  f(
    'bb_pct_b',
    'Bollinger %B, (close - lower)/(upper - lower); NULL on a flat window (fraction)',
    { period: 20, nbDev: 2, std: 'population' },
    19,
    false,
    `${TA}BBANDS.c)`,
  ),
  f(
    'bb_bandwidth',
    'Bollinger bandwidth, (upper - lower)/middle (fraction)',
    { period: 20, nbDev: 2, std: 'population' },
    19,
    false,
    `${TA}BBANDS.c)`,
  ),
  f(
    'atr_14',
    'Average True Range, Wilder smoothing (price units)',
    { period: 14, smoothing: 'wilder' },
    14,
    true,
    `${TA}ATR.c)`,
  ),
  f(
    'stoch_k',
    'Fast stochastic %K(14), 0..100',
    { kPeriod: 14, dPeriod: 3, dMaType: 'sma' },
    15,
    false,
    `${TA}STOCHF.c)`,
  ),
  f(
    'stoch_d',
    'Fast stochastic %D, 3-bar SMA of %K, 0..100',
    { kPeriod: 14, dPeriod: 3, dMaType: 'sma' },
    15,
    false,
    `${TA}STOCHF.c)`,
  ),
  f('willr_14', 'Williams %R(14), -100..0', { period: 14 }, 13, false, `${TA}WILLR.c)`),
  f('cci_20', 'Commodity Channel Index(20), constant 0.015', { period: 20, constant: 0.015 }, 19, false, `${TA}CCI.c)`),
  f(
    'adx_14',
    'Average Directional Movement Index(14), 0..100',
    { period: 14, smoothing: 'wilder' },
    27,
    true,
    `${TA}ADX.c)`,
  ),
  f(
    'obv',
    'On-Balance Volume, seeded with the first bar volume (volume units)',
    { seed: 'first_volume' },
    0,
    true,
    `${TA}OBV.c)`,
  ),
  f('mfi_14', 'Money Flow Index(14), 0..100', { period: 14 }, 14, false, `${TA}MFI.c)`),
  f(
    'roc_10',
    'Rate of change over 10 bars, (close/close[t-10] - 1) * 100 (percent)',
    { period: 10 },
    10,
    false,
    `${TA}ROC.c)`,
  ),
  f(
    'rv_20',
    'Sample std of the last 20 one-bar log returns x sqrt(bars per year) (annualised fraction)',
    { period: 20, annualisation: 'sqrt(barsPerYear(timeframe, calendar))' },
    20,
    false,
    'close-to-close realized volatility',
  ),
  f(
    'volume_z_20',
    '(volume - 20-bar mean) / 20-bar sample std; NULL when the std is 0',
    { period: 20, std: 'sample' },
    19,
    false,
    'z-score',
  ),
];

/**
 * The `core` feature set, version 1: 22 feature columns, TA-Lib definitions with TA-Lib seeding and
 * lookback, unstable period 0. Deeply frozen. Register it in the feature store as is; any change of an output value
 * needs a new version (and a new `codeVersion`).
 */
export const FEATURE_SET_CORE_V1: FeatureSetDefinition = deepFreeze({
  name: 'core',
  version: 1,
  codeVersion: 'domain-indicators/core-v1@1.0.0',
  warmUpBars: Math.max(...FEATURES.map((x) => x.lookback)),
  features: FEATURES,
});

/** The v2 replacements of v1's five unit-bearing columns (same positions). */
const V2_SCALE_FREE: Partial<Record<CoreFeatureName, FeatureDefinition>> = {
  macd: f(
    'macd_norm',
    'MACD line over the close, (EMA(12) - EMA(26)) / close (fraction)',
    { fast: 12, slow: 26, signal: 9, over: 'close' },
    33,
    true,
    `${TA}MACD.c) / close`,
  ),
  macd_signal: f(
    'macd_signal_norm',
    'MACD signal line over the close, EMA(9) of the MACD line / close (fraction)',
    { fast: 12, slow: 26, signal: 9, over: 'close' },
    33,
    true,
    `${TA}MACD.c) / close`,
  ),
  macd_hist: f(
    'macd_hist_norm',
    'MACD histogram over the close, (MACD line - signal) / close (fraction)',
    { fast: 12, slow: 26, signal: 9, over: 'close' },
    33,
    true,
    `${TA}MACD.c) / close`,
  ),
  atr_14: f(
    'natr_14',
    'Normalised Average True Range, ATR(14) / close x 100, Wilder smoothing (percent of the close)',
    { period: 14, smoothing: 'wilder' },
    14,
    true,
    `${TA}NATR.c)`,
  ),
  obv: f(
    'obv_rate_20',
    'On-Balance Volume rate over 20 bars: signed volume (+ up close, - down close) / total volume, -1..1; NULL when the 20 volumes are 0',
    { period: 20 },
    20,
    false,
    `${TA}OBV.c) and ${TA}SUM.c)`,
  ),
};

/**
 * The `core` feature set, version 2 — the DEFAULT for new models: v1 with its five unit-bearing columns (MACD line,
 * signal and histogram, ATR in price units; OBV in volume units, cumulative from the first bar) replaced in place by
 * scale-free ones. Formulas (TA-Lib definitions, float64; `c` = close, `v` = volume of the total-adjusted bars):
 * - `macd_norm = MACD(c,12,26,9).macd / c`, `macd_signal_norm = .signal / c`, `macd_hist_norm = .hist / c`
 *   (fractions of the current close; TA-Lib MACD seeding and lookback 33);
 * - `natr_14 = NATR(h,l,c,14) = ATR(h,l,c,14) / c × 100` (percent; TA-Lib `TA_NATR`, lookback 14);
 * - `obv_rate_20 = Σ_{20 bars} sign(Δc)·v / Σ_{20 bars} v = (OBV[t] − OBV[t−20]) / SUM(v,20)` (−1..1, lookback 20);
 * - the other 17 columns are v1's.
 *
 * Why: the adjusted history is rescaled whenever a split or dividend is recorded, so a price- or volume-unit value at
 * a bar changes when a LATER corporate action is recorded: old training rows would encode future corporate actions
 * (splits follow run-ups). Every v2 value is a ratio of quantities of the same unit over bars up to t, so a later
 * action, which multiplies every earlier price (and divides every earlier volume) by one factor, cancels out; each
 * value at t depends only on bars ≤ t as they were known at t (point-in-time). OBV is made a windowed rate rather than
 * divided by something because a cumulative sum from the first bar also depends on where the history starts; the
 * 20-bar window matches `volume_z_20` and `rv_20`. Per-feature TA-Lib expressions: {@link FeatureDefinition.talib}.
 */
export const FEATURE_SET_CORE_V2: FeatureSetDefinition = deepFreeze({
  name: 'core',
  version: 2,
  codeVersion: 'domain-indicators/core-v2@2.0.0',
  warmUpBars: 33,
  features: FEATURES.map((x) => V2_SCALE_FREE[x.name as CoreFeatureName] ?? x),
});

/** Options of {@link computeCoreFeatures}. */
export interface CoreFeatureOptions {
  /** Bar timeframe; selects the `rv_20` annualisation factor. */
  timeframe: BarTimeframe;
  /** Trading calendar for the annualisation factor (default `us-equity`; see `annualisationFactor`). */
  calendar?: AnnualisationCalendar;
  /** Output columns to reuse (each of the bar count's length); fresh arrays are allocated when absent. */
  out?: Partial<CoreFeatureColumns>;
}

/**
 * Computes the `core` v1 features for one symbol's bars (ascending time). Returns one Float64Array per
 * feature, of the bar count's length, NaN during each feature's warm-up and where a value is undefined
 * (the store writes NULL). Point-in-time: the value at bar t uses only bars 0..t.
 *
 * Every kernel is one pass over typed arrays with no per-bar allocation. Windowed features either take
 * their window's moments afresh for every bar or keep a running sum re-summed exactly every 64 bars, so
 * each value depends only on its window and index, never on where a computation started. Measured at
 * ~1.5M bars per CPU-second for all 22 (bench:indicators).
 * @throws InvalidBarsError on mismatched lengths, non-finite values, prices <= 0 or negative volume.
 */
export function computeCoreFeatures(bars: OhlcvColumns, opts: CoreFeatureOptions): CoreFeatureColumns {
  const n = validateOhlcv(bars);
  const out = allocate(n, opts.out);
  computeInto(bars, opts, out, 0);
  return out;
}

/**
 * Incremental refresh: the `core` v1 features of bars `fromIndex .. n-1` only, BIT-IDENTICAL to
 * `computeCoreFeatures(bars)` at those indices. Returns columns of length `n - fromIndex` (views of the
 * `out` buffers when given). Use it when bars were appended or corrected from `fromIndex` on.
 *
 * Needed history: `bars` must hold the symbol's WHOLE history from its first bar, because `ema_20_ratio`,
 * `macd*`, `rsi_14`, `atr_14`, `adx_14` (EMA / Wilder recursions) and `obv` (a cumulative sum seeded with
 * the first volume) depend on every earlier bar. The windowed features read only the
 * `lookback` bars before `fromIndex` (at most 20).
 *
 * Cost: the six recursions run over all n bars (a few ns per bar each); the windowed kernels run over the
 * tail only (plus at most 63 bars back to their last re-summing anchor). One new bar on 20 years of daily
 * bars (5,041) takes about 0.5 ms (bench:indicators), a full recompute about 6 ms.
 * @throws InvalidBarsError as {@link computeCoreFeatures}; RangeError when fromIndex is outside [0, n].
 */
export function computeCoreFeaturesTail(
  bars: OhlcvColumns,
  fromIndex: number,
  opts: CoreFeatureOptions,
): CoreFeatureColumns {
  const n = validateOhlcv(bars);
  checkFrom(fromIndex, n);
  const full = allocate(n, opts.out);
  computeInto(bars, opts, full, fromIndex);
  const tail = {} as CoreFeatureColumns;
  for (const name of CORE_V1_FEATURE_NAMES) tail[name] = full[name].subarray(fromIndex);
  return tail;
}

/**
 * The `core` v2 features ({@link FEATURE_SET_CORE_V2}) of one symbol's bars, as {@link computeCoreFeatures} does for v1:
 * one Float64Array per feature, NaN during warm-up and where undefined. Point-in-time and scale-free: the value at bar
 * t uses only bars 0..t, and multiplying every price (or every volume) of bars 0..t by one factor leaves it unchanged
 * (bit-identical for a power-of-two factor such as a 2:1 split; within rounding otherwise).
 * @throws InvalidBarsError as {@link computeCoreFeatures}.
 */
export function computeCoreFeaturesV2(bars: OhlcvColumns, opts: CoreV2FeatureOptions): CoreV2FeatureColumns {
  const n = validateOhlcv(bars);
  const out = allocateNames(CORE_V2_FEATURE_NAMES, n, opts.out);
  computeV2Into(bars, opts, out, 0);
  return out;
}

/**
 * Incremental refresh of `core` v2, as {@link computeCoreFeaturesTail} for v1: columns of length `n - fromIndex`,
 * bit-identical to {@link computeCoreFeaturesV2} at those indices; `bars` must hold the whole history (the MACD and
 * ATR recursions).
 */
export function computeCoreFeaturesV2Tail(
  bars: OhlcvColumns,
  fromIndex: number,
  opts: CoreV2FeatureOptions,
): CoreV2FeatureColumns {
  const n = validateOhlcv(bars);
  checkFrom(fromIndex, n);
  const full = allocateNames(CORE_V2_FEATURE_NAMES, n, opts.out);
  computeV2Into(bars, opts, full, fromIndex);
  const tail = {} as CoreV2FeatureColumns;
  for (const name of CORE_V2_FEATURE_NAMES) tail[name] = full[name].subarray(fromIndex);
  return tail;
}

/** Options of {@link computeCoreFeaturesV2}: as v1's, with v2 output columns. */
export interface CoreV2FeatureOptions extends Omit<CoreFeatureOptions, 'out'> {
  out?: Partial<CoreV2FeatureColumns>;
}

/**
 * A `core` version as data: its definition, column names and the computation of a tail (`fromIndex = 0`: all bars).
 * Callers that serve several versions (the feature store, the backtest engine) pick one here.
 */
export interface CoreFeatureSetVersion {
  definition: FeatureSetDefinition;
  names: readonly string[];
  computeTail(
    bars: OhlcvColumns,
    fromIndex: number,
    opts: Omit<CoreFeatureOptions, 'out'>,
  ): Record<string, Float64Array>;
}

/** `core` versions by number (1, 2). */
export const CORE_FEATURE_SET_VERSIONS: Readonly<Record<number, CoreFeatureSetVersion>> = Object.freeze({
  1: {
    definition: FEATURE_SET_CORE_V1,
    names: CORE_V1_FEATURE_NAMES,
    computeTail: (bars, from, opts) => computeCoreFeaturesTail(bars, from, opts),
  },
  2: {
    definition: FEATURE_SET_CORE_V2,
    names: CORE_V2_FEATURE_NAMES,
    computeTail: (bars, from, opts) => computeCoreFeaturesV2Tail(bars, from, opts),
  },
});

/** The 17 columns v1 and v2 share. */
function computeShared(bars: OhlcvColumns, opts: CoreFeatureOptions, o: Record<string, Float64Array>, from: number) {
  const { high, low, close, volume } = bars;
  simpleReturn(close, 1, o.ret_1, from);
  simpleReturn(close, 5, o.ret_5, from);
  simpleReturn(close, 20, o.ret_20, from);
  smaRatio(close, 20, o.sma_20_ratio, from);
  emaRatio(close, 20, o.ema_20_ratio, from);
  rsi(close, 14, o.rsi_14, from);
  bollinger(close, 20, 2, { pctB: o.bb_pct_b, bandwidth: o.bb_bandwidth }, from);
  // One 14-bar extremes pass serves %K, %D (from index 13 + ...) and %R (from index 13).
  const n = close.length;
  const hh = new Float64Array(n);
  const ll = new Float64Array(n);
  rollingExtremes(high, low, 14, hh, ll, Math.max(13, from - 2));
  stochFastFromExtremes(close, hh, ll, 14, 3, { k: o.stoch_k, d: o.stoch_d }, from);
  willrFromExtremes(close, hh, ll, 14, o.willr_14, from);
  cci(high, low, close, 20, o.cci_20, from);
  adx(high, low, close, 14, o.adx_14, from);
  mfi(high, low, close, volume, 14, o.mfi_14, from);
  roc(close, 10, o.roc_10, from);
  realizedVolatility(close, 20, annualisationFactor(opts.timeframe, opts.calendar), o.rv_20, from);
  volumeZScore(volume, 20, o.volume_z_20, from);
}

function computeInto(bars: OhlcvColumns, opts: CoreFeatureOptions, o: CoreFeatureColumns, from: number): void {
  const { high, low, close, volume } = bars;
  computeShared(bars, opts, o, from);
  macd(close, 12, 26, 9, { macd: o.macd, signal: o.macd_signal, hist: o.macd_hist }, from);
  atr(high, low, close, 14, o.atr_14, from);
  obv(close, volume, o.obv, from);
}

function computeV2Into(bars: OhlcvColumns, opts: CoreFeatureOptions, o: CoreV2FeatureColumns, from: number): void {
  const { high, low, close, volume } = bars;
  computeShared(bars, opts, o, from);
  // MACD / close and NATR: the price-unit kernels (TA-Lib seeding), then the same division TA-Lib's NATR does.
  macd(close, 12, 26, 9, { macd: o.macd_norm, signal: o.macd_signal_norm, hist: o.macd_hist_norm }, from);
  atr(high, low, close, 14, o.natr_14, from);
  const n = close.length;
  for (let t = from; t < n; t++) {
    const c = close[t];
    o.macd_norm[t] /= c;
    o.macd_signal_norm[t] /= c;
    o.macd_hist_norm[t] /= c;
    o.natr_14[t] = (o.natr_14[t] / c) * 100;
  }
  obvRate(close, volume, 20, o.obv_rate_20, from);
}

function allocate(n: number, given: Partial<CoreFeatureColumns> | undefined): CoreFeatureColumns {
  return allocateNames(CORE_V1_FEATURE_NAMES, n, given);
}

function allocateNames<K extends string>(
  names: readonly K[],
  n: number,
  given: Partial<Record<K, Float64Array>> | undefined,
): Record<K, Float64Array> {
  const out = {} as Record<K, Float64Array>;
  for (const name of names) {
    const g = given?.[name];
    if (g !== undefined && g.length !== n) throw new RangeError(`out.${name} has length ${g.length}, expected ${n}`);
    out[name] = g ?? new Float64Array(n);
  }
  return out;
}

function f(
  name: CoreFeatureName | CoreV2FeatureName,
  description: string,
  params: Record<string, number | string>,
  lookback: number,
  dependsOnFullHistory: boolean,
  source: string,
): FeatureDefinition {
  return { name, description, params, lookback, dependsOnFullHistory, source, talib: TALIB[name] };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
