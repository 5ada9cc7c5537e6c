import { type Adjustment, type Timeframe } from '@strata/marketdata-contracts';
import {
  computeCoreFeaturesTail,
  FEATURE_SET_CORE_V1,
  type OhlcvColumns,
  type AnnualisationCalendar,
} from '@strata/shared-indicators';
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

/**
 * `core` v1: the 22 indicators of `@strata/shared-indicators` (TA-Lib definitions, warm-up NULL) over
 * total-adjusted bars. `rv_20` is annualised with 252 (or 365 for a series trading on weekends) bars per year for
 * daily bars, see `annualisationFactor`.
 */
export const CORE_V1: FeatureSetImplementation = {
  registration: {
    name: FEATURE_SET_CORE_V1.name,
    version: FEATURE_SET_CORE_V1.version,
    codeVersion: FEATURE_SET_CORE_V1.codeVersion,
    adjust: CORE_V1_ADJUST,
    warmUpBars: FEATURE_SET_CORE_V1.warmUpBars,
    features: FEATURE_SET_CORE_V1.features.map((f) => ({
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
    return computeCoreFeaturesTail(bars, fromIndex, {
      timeframe,
      calendar: calendar as AnnualisationCalendar,
    }) as unknown as Record<string, Float64Array>;
  },
};
