import { type BarCorrection, type Timeframe, type OhlcvSeries } from '@strata/marketdata-contracts';
import {
  DAY_MS,
  TIMEFRAME_MS,
  isTradingDay,
  tradingDaysBetween,
  type TradingCalendar,
} from '@strata/shared-timeseries';
import { isStaleBar } from './bar-features';
import type { SentinelConfig } from './sentinel.config';
import type { BarAnomaly, Severity } from './sentinel.types';

/** Price fields of a bar, in the order reasons name them. */
const FIELDS = ['open', 'high', 'low', 'close'] as const;
/** A price field of a bar. */
export type PriceFieldName = (typeof FIELDS)[number];

/** True when the calendar expects trading on the UTC date of `ts` (epoch ms). */
export function tradesOn(calendar: TradingCalendar, ts: number): boolean {
  return isTradingDay(calendar, Math.floor(ts / DAY_MS));
}

/**
 * Length of the run of stale bars ending at bar `i` (0 when bar i is not stale), counted back at most `cap` bars so
 * the answer depends only on bars `[i − cap, i]`.
 */
export function staleRunEndingAt(bars: OhlcvSeries, i: number, cap: number): number {
  let k = 0;
  while (k < cap && i - k >= 1 && isStaleBar(bars, i - k)) k++;
  return k;
}

/** Expected bars missing between bar `i − 1` and bar `i`. */
export interface MissingBars {
  /** Expected bars strictly between the two bars (intraday) or missing trading days (daily). */
  bars: number;
  /** Whole trading sessions missing in between (intraday bars on session calendars), else 0. */
  sessions: number;
}

/**
 * Holes in the expected calendar between bar `i − 1` and bar `i`, with the same rules as `findCalendarGaps` of the
 * market-data domain (daily: trading days strictly between the two dates; intraday 24x7: missing steps; intraday on
 * session calendars: missing steps inside a UTC date, whole missing trading days across dates), but computed from the
 * pair alone so the answer never depends on how much history a batch carries. Null when nothing is missing.
 */
export function missingBarsBefore(
  ts: Float64Array,
  i: number,
  timeframe: Timeframe,
  calendar: TradingCalendar,
): MissingBars | null {
  if (i < 1) return null;
  const a = ts[i - 1];
  const b = ts[i];
  const step = TIMEFRAME_MS[timeframe];
  const da = Math.floor(a / DAY_MS);
  const db = Math.floor(b / DAY_MS);
  if (timeframe === '1d') {
    if (db - da <= 1) return null;
    const missing = tradingDaysBetween(calendar, da, db);
    return missing > 0 ? { bars: missing, sessions: missing } : null;
  }
  if (calendar === '24x7' || da === db) {
    const delta = b - a;
    return delta > step ? { bars: Math.ceil(delta / step) - 1, sessions: 0 } : null;
  }
  const sessions = tradingDaysBetween(calendar, da, db);
  return sessions > 0 ? { bars: sessions, sessions } : null;
}

/** Outcome of the revert test of one bar against its neighbours. */
export interface Excursion {
  /** Reference level: median of open_i, close_i, close_{i−1}, open_{i+1}, close_{i+1} (robust to one bad bar). */
  ref: number;
  /** Largest |ln(field / ref)| over the bar's price fields. */
  logSize: number;
  /** The field that is farthest off. */
  field: PriceFieldName;
  /** Its value. */
  value: number;
  /**
   * True when the previous close and the next bar's open both lie within (1 − revertFraction)·logSize of ref: the
   * series was there before and is back at once (the next bar's close may move on; requiring it too missed spikes).
   */
  reverted: boolean;
}

const scratch5 = new Float64Array(5);

/**
 * Revert test of bar `i` (needs bars i − 1 and i + 1): how far its farthest price field is from the level its
 * neighbours agree on, and whether the series is back at that level on both sides. A spike or bad print reverts;
 * a genuine move (news, a split) does not, because the next bar stays at the new level.
 */
export function excursionAt(bars: OhlcvSeries, i: number, revertFraction: number): Excursion {
  const { open, close } = bars;
  scratch5[0] = open[i];
  scratch5[1] = close[i];
  scratch5[2] = close[i - 1];
  scratch5[3] = open[i + 1];
  scratch5[4] = close[i + 1];
  for (let a = 1; a < 5; a++) {
    const v = scratch5[a];
    let b = a - 1;
    while (b >= 0 && scratch5[b] > v) {
      scratch5[b + 1] = scratch5[b];
      b--;
    }
    scratch5[b + 1] = v;
  }
  const ref = scratch5[2];
  let logSize = 0;
  let field: PriceFieldName = 'close';
  let value = close[i];
  for (const f of FIELDS) {
    const v = bars[f][i];
    const d = Math.abs(Math.log(v / ref));
    if (d > logSize || !Number.isFinite(d)) {
      logSize = Number.isFinite(d) ? d : Infinity;
      field = f;
      value = v;
    }
  }
  const tol = (1 - revertFraction) * logSize;
  const reverted =
    logSize > 0 && Math.abs(Math.log(close[i - 1] / ref)) <= tol && Math.abs(Math.log(open[i + 1] / ref)) <= tol;
  return { ref, logSize, field, value, reverted };
}

/** A matched split: the factor, the observed price ratio and the volume ratio. */
export interface SplitMatch {
  /** New shares per `oldShares` old shares (4:1 → 4, 1). */
  newShares: number;
  /** Old shares. */
  oldShares: number;
  /** close_{i−1} / open_i. */
  priceRatio: number;
  /** volume_i / volume_{i−1}. */
  volumeRatio: number;
}

/**
 * Probable split at bar `i` (needs bars i − 1 and i + 1): the overnight ratio close_{i−1}/open_i is within
 * `splitRatioTolerance` (in log) of a configured factor newShares/oldShares; bar i's close and the next close stay at
 * the new level (within half the factor's log size of open_i, so a one-field bad print is not a split); and volume
 * moves inversely to price (up for a forward split, down for a reverse one, against the previous bar).
 */
export function matchSplit(bars: OhlcvSeries, i: number, rules: SentinelConfig['rules']): SplitMatch | null {
  const { open, close, volume } = bars;
  const ratio = close[i - 1] / open[i];
  if (!(ratio > 0) || !Number.isFinite(ratio)) return null;
  const lr = Math.log(ratio);
  let best: { newShares: number; oldShares: number } | null = null;
  let bestDiff = Infinity;
  for (const f of rules.splitFactors) {
    const d = Math.abs(lr - Math.log(f.newShares / f.oldShares));
    if (d < bestDiff) {
      bestDiff = d;
      best = f;
    }
  }
  if (!best || bestDiff > rules.splitRatioTolerance) return null;
  const half = 0.5 * Math.abs(Math.log(best.newShares / best.oldShares));
  if (Math.abs(Math.log(close[i] / open[i])) > half || Math.abs(Math.log(close[i + 1] / open[i])) > half) return null;
  const vr = volume[i] / volume[i - 1];
  if (!(vr > 0) || !Number.isFinite(vr) || Math.log(vr) * lr <= 0) return null;
  return { newShares: best.newShares, oldShares: best.oldShares, priceRatio: ratio, volumeRatio: vr };
}

/** Formats a price for reasons: up to 6 significant decimals, no exponent for ordinary prices. */
export function fmtPrice(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(2) : a >= 1 ? x.toFixed(4).replace(/0{1,2}$/, '') : x.toPrecision(4);
}

/** Formats a fraction as a signed percentage with one decimal. */
export function fmtPct(f: number): string {
  return `${f >= 0 ? '+' : ''}${(100 * f).toFixed(1)}%`;
}

/**
 * The `correction` finding for a corrected bar (from `marketdata.evt.bars.corrected.v1` and the corrections audit):
 * HIGH, or CRITICAL when any price moved by 5 % or more or the volume changed sign. Built here so the severity rule
 * and the reason wording live with the other rules. `index` is −1 unless the caller knows the bar's position.
 */
export function correctionAnomaly(correction: BarCorrection, index = -1): BarAnomaly {
  const { old: a, new: b } = correction;
  const changes: string[] = [];
  let maxRel = 0;
  for (const f of FIELDS) {
    if (a[f] !== b[f]) {
      const rel = a[f] !== 0 ? b[f] / a[f] - 1 : Infinity;
      maxRel = Math.max(maxRel, Math.abs(rel));
      changes.push(`${f} ${fmtPrice(a[f])} → ${fmtPrice(b[f])}${Number.isFinite(rel) ? ` (${fmtPct(rel)})` : ''}`);
    }
  }
  if (a.volume !== b.volume) changes.push(`volume ${a.volume} → ${b.volume}`);
  const critical = maxRel >= 0.05 || Math.sign(a.volume) !== Math.sign(b.volume);
  const severity: Severity = critical ? 'CRITICAL' : 'HIGH';
  const score = critical ? 1 : 0.85;
  return {
    index,
    ts: Date.parse(correction.ts),
    kind: 'correction',
    scores: { rules: score, isolation_forest: null, forecast_residual: null },
    combined: score,
    severity,
    reason: `stored bar corrected by ingestion ${correction.ingestionId}: ${changes.length ? changes.join(', ') : 'no value changed (re-ingested)'}`,
  };
}
