import { type TradingCalendar } from '@strata/shared-timeseries';
import { SEVERITIES, type Severity } from './sentinel.types';

/** Classes of instrument with their own calendars and severity thresholds. */
export const SYMBOL_CLASSES = ['equity', 'crypto', 'fx'] as const;
/** One of {@link SYMBOL_CLASSES}. */
export type SymbolClass = (typeof SYMBOL_CLASSES)[number];

/**
 * Lower bounds of the combined score (in [0, 1]) for each severity of a statistical finding: a score ≥ `HIGH` and
 * < `CRITICAL` is HIGH. Must be strictly increasing LOW < MEDIUM < HIGH < CRITICAL.
 */
export type SeverityThresholds = Record<Severity, number>;

/** Per-class settings. */
export interface SymbolClassConfig {
  /** Calendar used for gap, stale and zero-volume checks when the request gives none. */
  calendar: TradingCalendar;
  /** Combined-score thresholds per severity. */
  thresholds: SeverityThresholds;
  /** Whether volume is meaningful (false for FX tick counts): disables zero-volume checks and volume features. */
  volumeTraded: boolean;
}

/**
 * Everything the sentinel's scorer can be told. Plain data (no zod) so the domain stays dependency-free; the service
 * parses an env JSON override and calls {@link mergeSentinelConfig}, which validates the result.
 */
export interface SentinelConfig {
  /** Bars in every rolling window (median, volume z-score, volatility, forecast), default 20. */
  windowBars: number;
  /** Isolation Forest settings. */
  forest: {
    /** Trees (default 100). */
    trees: number;
    /** Subsample ψ per tree (default 256). */
    subsample: number;
    /** Base PRNG seed; the forest of a refit bucket is seeded with `${seed}:${bucket}`. */
    seed: number;
    /** Bars before the bucket start the forest is fitted on (default 1024). */
    trainBars: number;
    /** Refit bucket: about this many bars at the calendar's nominal density (default 512); one forest per bucket. */
    refitEveryBars: number;
    /** Fewer valid training bars than this: the forest does not run (score null). Default 64. */
    minTrainBars: number;
    /** Score mapped to 1 in the blend: f' = clamp((s − 0.5) / (full − 0.5), 0, 1). Default 0.75. */
    fullScore: number;
  };
  /** Forecast-residual settings. */
  forecast: {
    /** Two-sided prediction-interval z (default 1.96, a 95 % interval). */
    intervalZ: number;
    /** Smoothing constant of the log-volume level (simple exponential smoothing, default 0.3). */
    volumeAlpha: number;
    /** Expected rise of log volume per σ of absolute move beyond 0.8σ (volume follows price, default 0.5). */
    volumeElasticity: number;
  };
  /** Weights of the statistical blend S = wF·f' + wR·q (must sum to 1). */
  weights: { isolationForest: number; forecastResidual: number };
  /** Rule and pattern settings. */
  rules: {
    /** Consecutive stale bars (O = H = L = C = previous close) before `stale` fires (default 3). */
    staleMinBars: number;
    /** A stale run this long is CRITICAL (default 10). */
    staleCriticalBars: number;
    /** Missing expected bars at which a gap is CRITICAL instead of HIGH (default 10). */
    gapCriticalBars: number;
    /** A price this many times off its neighbours (or 1/x) that reverts is a `bad_tick` (default 2). */
    badTickMinFactor: number;
    /** A bad tick at least this many times off is CRITICAL (default 5). */
    badTickCriticalFactor: number;
    /** A reverting excursion of at least this many σ is a `spike` (default 5.5); its pattern score is 0.8 here. */
    spikeMinSigmas: number;
    /**
     * Log volume this many prediction-interval half-widths above its forecast, on a bar that moved less than 3σ, is a
     * `volume_burst` pattern (default 2.5; pattern score 0.8 here, 0.96 at twice).
     */
    volumeBurstMinWidths: number;
    /** Share of an excursion the neighbours must come back by for it to count as reverting (default 0.6). */
    revertFraction: number;
    /** Split factors (new shares per old share) recognised as probable splits. */
    splitFactors: { newShares: number; oldShares: number }[];
    /** Max |ln(prevClose / open) − ln(factor)| for a split match (default 0.03). */
    splitRatioTolerance: number;
  };
  /** Highest severity of an `outlier` (a statistical finding no pattern explains). Default MEDIUM: it informs, never pages. */
  outlierMaxSeverity: Severity;
  /** Highest severity of a `volume_burst` (default HIGH). */
  volumeBurstMaxSeverity: Severity;
  /** Severity of a `probable_split` (default MEDIUM: proposed for an operator, never paged). */
  splitSeverity: Severity;
  /** Findings below this severity are not returned (default LOW: everything). */
  reportMinSeverity: Severity;
  /** Per-class settings. */
  classes: Record<SymbolClass, SymbolClassConfig>;
  /** Exact-symbol class overrides (upper-case symbol → class), consulted before the heuristics. */
  symbolClassOverrides: Record<string, SymbolClass>;
}

const COMMON_SPLITS: [number, number][] = [
  [2, 1],
  [3, 2],
  [3, 1],
  [4, 1],
  [5, 1],
  [7, 1],
  [8, 1],
  [10, 1],
  [20, 1],
  [1, 2],
  [1, 3],
  [1, 4],
  [1, 5],
  [1, 8],
  [1, 10],
  [1, 20],
  [1, 50],
];

/** The defaults; every field documented on {@link SentinelConfig}. Frozen: merge overrides with {@link mergeSentinelConfig}. */
export const DEFAULT_SENTINEL_CONFIG: Readonly<SentinelConfig> = Object.freeze({
  windowBars: 20,
  forest: {
    trees: 100,
    subsample: 256,
    seed: 42,
    trainBars: 1024,
    refitEveryBars: 512,
    minTrainBars: 64,
    fullScore: 0.75,
  },
  forecast: { intervalZ: 1.96, volumeAlpha: 0.3, volumeElasticity: 0.5 },
  weights: { isolationForest: 0.4, forecastResidual: 0.6 },
  rules: {
    staleMinBars: 3,
    staleCriticalBars: 10,
    gapCriticalBars: 10,
    badTickMinFactor: 2,
    badTickCriticalFactor: 5,
    spikeMinSigmas: 5.5,
    volumeBurstMinWidths: 2.5,
    revertFraction: 0.6,
    splitFactors: COMMON_SPLITS.map(([newShares, oldShares]) => ({ newShares, oldShares })),
    splitRatioTolerance: 0.03,
  },
  outlierMaxSeverity: 'MEDIUM',
  volumeBurstMaxSeverity: 'HIGH',
  splitSeverity: 'MEDIUM',
  reportMinSeverity: 'LOW',
  classes: {
    equity: { calendar: 'nyse', thresholds: { LOW: 0.5, MEDIUM: 0.65, HIGH: 0.8, CRITICAL: 0.95 }, volumeTraded: true },
    crypto: {
      calendar: '24x7',
      thresholds: { LOW: 0.55, MEDIUM: 0.7, HIGH: 0.82, CRITICAL: 0.96 },
      volumeTraded: true,
    },
    fx: {
      calendar: 'weekdays',
      thresholds: { LOW: 0.5, MEDIUM: 0.65, HIGH: 0.8, CRITICAL: 0.95 },
      volumeTraded: false,
    },
  },
  symbolClassOverrides: {},
} satisfies SentinelConfig);

/** A partial override: any subset of fields at any depth (arrays replace wholesale). */
export type SentinelConfigOverride = {
  [K in keyof SentinelConfig]?: SentinelConfig[K] extends unknown[]
    ? SentinelConfig[K]
    : SentinelConfig[K] extends object
      ? {
          [P in keyof SentinelConfig[K]]?: SentinelConfig[K][P] extends object
            ? Partial<SentinelConfig[K][P]>
            : SentinelConfig[K][P];
        }
      : SentinelConfig[K];
};

/** Thrown by {@link mergeSentinelConfig} for an invalid config; `issues` lists every bad field as `path: reason`. */
export class SentinelConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid sentinel config: ${issues.join('; ')}`);
    this.name = 'SentinelConfigError';
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown, path: string, issues: string[]): unknown {
  if (over === undefined) return structuredClone(base);
  if (isPlainObject(base)) {
    if (!isPlainObject(over)) {
      issues.push(`${path || '(root)'}: must be an object`);
      return structuredClone(base);
    }
    const out: Record<string, unknown> = {};
    const openKeys = path === 'symbolClassOverrides';
    for (const k of Object.keys(over)) {
      if (!openKeys && !(k in base)) issues.push(`${path ? path + '.' : ''}${k}: unknown field`);
    }
    for (const k of new Set([...Object.keys(base), ...(openKeys ? Object.keys(over) : [])])) {
      out[k] = openKeys ? (over[k] ?? base[k]) : deepMerge(base[k], over[k], path ? `${path}.${k}` : k, issues);
    }
    return out;
  }
  return over;
}

/**
 * Merges a partial override into `base` (default {@link DEFAULT_SENTINEL_CONFIG}) and validates the result.
 * @throws SentinelConfigError naming every invalid or unknown field and why.
 */
export function mergeSentinelConfig(
  override: SentinelConfigOverride | Record<string, unknown> = {},
  base: Readonly<SentinelConfig> = DEFAULT_SENTINEL_CONFIG,
): SentinelConfig {
  const issues: string[] = [];
  const cfg = deepMerge(base, override, '', issues) as SentinelConfig;
  const bad = (path: string, why: string) => issues.push(`${path}: ${why}`);
  const int = (path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => {
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max))
      bad(path, `must be an integer in [${min}, ${max}]`);
  };
  const num = (path: string, v: unknown, min: number, max: number, openMin = false) => {
    if (!(typeof v === 'number' && Number.isFinite(v) && (openMin ? v > min : v >= min) && v <= max))
      bad(path, `must be a number in ${openMin ? '(' : '['}${min}, ${max}]`);
  };
  const sev = (path: string, v: unknown) => {
    if (!SEVERITIES.includes(v as Severity)) bad(path, `must be one of ${SEVERITIES.join(', ')}`);
  };
  int('windowBars', cfg.windowBars, 5, 1000);
  int('forest.trees', cfg.forest?.trees, 1, 10_000);
  int('forest.subsample', cfg.forest?.subsample, 2, 65_536);
  int('forest.seed', cfg.forest?.seed, 0);
  int('forest.trainBars', cfg.forest?.trainBars, 16, 1_000_000);
  int('forest.refitEveryBars', cfg.forest?.refitEveryBars, 1, 1_000_000);
  int('forest.minTrainBars', cfg.forest?.minTrainBars, 2, 1_000_000);
  num('forest.fullScore', cfg.forest?.fullScore, 0.5, 1, true);
  num('forecast.intervalZ', cfg.forecast?.intervalZ, 0, 10, true);
  num('forecast.volumeAlpha', cfg.forecast?.volumeAlpha, 0, 1, true);
  num('forecast.volumeElasticity', cfg.forecast?.volumeElasticity, 0, 10);
  num('weights.isolationForest', cfg.weights?.isolationForest, 0, 1);
  num('weights.forecastResidual', cfg.weights?.forecastResidual, 0, 1);
  if (Math.abs((cfg.weights?.isolationForest ?? 0) + (cfg.weights?.forecastResidual ?? 0) - 1) > 1e-9)
    bad('weights', 'isolationForest + forecastResidual must sum to 1');
  const r = cfg.rules ?? ({} as SentinelConfig['rules']);
  int('rules.staleMinBars', r.staleMinBars, 2, 10_000);
  int('rules.staleCriticalBars', r.staleCriticalBars, 2, 10_000);
  if (r.staleCriticalBars < r.staleMinBars) bad('rules.staleCriticalBars', 'must be >= rules.staleMinBars');
  int('rules.gapCriticalBars', r.gapCriticalBars, 1);
  num('rules.badTickMinFactor', r.badTickMinFactor, 1, 1e6, true);
  num('rules.badTickCriticalFactor', r.badTickCriticalFactor, 1, 1e6, true);
  if (r.badTickCriticalFactor < r.badTickMinFactor)
    bad('rules.badTickCriticalFactor', 'must be >= rules.badTickMinFactor');
  num('rules.spikeMinSigmas', r.spikeMinSigmas, 0, 1000, true);
  num('rules.volumeBurstMinWidths', r.volumeBurstMinWidths, 0, 1000, true);
  num('rules.revertFraction', r.revertFraction, 0, 1, true);
  num('rules.splitRatioTolerance', r.splitRatioTolerance, 0, 0.2, true);
  if (!Array.isArray(r.splitFactors)) bad('rules.splitFactors', 'must be an array');
  else {
    r.splitFactors.forEach((f, i) => {
      int(`rules.splitFactors.${i}.newShares`, f?.newShares, 1, 10_000);
      int(`rules.splitFactors.${i}.oldShares`, f?.oldShares, 1, 10_000);
      if (f?.newShares === f?.oldShares) bad(`rules.splitFactors.${i}`, 'newShares must differ from oldShares');
    });
  }
  sev('outlierMaxSeverity', cfg.outlierMaxSeverity);
  sev('volumeBurstMaxSeverity', cfg.volumeBurstMaxSeverity);
  sev('splitSeverity', cfg.splitSeverity);
  sev('reportMinSeverity', cfg.reportMinSeverity);
  for (const c of SYMBOL_CLASSES) {
    const k = cfg.classes?.[c];
    if (!isPlainObject(k)) {
      bad(`classes.${c}`, 'must be an object');
      continue;
    }
    if (!['nyse', 'weekdays', '24x7'].includes(k.calendar))
      bad(`classes.${c}.calendar`, "must be 'nyse', 'weekdays' or '24x7'");
    if (typeof k.volumeTraded !== 'boolean') bad(`classes.${c}.volumeTraded`, 'must be a boolean');
    let prev = 0;
    for (const s of SEVERITIES) {
      const t = k.thresholds?.[s];
      num(`classes.${c}.thresholds.${s}`, t, 0, 1, true);
      if (typeof t === 'number' && t <= prev)
        bad(`classes.${c}.thresholds.${s}`, 'thresholds must increase LOW < MEDIUM < HIGH < CRITICAL');
      if (typeof t === 'number') prev = t;
    }
  }
  for (const [sym, c] of Object.entries(cfg.symbolClassOverrides ?? {})) {
    if (!SYMBOL_CLASSES.includes(c)) bad(`symbolClassOverrides.${sym}`, `must be one of ${SYMBOL_CLASSES.join(', ')}`);
  }
  if (issues.length) throw new SentinelConfigError(issues);
  return cfg;
}

/**
 * Parses a JSON override (e.g. the service's `SENTINEL_CONFIG` env variable) and merges it with {@link mergeSentinelConfig}.
 * Empty or blank text gives the defaults.
 * @throws SentinelConfigError for malformed JSON or an invalid config.
 */
export function sentinelConfigFromJson(text: string | undefined): SentinelConfig {
  if (text === undefined || text.trim() === '') return mergeSentinelConfig({});
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SentinelConfigError([`(json): ${(e as Error).message}`]);
  }
  if (!isPlainObject(parsed)) throw new SentinelConfigError(['(root): must be a JSON object']);
  return mergeSentinelConfig(parsed);
}

/** Crypto base assets recognised by {@link symbolClassOf} (quote currencies: USD, USDT, USDC, EUR, BTC, ETH). */
const CRYPTO_BASES = new Set([
  'BTC',
  'XBT',
  'ETH',
  'SOL',
  'ADA',
  'XRP',
  'DOGE',
  'LTC',
  'BCH',
  'DOT',
  'AVAX',
  'LINK',
  'MATIC',
  'BNB',
  'TRX',
  'ATOM',
  'UNI',
  'XLM',
  'ETC',
  'FIL',
  'SHIB',
]);
const CRYPTO_QUOTES = ['USDT', 'USDC', 'USD', 'EUR', 'BTC', 'ETH'];
/** ISO 4217 currencies recognised for FX pairs. */
const FX_CURRENCIES = new Set([
  'USD',
  'EUR',
  'JPY',
  'GBP',
  'CHF',
  'AUD',
  'NZD',
  'CAD',
  'SEK',
  'NOK',
  'DKK',
  'HKD',
  'SGD',
  'CNH',
  'MXN',
  'ZAR',
  'TRY',
  'PLN',
]);

/**
 * Class of a symbol: an exact entry of `overrides` first; then crypto for a known crypto base followed by a quote
 * currency (`BTCUSD`, `ETH-USDT`, `SOL/USD`); then FX for two ISO currencies (`EURUSD`, `USD/JPY`); else equity.
 */
export function symbolClassOf(symbol: string, overrides: Readonly<Record<string, SymbolClass>> = {}): SymbolClass {
  const s = symbol.toUpperCase();
  const o = overrides[s] ?? overrides[symbol];
  if (o) return o;
  const bare = s.replace(/[-/_.:]/g, '');
  for (const q of CRYPTO_QUOTES) {
    if (bare.length > q.length && bare.endsWith(q) && CRYPTO_BASES.has(bare.slice(0, -q.length))) return 'crypto';
  }
  if (bare.length === 6 && FX_CURRENCIES.has(bare.slice(0, 3)) && FX_CURRENCIES.has(bare.slice(3))) return 'fx';
  return 'equity';
}

/** True when severity `s` is at least `min` on the ladder LOW < MEDIUM < HIGH < CRITICAL. */
export function severityAtLeast(s: Severity, min: Severity): boolean {
  return SEVERITIES.indexOf(s) >= SEVERITIES.indexOf(min);
}

/** The lower of two severities. */
export function minSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b;
}

/** Severity of a combined score under `thresholds`, or null below LOW. */
export function severityOfScore(score: number, thresholds: SeverityThresholds): Severity | null {
  if (score >= thresholds.CRITICAL) return 'CRITICAL';
  if (score >= thresholds.HIGH) return 'HIGH';
  if (score >= thresholds.MEDIUM) return 'MEDIUM';
  if (score >= thresholds.LOW) return 'LOW';
  return null;
}
