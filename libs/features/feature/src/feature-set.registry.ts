import { type Adjustment, type Timeframe } from '@strata/marketdata-contracts';
import { CORE_FEATURE_SET_VERSIONS, type OhlcvColumns, type AnnualisationCalendar } from '@strata/shared-indicators';
import { inferTradingCalendar } from '@strata/shared-timeseries';
import type { FeatureSetRegistration } from '@strata/features-contracts';

/**
 * A feature set the platform can compute: its immutable registration plus the code computing it.
 * `computeTail` must be point-in-time (a value at bar t reads bars 0..t only) and give at bars `fromIndex..n-1` exactly
 * what a computation over the whole history gives.
 */
export interface FeatureSetImplementation {
  registration: FeatureSetRegistration;
  /**
   * Calendar of a series for annualisation, decided from its first {@link CALENDAR_PROBE_BARS} bars only, so that
   * later bars never change it (and with it earlier values).
   */
  calendarOf(ts: Float64Array, length: number): string;
  /** Values at bars `fromIndex..n-1` from the whole history `bars` (ascending). Columns of length n - fromIndex. */
  computeTail(
    bars: OhlcvColumns,
    fromIndex: number,
    timeframe: Timeframe,
    calendar: string,
  ): Record<string, Float64Array>;
}

/** Bars looked at to decide a series' calendar (a 24x7 market shows a weekend within its first 10 bars). */
export const CALENDAR_PROBE_BARS = 64;

/** Injection token of the list of {@link FeatureSetImplementation}s a process materialises. */
export const FEATURE_SETS = Symbol('FEATURE_SETS');

/** Default input of the `core` set: total-return adjusted bars (splits and dividends), as backtests use. */
export const CORE_V1_ADJUST: Adjustment = 'total';

/** A `core` version of `@strata/shared-indicators` as a feature-set implementation over total-adjusted bars. */
function coreImplementation(version: 1 | 2): FeatureSetImplementation {
  const core = CORE_FEATURE_SET_VERSIONS[version];
  const def = core.definition;
  return {
    registration: {
      name: def.name,
      version: def.version,
      codeVersion: def.codeVersion,
      adjust: CORE_V1_ADJUST,
      warmUpBars: def.warmUpBars,
      features: def.features.map((f) => ({
        name: f.name,
        description: f.description,
        params: { ...f.params },
        lookback: f.lookback,
      })),
    },
    calendarOf(ts, length) {
      return inferTradingCalendar(ts, Math.min(length, CALENDAR_PROBE_BARS)) === '24x7' ? 'crypto-24x7' : 'us-equity';
    },
    computeTail(bars, fromIndex, timeframe, calendar) {
      return core.computeTail(bars, fromIndex, { timeframe, calendar: calendar as AnnualisationCalendar });
    },
  };
}

/**
 * `core` v1: the 22 indicators of `@strata/shared-indicators` (TA-Lib definitions, warm-up NULL) over
 * total-adjusted bars. `rv_20` is annualised with 252 (or 365 for a series trading on weekends) bars per year for
 * daily bars, see `annualisationFactor`. Five columns are in price or volume units (`macd*`, `atr_14`, `obv`): a
 * corporate action recorded later rescales their past values, so v1 is kept readable but is not the default.
 */
export const CORE_V1: FeatureSetImplementation = coreImplementation(1);

/**
 * `core` v2 (`FEATURE_SET_CORE_V2`), the default for new models: v1 with those five columns made scale-free
 * (`macd_norm`, `macd_signal_norm`, `macd_hist_norm`, `natr_14`, `obv_rate_20`), so every value at a bar is unchanged
 * by a corporate action recorded later (point-in-time across splits). Same adjustment and calendar as v1.
 */
export const CORE_V2: FeatureSetImplementation = coreImplementation(2);

/** The sets a process materialises by default: `core` v1 (readable) and v2 (the latest, hence the default). */
export const DEFAULT_FEATURE_SETS: readonly FeatureSetImplementation[] = Object.freeze([CORE_V1, CORE_V2]);
