import { type Timeframe, type OhlcvSeries } from '@strata/marketdata-contracts';
import { TIMEFRAME_MS, formatIsoUtc, type TradingCalendar } from '@strata/shared-timeseries';
import { computeBarStats, FEATURE_COUNT, isConsistentBar, PARKINSON, type BarStats } from './bar-features';
import { IsolationForest } from './isolation-forest';
import {
  DEFAULT_SENTINEL_CONFIG,
  minSeverity,
  severityAtLeast,
  severityOfScore,
  symbolClassOf,
  type SentinelConfig,
  type SymbolClass,
} from './sentinel.config';
import {
  excursionAt,
  fmtPct,
  fmtPrice,
  matchSplit,
  missingBarsBefore,
  staleRunEndingAt,
  tradesOn,
} from './sentinel.rules';
import type { AnomalyKind, BarAnomaly, DetectorName, Severity } from './sentinel.types';

/** A streaming batch for {@link scoreBars}. */
export interface ScoreBarsRequest {
  /** Context history followed by the new bars, ascending `ts`, raw prices. */
  bars: OhlcvSeries;
  /** Index of the first new bar: `bars[0 .. firstNew)` is context, `bars[firstNew ..]` is new. */
  firstNew: number;
  /** Bar length of the series. */
  timeframe: Timeframe;
  /** Instrument symbol: picks the class (thresholds, calendar) through `symbolClassOf` and the config's overrides. */
  symbol: string;
  /** Expected trading calendar; default: the symbol class's calendar (equity `nyse`, crypto `24x7`, fx `weekdays`). */
  calendar?: TradingCalendar;
}

/** What {@link scoreBars} returns. */
export interface ScoreBarsResult {
  /** Findings decided by this batch, ascending `index`, at most one per (bar, kind). */
  anomalies: BarAnomaly[];
  /** Number of new bars in the batch (`bars.length − firstNew`). */
  scoredBars: number;
  /** Version string of each detector (with its parameters), for the DataQualityEvent. */
  modelVersions: Record<DetectorName, string>;
}

/**
 * Nominal bars per bar-length of calendar time: 1 for 24x7; 5/7 for daily bars on weekday calendars; (6.5 h / 24 h)·5/7
 * for intraday bars on session calendars (a US regular session). It sizes the forest's refit buckets so a bucket holds
 * about `refitEveryBars` bars whatever the calendar; {@link MIN_BAR_DENSITY} bounds how many it can hold.
 */
export function nominalBarDensity(timeframe: Timeframe, calendar: TradingCalendar): number {
  if (calendar === '24x7') return 1;
  return timeframe === '1d' ? 5 / 7 : (6.5 / 24) * (5 / 7);
}

/** Smallest {@link nominalBarDensity}: a refit bucket never holds more than refitEveryBars / MIN_BAR_DENSITY bars. */
export const MIN_BAR_DENSITY = (6.5 / 24) * (5 / 7);

/** Version of the rule set; bump when a rule's meaning changes. */
export const RULES_VERSION = 'rules-v1';

/**
 * Bars of history to load before each batch so that {@link scoreBars} gives the same findings as one pass over the
 * whole series: the rolling window, the forest's training window and refit bucket, the stale look-back, plus the one
 * bar of decision lag.
 */
export function requiredContextBars(config: SentinelConfig = DEFAULT_SENTINEL_CONFIG): number {
  return (
    config.windowBars +
    config.forest.trainBars +
    Math.ceil(config.forest.refitEveryBars / MIN_BAR_DENSITY) +
    config.rules.staleCriticalBars +
    2
  );
}

/** The detectors' version strings under `config`. */
export function modelVersionsOf(config: SentinelConfig = DEFAULT_SENTINEL_CONFIG): Record<DetectorName, string> {
  const f = config.forest;
  return {
    rules: RULES_VERSION,
    isolation_forest: `iforest-v1 trees=${f.trees} psi=${f.subsample} train=${f.trainBars} refit=${f.refitEveryBars} seed=${f.seed} w=${config.windowBars}`,
    forecast_residual: `rw-drift+ses-v1 w=${config.windowBars} z=${config.forecast.intervalZ} alpha=${config.forecast.volumeAlpha} elasticity=${config.forecast.volumeElasticity}`,
  };
}

const KIND_ORDER: Record<AnomalyKind, number> = {
  gap: 0,
  zero_volume: 1,
  stale: 2,
  bad_tick: 3,
  probable_split: 4,
  spike: 5,
  volume_burst: 6,
  outlier: 7,
  correction: 8,
};

/** Recently fitted forests by (options, training rows hash): a streaming batch reuses its bucket's forest. */
const FOREST_CACHE = new Map<string, IsolationForest>();
const FOREST_CACHE_SIZE = 64;

/** 2 × 32-bit FNV-1a over the raw bytes of the training rows (as 32-bit words). */
function hashRows(x: Float64Array): string {
  const w = new Uint32Array(x.buffer, x.byteOffset, x.length * 2);
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ w.length;
  for (let i = 0; i < w.length; i++) {
    a = Math.imul(a ^ w[i], 0x01000193);
    b = Math.imul(b ^ w[i], 0x5bd1e995) ^ (b >>> 13);
  }
  return `${(a >>> 0).toString(36)}${(b >>> 0).toString(36)}`;
}

/**
 * The forest for these training rows and options: from the cache when the same rows (same hash, same row count) were
 * fitted before, else fitted and cached (LRU of {@link FOREST_CACHE_SIZE}). Fitting is deterministic, so a hit returns
 * exactly the forest a refit would build; streaming one bar at a time then costs no refit within a bucket.
 */
function cachedForest(
  train: Float64Array,
  rows: number,
  options: { trees: number; subsample: number; seed: string },
): IsolationForest {
  const k = `${options.seed}|${options.trees}|${options.subsample}|${rows}|${hashRows(train)}`;
  const hit = FOREST_CACHE.get(k);
  if (hit) {
    FOREST_CACHE.delete(k);
    FOREST_CACHE.set(k, hit);
    return hit;
  }
  const f = IsolationForest.fit(train, rows, FEATURE_COUNT, options);
  FOREST_CACHE.set(k, f);
  if (FOREST_CACHE.size > FOREST_CACHE_SIZE) FOREST_CACHE.delete(FOREST_CACHE.keys().next().value as string);
  return f;
}

function lowerBound(ts: Float64Array, value: number, hi: number): number {
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Isolation Forest scores for bars `[j0, j1)`: one forest per refit bucket (floor(ts / bucket length), the bucket
 * lasting refitEveryBars bars at the calendar's {@link nominalBarDensity}),
 * fitted on the valid, non-stale bars among the `trainBars` bars before the bucket's first bar, seeded with
 * `${seed}:${bucket}`. A bar's score therefore depends only on bars it could have seen at the start of its bucket and
 * never on where a batch starts. NaN where the forest did not run (too little training history).
 */
function forestScores(
  bars: OhlcvSeries,
  stats: BarStats,
  j0: number,
  j1: number,
  timeframe: Timeframe,
  calendar: TradingCalendar,
  cfg: SentinelConfig,
): Float64Array {
  const out = new Float64Array(Math.max(0, j1 - j0)).fill(NaN);
  const { trees, subsample, seed, trainBars, refitEveryBars, minTrainBars } = cfg.forest;
  const bucketMs = Math.round((refitEveryBars * TIMEFRAME_MS[timeframe]) / nominalBarDensity(timeframe, calendar));
  const ts = bars.ts;
  if (
    j0 < j1 &&
    stats.from > Math.max(cfg.windowBars, lowerBound(ts, Math.floor(ts[j0] / bucketMs) * bucketMs, j0 + 1) - trainBars)
  ) {
    throw new Error('internal: bar statistics do not cover the forest training window');
  }
  const W = cfg.windowBars;
  let j = j0;
  while (j < j1) {
    const bucket = Math.floor(ts[j] / bucketMs);
    let end = j + 1;
    while (end < j1 && Math.floor(ts[end] / bucketMs) === bucket) end++;
    const s = lowerBound(ts, bucket * bucketMs, j + 1);
    const r0 = Math.max(W, s - trainBars);
    let count = 0;
    for (let r = r0; r < s; r++) if (stats.valid[r] === 1 && stats.stale[r] === 0) count++;
    if (count >= minTrainBars) {
      const train = new Float64Array(count * FEATURE_COUNT);
      let w = 0;
      for (let r = r0; r < s; r++) {
        if (stats.valid[r] === 1 && stats.stale[r] === 0) {
          train.set(stats.features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), w);
          w += FEATURE_COUNT;
        }
      }
      const forest = cachedForest(train, count, { trees, subsample, seed: `${seed}:${bucket}` });
      forest.score(
        stats.features.subarray(j * FEATURE_COUNT, end * FEATURE_COUNT),
        end - j,
        out.subarray(j - j0, end - j0),
      );
    }
    j = end;
  }
  return out;
}

function checkRequest(req: ScoreBarsRequest): number {
  const { bars, firstNew } = req;
  const n = bars.ts.length;
  for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) {
    if (bars[k].length !== n) throw new RangeError(`bars.${k} has ${bars[k].length} values, bars.ts has ${n}`);
  }
  if (!Number.isInteger(firstNew) || firstNew < 0 || firstNew > n)
    throw new RangeError(`firstNew must be an integer in [0, ${n}], got ${firstNew}`);
  if (!(req.timeframe in TIMEFRAME_MS)) throw new RangeError(`unknown timeframe ${String(req.timeframe)}`);
  for (let i = Math.max(1, firstNew - 1); i < n; i++) {
    if (!(bars.ts[i] > bars.ts[i - 1]))
      throw new RangeError(`bars.ts must be strictly increasing: ts[${i}] = ${bars.ts[i]} after ${bars.ts[i - 1]}`);
  }
  return n;
}

/**
 * Scores one streaming batch of a series and returns the findings it decides.
 *
 * Rule kinds (`gap`, `zero_volume`, `stale`) are decided on arrival of a bar; `bad_tick`, `probable_split` and the
 * statistical kinds (`spike`, `volume_burst`, `outlier`, from the Isolation Forest and forecast-residual scores) one
 * bar later, when the next bar arrives. Every decision depends only on a bounded window before its deciding bar. The
 * rules, the combined score and the severities are specified in docs/sentinel.md, "Detectors and severity".
 *
 * Batching: `bars[0 .. firstNew)` must hold at least {@link requiredContextBars} bars of history (or the whole series
 * so far); then the union of the findings of consecutive batches equals the findings of one pass. A finding's `index`
 * can precede `firstNew` (a decision lag of one bar, or the first bars of a stale run); the service keys findings by
 * (symbol, timeframe, ts, kind). The last bar of a batch gets its one-bar-later decisions in the next batch.
 *
 * @throws RangeError when columns differ in length, `firstNew` is out of range or `ts` is not strictly increasing.
 */
export function scoreBars(req: ScoreBarsRequest, config: SentinelConfig = DEFAULT_SENTINEL_CONFIG): ScoreBarsResult {
  const n = checkRequest(req);
  const { bars, firstNew, timeframe } = req;
  const cls: SymbolClass = symbolClassOf(req.symbol, config.symbolClassOverrides);
  const classCfg = config.classes[cls];
  const calendar = req.calendar ?? classCfg.calendar;
  const thresholds = classCfg.thresholds;
  const rules = config.rules;
  const W = config.windowBars;
  const out: BarAnomaly[] = [];
  const result: ScoreBarsResult = { anomalies: out, scoredBars: n - firstNew, modelVersions: modelVersionsOf(config) };
  if (firstNew >= n) return result;
  const { ts, open, high, low, close, volume } = bars;

  // Statistics: the decided bars [jFirst, n − 1) need features; the forest needs its training window before them.
  const jFirst = Math.max(firstNew - 1, 1);
  const bucketMs = Math.round(
    (config.forest.refitEveryBars * TIMEFRAME_MS[timeframe]) / nominalBarDensity(timeframe, calendar),
  );
  const firstBucketStart = lowerBound(bars.ts, Math.floor(bars.ts[jFirst] / bucketMs) * bucketMs, jFirst + 1);
  const statsFrom = Math.max(W, Math.min(jFirst, firstBucketStart) - config.forest.trainBars);
  const stats = computeBarStats(bars, statsFrom, config, classCfg.volumeTraded);
  const fj0 = Math.max(jFirst, W);
  const fj1 = Math.max(fj0, n - 1);
  const forest = forestScores(bars, stats, fj0, fj1, timeframe, calendar, config);

  const push = (
    index: number,
    kind: AnomalyKind,
    severity: Severity,
    ruleScore: number | null,
    forestScore: number | null,
    residual: number | null,
    combined: number,
    reason: string,
    extra?: Partial<BarAnomaly>,
  ) => {
    if (!severityAtLeast(severity, config.reportMinSeverity)) return;
    out.push({
      index,
      ts: ts[index],
      kind,
      scores: { rules: ruleScore, isolation_forest: forestScore, forecast_residual: residual },
      combined: Math.min(1, Math.max(0, combined)),
      severity,
      reason,
      ...extra,
    });
  };

  const statsOf = (j: number) => {
    if (j < W || stats.valid[j] === 0) return { f: null as number | null, q: null as number | null, s: 0, fPrime: 0 };
    const fs = j >= fj0 && j < fj1 ? forest[j - fj0] : NaN;
    const q = Math.max(stats.priceResidual[j], stats.volumeResidual[j]);
    if (Number.isNaN(fs)) return { f: null, q, s: q, fPrime: 0 };
    const fPrime = Math.min(1, Math.max(0, (fs - 0.5) / (config.forest.fullScore - 0.5)));
    return { f: fs, q, s: config.weights.isolationForest * fPrime + config.weights.forecastResidual * q, fPrime };
  };

  const lnBadTick = Math.log(rules.badTickMinFactor);
  const lnBadTickCritical = Math.log(rules.badTickCriticalFactor);

  for (let d = firstNew; d < n; d++) {
    // ---- Rules decided on arrival of bar d.
    const trades = tradesOn(calendar, ts[d]);
    const miss = missingBarsBefore(ts, d, timeframe, calendar);
    if (miss) {
      const st = statsOf(d);
      const crit = miss.bars >= rules.gapCriticalBars;
      const what =
        miss.sessions > 0 && timeframe !== '1d'
          ? `${miss.sessions} trading session(s)`
          : `${miss.bars} expected ${timeframe} bar(s)`;
      push(
        d,
        'gap',
        crit ? 'CRITICAL' : 'HIGH',
        crit ? 1 : 0.85,
        st.f,
        st.q,
        Math.max(crit ? 1 : 0.85, st.s),
        `${what} missing between ${formatIsoUtc(ts[d - 1])} and ${formatIsoUtc(ts[d])} on the ${calendar} calendar`,
      );
    }
    if (classCfg.volumeTraded && trades && !(volume[d] > 0)) {
      const crit = !(volume[d] === 0);
      push(
        d,
        'zero_volume',
        crit ? 'CRITICAL' : 'HIGH',
        crit ? 1 : 0.85,
        null,
        null,
        crit ? 1 : 0.85,
        `volume ${volume[d]} on a trading day of the ${calendar} calendar`,
      );
    }
    if (trades) {
      const run = staleRunEndingAt(bars, d, rules.staleCriticalBars);
      if (run >= rules.staleMinBars) {
        const first = run === rules.staleMinBars ? d - run + 1 : d;
        for (let k = first; k <= d; k++) {
          const crit = run >= rules.staleCriticalBars;
          push(
            k,
            'stale',
            crit ? 'CRITICAL' : 'HIGH',
            crit ? 1 : 0.85,
            null,
            null,
            crit ? 1 : 0.85,
            `open = high = low = close = ${fmtPrice(close[k])}, unchanged from the previous close, for ${run >= rules.staleCriticalBars ? `${run}+` : run} consecutive bars`,
          );
        }
      }
    }

    // ---- Price and statistical findings of bar j = d − 1, decided now that its next bar is known.
    const j = d - 1;
    if (j < 1 || j < firstNew - 1) continue;
    if (staleRunEndingAt(bars, j, 1) === 1) continue;
    const st = statsOf(j);
    if (!isConsistentBar(bars, j)) {
      push(
        j,
        'bad_tick',
        'CRITICAL',
        1,
        st.f,
        st.q,
        1,
        `prices inconsistent: open ${fmtPrice(open[j])} high ${fmtPrice(high[j])} low ${fmtPrice(low[j])} close ${fmtPrice(close[j])} (need 0 < low ≤ open, close ≤ high)`,
      );
      continue;
    }
    if (!isConsistentBar(bars, j - 1) || !isConsistentBar(bars, d)) continue; // neighbours unusable as a reference
    const split = matchSplit(bars, j, rules);
    if (split) {
      push(
        j,
        'probable_split',
        config.splitSeverity,
        0.5,
        st.f,
        st.q,
        Math.max(0.5, st.s),
        `overnight ratio ${split.priceRatio.toFixed(4)} (previous close ${fmtPrice(close[j - 1])} / open ${fmtPrice(open[j])}) matches a ${split.newShares}:${split.oldShares} split, volume ×${split.volumeRatio.toFixed(2)} against the previous bar; confirm as a corporate action`,
        {
          proposedSplit: { newShares: split.newShares, oldShares: split.oldShares },
        },
      );
      continue;
    }
    const exc = excursionAt(bars, j, rules.revertFraction);
    if (exc.reverted && exc.logSize >= lnBadTick) {
      const crit = exc.logSize >= lnBadTickCritical;
      const factor = Math.exp(exc.logSize);
      push(
        j,
        'bad_tick',
        crit ? 'CRITICAL' : 'HIGH',
        crit ? 1 : 0.85,
        st.f,
        st.q,
        Math.max(crit ? 1 : 0.85, st.s),
        `${exc.field} ${fmtPrice(exc.value)} is ${factor.toFixed(1)}× ${exc.value > exc.ref ? 'above' : 'below'} the neighbours' level ${fmtPrice(exc.ref)} and reverts next bar`,
      );
      continue;
    }
    if (st.q === null) continue;
    // The bar after a reverted excursion (or after a bad print) carries the revert: not a finding of its own.
    if (j >= 2) {
      if (!isConsistentBar(bars, j - 2)) continue;
      const prev = excursionAt(bars, j - 1, rules.revertFraction);
      if (prev.reverted && (prev.logSize >= lnBadTick || prev.logSize / stats.sigma[j] >= rules.spikeMinSigmas))
        continue;
    }
    const sigma = stats.sigma[j];
    // A wick (high above both open and close, or low below both) is sized against the intraday range scale: the
    // window's median Parkinson σ or either neighbour's own range, whichever is largest (so a regime change does not
    // make ordinary wicks look extreme). A close or open excursion is sized against the close-to-close σ.
    let z = exc.logSize / sigma;
    let scaleText = `σ = ${fmtPct(sigma)} per bar`;
    if (exc.field === 'high' || exc.field === 'low') {
      const wick =
        exc.field === 'high'
          ? Math.log(high[j] / Math.max(open[j], close[j]))
          : Math.log(Math.min(open[j], close[j]) / low[j]);
      const scale = Math.max(
        stats.rangeSigma[j],
        PARKINSON * Math.log(high[j - 1] / low[j - 1]),
        PARKINSON * Math.log(high[d] / low[d]),
      );
      if (scale > 0 && wick / scale > z) {
        z = wick / scale;
        scaleText = `a ${fmtPct(Math.expm1(wick))} wick, intraday σ = ${fmtPct(scale)}`;
      }
    }
    if (exc.reverted && z >= rules.spikeMinSigmas) {
      const pattern = 1 - Math.pow(5, -z / rules.spikeMinSigmas);
      const combined = Math.max(pattern, st.s);
      const sev = severityOfScore(combined, thresholds);
      if (sev) {
        push(
          j,
          'spike',
          sev,
          pattern,
          st.f,
          st.q,
          combined,
          `${exc.field} ${fmtPrice(exc.value)} is ${fmtPct(exc.value / exc.ref - 1)} from the neighbours' level ${fmtPrice(exc.ref)} (${z.toFixed(1)}σ, ${scaleText}) and reverts next bar`,
        );
      }
      continue;
    }
    const sev = severityOfScore(st.s, thresholds);
    const r = stats.ret[j];
    const move = (r - stats.drift[j]) / sigma;
    const volumeLed = stats.volumeResidual[j] >= stats.priceResidual[j] && stats.volumeSurprise[j] > 0;
    const detail = `isolation ${st.f === null ? 'n/a' : st.f.toFixed(3)}, forecast residual ${st.q.toFixed(3)}`;
    if (volumeLed) {
      // Volume that comes with a large price move is explained by it (volume follows |return|): informative only.
      const explained = Math.abs(move) >= 3;
      const u = stats.volumeSurprise[j];
      const pattern =
        !explained && u >= rules.volumeBurstMinWidths ? 1 - Math.pow(5, -u / rules.volumeBurstMinWidths) : null;
      const combined = Math.max(pattern ?? 0, st.s);
      const cap = explained ? minSeverity(config.volumeBurstMaxSeverity, 'MEDIUM') : config.volumeBurstMaxSeverity;
      const vsev = severityOfScore(combined, thresholds);
      if (vsev) {
        push(
          j,
          'volume_burst',
          minSeverity(vsev, cap),
          pattern,
          st.f,
          st.q,
          combined,
          `volume ${volume[j]} is ${u.toFixed(1)} interval half-widths above its forecast with a ${move.toFixed(1)}σ price move${explained ? ' (explained by the move)' : ''} (${detail})`,
        );
      }
    } else if (sev) {
      push(
        j,
        'outlier',
        minSeverity(sev, config.outlierMaxSeverity),
        null,
        st.f,
        st.q,
        st.s,
        `unusual bar: close ${fmtPct(Math.expm1(r))} (${move.toFixed(1)}σ), range ${fmtPct((high[j] - low[j]) / close[j])}; the move held (${detail})`,
      );
    }
  }
  out.sort((a, b) => a.index - b.index || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  return result;
}
