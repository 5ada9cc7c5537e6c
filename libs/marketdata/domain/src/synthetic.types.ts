import { type RejectReason, type Timeframe, type BarColumns } from '@strata/marketdata-contracts';
import type { SessionSpec, SyntheticCalendar } from './synthetic.calendar';

/** One market regime of the Markov chain. Drift and volatility are annualised, in fractions (0.2 = 20 % per year). */
export interface RegimeSpec {
  /** Short name, e.g. `bull`, `bear`, `high_vol`. */
  name: string;
  /** GBM drift μ per year (arithmetic): the log return of a bar has mean (μ − σ²/2)·Δt. */
  drift: number;
  /** GBM volatility σ per year: the diffusive log return of a bar has standard deviation σ·√Δt. */
  volatility: number;
  /** Multiplier on the base volume in this regime (default 1). */
  volumeMultiplier?: number;
}

/** Merton jumps: a Poisson number of jumps per bar, each adding a normal amount to the bar's log return. */
export interface JumpSpec {
  /** Expected jumps per year (λ); per bar the count is Poisson(λ·Δt). 0 disables jumps. */
  intensityPerYear: number;
  /** Mean of one jump's log size. */
  meanLog: number;
  /** Standard deviation of one jump's log size. */
  stdLog: number;
}

/** Lognormal volume model: ln V = ln(base·m_regime) + β·(|z| − √(2/π)) + s·ε − s²/2, z the bar's standardised return. */
export interface VolumeSpec {
  /** Base volume per bar (shares, contracts or coins). */
  base: number;
  /** β: loading of log volume on the absolute standardised return (0 = independent of returns). */
  absReturnBeta: number;
  /** s: standard deviation of the idiosyncratic log-volume noise. */
  logSigma: number;
  /** Decimal places volumes are rounded to (0 = whole shares). */
  decimals: number;
}

/** Kinds of injected anomaly; codes are the values stored in {@link SyntheticGroundTruth.anomaly}. */
export const ANOMALY_KINDS = ['spike', 'gap', 'stale', 'bad_tick', 'volume_burst'] as const;
/** A kind of injected anomaly. */
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** Per-bar anomaly codes: 0 none, then 1 + the index of the kind in {@link ANOMALY_KINDS}. */
export const ANOMALY_CODE = { none: 0, spike: 1, gap: 2, stale: 3, bad_tick: 4, volume_burst: 5 } as const;

/** A price field of a bar. */
export type PriceField = 'open' | 'high' | 'low' | 'close';

/**
 * Which anomalies to inject and how. Each rate is the probability that an anomaly of that kind starts at a bar that is
 * free to take one; anomalies never overlap, and the bar after each one is left clean so a spike or bad tick can be
 * seen to revert.
 */
export interface AnomalySpec {
  /** Start probability per free bar, per kind (default 0 for every kind). */
  rates?: Partial<Record<AnomalyKind, number>>;
  /** Spike size in multiples of the bar's per-bar volatility σ√Δt (in log space, up or down with equal odds). Default 8–16. */
  spike?: { minSigmas: number; maxSigmas: number };
  /** Number of consecutive missing bars per gap. Default 1–3. */
  gap?: { minBars: number; maxBars: number };
  /** Length of a stale run (bars with open = high = low = close = the previous close). Default 4–10. */
  stale?: { minBars: number; maxBars: number };
  /** Bad tick: one price field multiplied by one of `factors`. Default fields all four, factors [10, 0.1]. */
  badTick?: { fields: PriceField[]; factors: number[] };
  /** Volume burst: volume multiplied by a factor drawn uniformly in [minFactor, maxFactor]. Default 20–50. */
  volumeBurst?: { minFactor: number; maxFactor: number };
}

/** Full description of a synthetic series. The same config (including `seed`) always yields bit-identical output. */
export interface SyntheticConfig {
  /** PRNG seed: a number or a string. */
  seed: number | string;
  /** Number of calendar slots to generate. The output has `bars − (bars removed by gap anomalies)` rows. */
  bars: number;
  /** Platform timeframe of the bars. */
  timeframe: Timeframe;
  /** First slot: `YYYY-MM-DD` or an ISO-8601 UTC instant. Default `2000-01-03` (nyse, weekdays) / `2021-01-01T00:00:00Z` (24x7). */
  start?: string;
  /** Calendar of slots (default `nyse`). */
  calendar?: SyntheticCalendar;
  /** Trading session for intraday bars on `nyse`/`weekdays` calendars (default 09:30–16:00 America/New_York). */
  session?: SessionSpec;
  /** Previous close before the first bar (default 100). */
  initialPrice?: number;
  /** Regimes of the Markov chain (default bull / bear / high_vol, see {@link DEFAULT_REGIMES}). */
  regimes?: RegimeSpec[];
  /** Row-stochastic per-bar transition matrix between regimes (default {@link DEFAULT_TRANSITIONS}). */
  transitionMatrix?: number[][];
  /** Regime of the first bar; default drawn from the chain's stationary distribution. */
  initialRegime?: number;
  /** Merton jumps (default 4 per year, log size N(−0.02, 0.05²)). */
  jumps?: JumpSpec;
  /**
   * Share (0–1) of a session-opening bar's diffusive variance that is realised overnight, between the previous close and
   * the open (default 0.2). Bars inside a session open exactly at the previous close; 24x7 bars never gap.
   */
  overnightVarianceShare?: number;
  /** Volume model (default base 1,000,000, β 0.6, s 0.35, whole units). */
  volume?: Partial<VolumeSpec>;
  /** Round prices to this many decimals (default: no rounding, full double precision). */
  priceDecimals?: number;
  /** Override of bars per year used for Δt (default from the calendar, e.g. 252 for daily bars on a trading-day calendar). */
  barsPerYear?: number;
  /** Injected anomalies (default none). */
  anomalies?: AnomalySpec;
}

/** Default regimes: a calm up-trend, a falling market and a volatile one (annualised). */
export const DEFAULT_REGIMES: readonly RegimeSpec[] = [
  { name: 'bull', drift: 0.12, volatility: 0.14, volumeMultiplier: 1 },
  { name: 'bear', drift: -0.18, volatility: 0.26, volumeMultiplier: 1.3 },
  { name: 'high_vol', drift: 0, volatility: 0.5, volumeMultiplier: 1.8 },
];

/** Default per-bar transition matrix for {@link DEFAULT_REGIMES}: mean sojourns of 100, 40 and 20 bars. */
export const DEFAULT_TRANSITIONS: readonly (readonly number[])[] = [
  [0.99, 0.007, 0.003],
  [0.015, 0.975, 0.01],
  [0.02, 0.03, 0.95],
];

/** One injected anomaly. `index` is the 0-based output row it labels; `line` is the matching 1-based CSV line (header = 1). */
export interface AnomalyEvent {
  kind: AnomalyKind;
  /** First output row carrying the label (for a gap: the first bar after the hole). */
  index: number;
  /** Number of labelled rows (stale run length; 1 otherwise). */
  bars: number;
  /** 1-based line of `index` in rejects: `index + 2` (`decodeBarColumns`, and the CSV from {@link toIngestCsv}). */
  line: number;
  /** Start time of the labelled row, epoch ms UTC. */
  ts: number;
  /** Spike: signed log move applied to the close. */
  logMove?: number;
  /** Spike: size drawn, in multiples of the bar's per-bar volatility σ√Δt (before price rounding). */
  sigmas?: number;
  /** Gap: number of removed bars and the start times of the first and last of them (epoch ms UTC). */
  missingBars?: number;
  missingFromTs?: number;
  missingToTs?: number;
  /** Bad tick: corrupted field, configured factor, original and corrupted value (rounded to `priceDecimals` when set). */
  field?: PriceField;
  factor?: number;
  original?: number;
  corrupted?: number;
  /**
   * Bad tick: whether the corrupted row breaks OHLC consistency (low ≤ min(open, close) ≤ max(open, close) ≤ high),
   * and if so the reject reason an ingest validator checking `high_below_low` before `open_close_outside_range` gives.
   * A row that stays consistent (e.g. high × 10) passes ingestion and must be caught by the sentinel.
   */
  invalidRow?: boolean;
  expectedReject?: RejectReason;
  /** Volume burst: multiplier applied to the volume. */
  volumeFactor?: number;
}

/** What really happened in a synthetic series, bar by bar: for measuring detectors. */
export interface SyntheticGroundTruth {
  /** Regime names, index = regime code. */
  regimeNames: string[];
  /** Regime code that generated each output bar's return (previous close → this close). */
  regime: Uint8Array;
  /** Anomaly code per output bar ({@link ANOMALY_CODE}). */
  anomaly: Uint8Array;
  /** Number of Merton jumps inside each output bar (real price moves, not anomalies). */
  jumps: Uint8Array;
  /** Every injected anomaly, in time order. */
  events: AnomalyEvent[];
}

/**
 * A generated series in the market data library's columnar shape ({@link BarColumns}: bar start time in epoch ms UTC,
 * daily bars at 00:00 UTC of the trading date; prices in currency units; volume in units traded; no adjusted close),
 * plus its ground truth.
 */
export interface SyntheticSeries extends BarColumns {
  timeframe: Timeframe;
  adjClose: null;
  truth: SyntheticGroundTruth;
}

/** A configuration problem: the offending field (dot path) and why. */
export interface SyntheticConfigIssue {
  field: string;
  message: string;
}

/** Thrown by the generator for an invalid config; lists every problem found. */
export class SyntheticConfigError extends Error {
  constructor(readonly issues: SyntheticConfigIssue[]) {
    super(`invalid synthetic config: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
    this.name = 'SyntheticConfigError';
  }
}
