import {
  type IndicatorName,
  type StrategyCondition,
  type StrategyDefinition,
  type StrategyPeriod,
  type StrategyValue,
  type SignalModel,
} from '@strata/backtests-contracts';
import {
  atr,
  CORE_FEATURE_SET_VERSIONS,
  ema,
  realizedVolatility,
  roc,
  rsi,
  sma,
  type AnnualisationCalendar,
} from '@strata/shared-indicators';
import { barsPerYearOf, seriesCalendar, type BacktestData, type SymbolBars } from './backtest-data';
import { afterLeadingNaN, rollingExtreme, rollingStd, rollingZScore, shiftBack } from './rolling';
import {
  coreVersionOfSet,
  DEFAULT_STRATEGY_CATALOG,
  StrategyDefinitionError,
  validateStrategyDefinition,
  type StrategyCatalog,
} from './strategy-validation';

/**
 * Entry and exit signals of one symbol, one byte per bar (1 = the condition holds at that bar's close), aligned to
 * the symbol's bars. `null` = the rule is absent (never true).
 */
export interface SymbolSignals {
  entryLong: Uint8Array | null;
  exitLong: Uint8Array | null;
  entryShort: Uint8Array | null;
  exitShort: Uint8Array | null;
}

/**
 * Turns data into signals. The default is the compiled strategy definition ({@link strategySignalSource}); tests and
 * later the ML services plug in other sources. A source must be point-in-time (signal at bar t reads bars ≤ t) —
 * {@link checkLookAhead} verifies it empirically.
 */
export type SignalSource = (data: BacktestData) => SymbolSignals[];

/**
 * Memo of computed series (indicators, features) per symbol, keyed by the bars object and the canonical expression.
 * Share one across runs over the same data (parameter sweeps) so that e.g. SMA(50) is computed once.
 */
export class SeriesCache {
  private readonly bySeries = new WeakMap<SymbolBars, Map<string, Float64Array>>();
  /** The memo of one symbol's bars. */
  of(bars: SymbolBars): Map<string, Float64Array> {
    let m = this.bySeries.get(bars);
    if (!m) {
      m = new Map();
      this.bySeries.set(bars, m);
    }
    return m;
  }
}

/** A value is either one number for every bar or a series. */
type Evaluated = number | Float64Array;

/**
 * Evaluates values and conditions of the strategy language over one symbol's bars. Every series is point-in-time:
 * indicators come from `@strata/shared-indicators` / {@link rollingStd}-style kernels that read bars ≤ t, and `ref`
 * only shifts backwards (a negative shift throws).
 */
export class SeriesEvaluator {
  readonly n: number;
  readonly calendar: AnnualisationCalendar;
  readonly barsPerYear: number;
  private readonly memo: Map<string, Float64Array>;

  constructor(
    readonly bars: SymbolBars,
    readonly timeframe: BacktestData['timeframe'],
    private readonly params: Readonly<Record<string, number>>,
    cache: SeriesCache = new SeriesCache(),
    /** Models behind `{ signal: name }` references (resolved aliases); an `external` column of the bars wins. */
    private readonly signalModels: Readonly<Record<string, SignalModel>> = {},
  ) {
    this.n = bars.ts.length;
    this.calendar = seriesCalendar(bars.ts);
    this.barsPerYear = barsPerYearOf(timeframe, bars.ts);
    this.memo = cache.of(bars);
  }

  /** The series of a condition, 1 where it holds (NaN operands make a comparison false). */
  condition(c: StrategyCondition): Uint8Array {
    const n = this.n;
    if ('all' in c || 'any' in c) {
      const parts = ('all' in c ? c.all : c.any).map((x) => this.condition(x));
      const out = parts[0].slice();
      if ('all' in c) for (let k = 1; k < parts.length; k++) for (let i = 0; i < n; i++) out[i] &= parts[k][i];
      else for (let k = 1; k < parts.length; k++) for (let i = 0; i < n; i++) out[i] |= parts[k][i];
      return out;
    }
    if ('not' in c) {
      const inner = this.condition(c.not);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = inner[i] ^ 1;
      return out;
    }
    const l = this.value(c.left);
    const r = this.value(c.right);
    if ('cross' in c) return cross(l, r, c.cross === 'above' ? 1 : -1, n);
    return compare(l, r, c.cmp, n);
  }

  /** A value: a number (constants, parameters) or a series of length n. */
  value(v: StrategyValue): Evaluated {
    if ('const' in v) return v.const;
    if ('param' in v) return this.param(v.param);
    const key = this.key(v);
    const hit = this.memo.get(key);
    if (hit) return hit;
    const out = this.compute(v);
    if (typeof out === 'number') return out;
    this.memo.set(key, out);
    return out;
  }

  /** A value as a series (a constant is broadcast). */
  series(v: StrategyValue): Float64Array {
    const e = this.value(v);
    return typeof e === 'number' ? new Float64Array(this.n).fill(e) : e;
  }

  private param(name: string): number {
    const p = this.params[name];
    if (p === undefined)
      throw new StrategyDefinitionError([
        { path: 'params', reason: 'unknown_param', message: `parameter ${name} is not defined` },
      ]);
    return p;
  }

  private period(p: StrategyPeriod): number {
    return typeof p === 'number' ? p : this.param(p.param);
  }

  /** Canonical cache key with parameters resolved. */
  private key(v: StrategyValue): string {
    if ('const' in v) return String(v.const);
    if ('param' in v) return String(this.param(v.param));
    if ('bar' in v) return v.bar;
    if ('feature' in v) return `f:${v.set ?? 'core'}:${v.feature}`;
    // The model version is part of the key: a memo shared by runs over the same bars must not mix models.
    if ('signal' in v) return `s:${v.signal}@${this.signalModels[v.signal]?.modelId ?? 'external'}`;
    if ('regime' in v) return `r:${v.regime}`;
    if ('indicator' in v) return `${v.indicator}(${this.period(v.period)},${v.source ? this.key(v.source) : 'close'})`;
    if ('ref' in v) return `ref(${this.key(v.ref)},${v.bars})`;
    return `${v.op}(${this.key(v.left)},${this.key(v.right)})`;
  }

  private compute(v: StrategyValue): Evaluated {
    const b = this.bars;
    if ('bar' in v) return b[v.bar];
    if ('feature' in v) return this.feature(v.set ?? 'core', v.feature);
    if ('signal' in v || 'regime' in v) {
      const name = 'signal' in v ? `signal:${v.signal}` : `regime:${v.regime}`;
      const col = b.external?.[name];
      if (!col && 'signal' in v && this.signalModels[v.signal])
        return this.modelScores(v.signal, this.signalModels[v.signal]);
      if (!col)
        throw new StrategyDefinitionError([
          {
            path: name,
            reason: 'signal' in v ? 'unknown_signal' : 'unknown_regime',
            message: `${b.symbol} has no series ${name}`,
          },
        ]);
      return col;
    }
    if ('indicator' in v) {
      const p = this.period(v.period);
      switch (v.indicator) {
        case 'atr':
          return atr(b.high, b.low, b.close, p);
        case 'rv':
          return realizedVolatility(b.close, p, this.barsPerYear);
        default: {
          const src = v.source ? this.series(v.source) : b.close;
          return afterLeadingNaN(src, (x) => indicator(v.indicator, x, p));
        }
      }
    }
    if ('ref' in v) {
      if (v.bars < 0)
        throw new StrategyDefinitionError([
          { path: 'ref.bars', reason: 'future_reference', message: `ref with bars = ${v.bars} reads the future` },
        ]);
      const inner = this.value(v.ref);
      return typeof inner === 'number' ? inner : shiftBack(inner, v.bars);
    }
    if ('op' in v) return arithmetic(v.op, this.value(v.left), this.value(v.right), this.n);
    return this.value(v);
  }

  private modelScores(name: string, m: SignalModel): Float64Array {
    if (coreVersionOfSet(m.featureSet) === undefined) {
      throw new StrategyDefinitionError([
        {
          path: `signal:${name}`,
          reason: 'unknown_signal',
          message: `model ${m.modelId} reads feature set ${m.featureSet}, which the engine cannot compute`,
        },
      ]);
    }
    return m.score(
      m.featureNames.map((f) => this.feature(m.featureSet, f)),
      this.n,
    );
  }

  private feature(set: string, name: string): Float64Array {
    const version = coreVersionOfSet(set);
    if (version === undefined)
      throw new StrategyDefinitionError([
        {
          path: 'feature.set',
          reason: 'unknown_feature_set',
          message: `feature set ${set} cannot be computed by the engine`,
        },
      ]);
    const key = `f:${set}:${name}`;
    if (!this.memo.has(key)) {
      // One pass computes all 22 columns of that `core` version from the same bars the strategy trades (same kernels
      // and calendar as the feature store, so the values equal the stored ones for the same adjusted bars).
      const cols = CORE_FEATURE_SET_VERSIONS[version].computeTail(this.bars, 0, {
        timeframe: this.timeframe,
        calendar: this.calendar,
      });
      for (const [k, col] of Object.entries(cols)) this.memo.set(`f:${set}:${k}`, col);
    }
    const col = this.memo.get(key);
    if (!col)
      throw new StrategyDefinitionError([
        { path: 'feature', reason: 'unknown_feature', message: `feature set ${set} has no feature ${name}` },
      ]);
    return col;
  }
}

function indicator(name: IndicatorName, x: Float64Array, p: number): Float64Array {
  switch (name) {
    case 'sma':
      return sma(x, p);
    case 'ema':
      return ema(x, p);
    case 'rsi':
      return rsi(x, p);
    case 'roc':
      return roc(x, p);
    case 'stdev':
      return rollingStd(x, p);
    case 'zscore':
      return rollingZScore(x, p);
    case 'highest':
      return rollingExtreme(x, p, 1);
    case 'lowest':
      return rollingExtreme(x, p, -1);
    default:
      throw new RangeError(`indicator ${name} needs the bars, not a source`);
  }
}

function arithmetic(op: string, l: Evaluated, r: Evaluated, n: number): Evaluated {
  const f = OPS[op];
  if (typeof l === 'number' && typeof r === 'number') return f(l, r);
  const out = new Float64Array(n);
  if (typeof l === 'number') for (let i = 0; i < n; i++) out[i] = f(l, (r as Float64Array)[i]);
  else if (typeof r === 'number') for (let i = 0; i < n; i++) out[i] = f(l[i], r);
  else for (let i = 0; i < n; i++) out[i] = f(l[i], r[i]);
  return out;
}

const OPS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  // Division by zero is undefined, not infinite: NaN makes every comparison on it false.
  div: (a, b) => (b === 0 ? NaN : a / b),
  min: (a, b) => (a !== a || b !== b ? NaN : Math.min(a, b)),
  max: (a, b) => (a !== a || b !== b ? NaN : Math.max(a, b)),
};

function compare(l: Evaluated, r: Evaluated, op: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const ls = typeof l === 'number' ? null : l;
  const rs = typeof r === 'number' ? null : r;
  const lc = typeof l === 'number' ? l : 0;
  const rc = typeof r === 'number' ? r : 0;
  // Comparisons with NaN are false in IEEE arithmetic; `ne` is written so that NaN gives false too.
  switch (op) {
    case 'gt':
      for (let i = 0; i < n; i++) out[i] = (ls ? ls[i] : lc) > (rs ? rs[i] : rc) ? 1 : 0;
      break;
    case 'gte':
      for (let i = 0; i < n; i++) out[i] = (ls ? ls[i] : lc) >= (rs ? rs[i] : rc) ? 1 : 0;
      break;
    case 'lt':
      for (let i = 0; i < n; i++) out[i] = (ls ? ls[i] : lc) < (rs ? rs[i] : rc) ? 1 : 0;
      break;
    case 'lte':
      for (let i = 0; i < n; i++) out[i] = (ls ? ls[i] : lc) <= (rs ? rs[i] : rc) ? 1 : 0;
      break;
    case 'eq':
      for (let i = 0; i < n; i++) out[i] = (ls ? ls[i] : lc) === (rs ? rs[i] : rc) ? 1 : 0;
      break;
    default:
      for (let i = 0; i < n; i++) {
        const a = ls ? ls[i] : lc;
        const b = rs ? rs[i] : rc;
        out[i] = a === a && b === b && a !== b ? 1 : 0;
      }
  }
  return out;
}

/** Crossing at t: `dir·(l[t] − r[t]) > 0` and `dir·(l[t−1] − r[t−1]) ≤ 0`, written with comparisons so NaN is false. */
function cross(l: Evaluated, r: Evaluated, dir: 1 | -1, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const L = typeof l === 'number' ? null : l;
  const R = typeof r === 'number' ? null : r;
  const lc = typeof l === 'number' ? l : 0;
  const rc = typeof r === 'number' ? r : 0;
  if (L && R) {
    // Hot path (SMA crossover): both series.
    let pl = L[0];
    let pr = R[0];
    if (dir === 1) {
      for (let i = 1; i < n; i++) {
        const a = L[i];
        const b = R[i];
        out[i] = a > b && pl <= pr ? 1 : 0;
        pl = a;
        pr = b;
      }
    } else {
      for (let i = 1; i < n; i++) {
        const a = L[i];
        const b = R[i];
        out[i] = a < b && pl >= pr ? 1 : 0;
        pl = a;
        pr = b;
      }
    }
    return out;
  }
  for (let i = 1; i < n; i++) {
    const a = L ? L[i] : lc;
    const b = R ? R[i] : rc;
    const pa = L ? L[i - 1] : lc;
    const pb = R ? R[i - 1] : rc;
    out[i] = dir === 1 ? (a > b && pa <= pb ? 1 : 0) : a < b && pa >= pb ? 1 : 0;
  }
  return out;
}

/** Options of {@link strategySignalSource}. */
export interface StrategySignalOptions {
  /** Parameter overrides on top of `definition.params`. */
  params?: Readonly<Record<string, number>>;
  catalog?: StrategyCatalog;
  /** Shared memo for sweeps over the same data. */
  cache?: SeriesCache;
  /** Models behind the definition's `{ signal: name }` references. */
  signalModels?: Readonly<Record<string, SignalModel>>;
}

/**
 * The signal source of a strategy definition: validates it ({@link validateStrategyDefinition}; throws
 * {@link StrategyDefinitionError}) and evaluates the entry/exit rules of every symbol, column by column.
 */
export function strategySignalSource(definition: StrategyDefinition, opts: StrategySignalOptions = {}): SignalSource {
  const issues = validateStrategyDefinition(definition, opts.catalog ?? DEFAULT_STRATEGY_CATALOG, opts.params ?? {});
  if (issues.length) throw new StrategyDefinitionError(issues);
  const params = { ...definition.params, ...(opts.params ?? {}) };
  const long = definition.direction !== 'short';
  const short = definition.direction !== 'long';
  return (data) =>
    data.symbols.map((bars) => {
      const ev = new SeriesEvaluator(bars, data.timeframe, params, opts.cache, opts.signalModels);
      return {
        entryLong: long && definition.entry.long ? ev.condition(definition.entry.long) : null,
        exitLong: long && definition.exit.long ? ev.condition(definition.exit.long) : null,
        entryShort: short && definition.entry.short ? ev.condition(definition.entry.short) : null,
        exitShort: short && definition.exit.short ? ev.condition(definition.exit.short) : null,
      };
    });
}
