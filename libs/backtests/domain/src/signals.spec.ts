import { StrategyDefinitionV1Schema, type StrategyCondition, type StrategyValue } from '@strata/backtests-contracts';
import { computeCoreFeatures, randomWalkBars, rsi, sma } from '@strata/shared-indicators';
import type { SymbolBars } from './backtest-data';
import { rollingExtreme, rollingStd, rollingZScore, shiftBack } from './rolling';
import { SeriesCache, SeriesEvaluator, strategySignalSource } from './signals';
import { StrategyDefinitionError, validateStrategyDefinition } from './strategy-validation';
import { definition } from './testing/fixtures';
import { STRATEGY_TEMPLATES } from './templates';

const rw = randomWalkBars(400, 7);
const BARS: SymbolBars = {
  symbol: 'RW',
  ts: Float64Array.from({ length: 400 }, (_, i) => Date.UTC(2020, 0, 1) + i * 86_400_000),
  ...rw,
};
const ev = (params: Record<string, number> = {}) => new SeriesEvaluator(BARS, '1d', params);
const asArray = (x: number | Float64Array) => (typeof x === 'number' ? x : Array.from(x));

describe('SeriesEvaluator values', () => {
  it('ref shifts backwards only; a negative shift is refused as future_reference', () => {
    const v = ev().value({ ref: { bar: 'close' }, bars: 3 }) as Float64Array;
    expect(Number.isNaN(v[2])).toBe(true);
    for (let t = 3; t < 400; t++) expect(v[t]).toBe(BARS.close[t - 3]);
    expect(() => ev().value({ ref: { bar: 'close' }, bars: -1 })).toThrow(StrategyDefinitionError);
    expect(() => shiftBack(BARS.close, -1)).toThrow(RangeError);
  });

  it('indicators match the kernels and naive windows', () => {
    const e = ev({ p: 10 });
    expect(asArray(e.value({ indicator: 'sma', period: { param: 'p' } }))).toEqual(Array.from(sma(BARS.close, 10)));
    expect(asArray(e.value({ indicator: 'rsi', period: 14 }))).toEqual(Array.from(rsi(BARS.close, 14)));
    const hi = e.value({ indicator: 'highest', period: 20, source: { bar: 'high' } }) as Float64Array;
    const lo = e.value({ indicator: 'lowest', period: 20, source: { bar: 'low' } }) as Float64Array;
    for (let t = 0; t < 400; t++) {
      if (t < 19) {
        expect(Number.isNaN(hi[t])).toBe(true);
        continue;
      }
      expect(hi[t]).toBe(Math.max(...BARS.high.subarray(t - 19, t + 1)));
      expect(lo[t]).toBe(Math.min(...BARS.low.subarray(t - 19, t + 1)));
    }
  });

  it('an indicator over a derived source starts after the source warm-up', () => {
    // SMA(5) of RSI(14): first RSI at 14, first SMA of it at 18.
    const v = ev().value({ indicator: 'sma', period: 5, source: { indicator: 'rsi', period: 14 } }) as Float64Array;
    const r = rsi(BARS.close, 14);
    expect(Number.isNaN(v[17])).toBe(true);
    expect(v[18]).toBeCloseTo((r[14] + r[15] + r[16] + r[17] + r[18]) / 5, 12);
  });

  it('core features equal computeCoreFeatures on the same bars', () => {
    // BARS has a bar every calendar day (weekends included), so the series is annualised as a 24x7 market.
    const core = computeCoreFeatures(BARS, { timeframe: '1d', calendar: 'crypto-24x7' });
    expect(asArray(ev().value({ feature: 'rsi_14' }))).toEqual(Array.from(core.rsi_14));
    expect(asArray(ev().value({ feature: 'rv_20', set: 'core' }))).toEqual(Array.from(core.rv_20));
  });

  it('arithmetic, with division by zero undefined', () => {
    const e = ev();
    expect(e.value({ op: 'div', left: { const: 1 }, right: { const: 0 } })).toBeNaN();
    const v = e.value({ op: 'mul', left: { bar: 'close' }, right: { const: 2 } }) as Float64Array;
    expect(v[10]).toBe(BARS.close[10] * 2);
  });

  it('shares computed series through a SeriesCache', () => {
    const cache = new SeriesCache();
    const a = new SeriesEvaluator(BARS, '1d', {}, cache).value({ indicator: 'ema', period: 30 });
    const b = new SeriesEvaluator(BARS, '1d', {}, cache).value({ indicator: 'ema', period: 30 });
    expect(a).toBe(b);
  });
});

describe('rolling kernels against naive formulas', () => {
  const x = Float64Array.from({ length: 60 }, (_, i) => Math.sin(i / 3) * 10 + i);
  it('population std and z-score', () => {
    const sd = rollingStd(x, 7);
    const z = rollingZScore(x, 7);
    for (let t = 6; t < 60; t++) {
      const w = Array.from(x.subarray(t - 6, t + 1));
      const m = w.reduce((a, b) => a + b, 0) / 7;
      const s = Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / 7);
      expect(sd[t]).toBeCloseTo(s, 10);
      expect(z[t]).toBeCloseTo((x[t] - m) / s, 9);
    }
    expect(Number.isNaN(sd[5])).toBe(true);
  });
  it('extremes skip NaN', () => {
    const y = Float64Array.from([NaN, 3, 1, NaN, 5, 2]);
    expect(Array.from(rollingExtreme(y, 2, 1))).toEqual([NaN, 3, 3, 1, 5, 5]);
  });
});

describe('conditions', () => {
  const cond = (c: StrategyCondition) => Array.from(ev().condition(c));
  const series = (v: StrategyValue) => ev().value(v) as Float64Array;

  it('crossing above/below, false during warm-up', () => {
    const fast = series({ indicator: 'sma', period: 5 });
    const slow = series({ indicator: 'sma', period: 20 });
    const up = cond({ cross: 'above', left: { indicator: 'sma', period: 5 }, right: { indicator: 'sma', period: 20 } });
    const down = cond({
      cross: 'below',
      left: { indicator: 'sma', period: 5 },
      right: { indicator: 'sma', period: 20 },
    });
    let ups = 0;
    for (let t = 0; t < 400; t++) {
      const want = t > 0 && fast[t] > slow[t] && fast[t - 1] <= slow[t - 1] ? 1 : 0;
      const wantDown = t > 0 && fast[t] < slow[t] && fast[t - 1] >= slow[t - 1] ? 1 : 0;
      expect(up[t]).toBe(want);
      expect(down[t]).toBe(wantDown);
      ups += want;
    }
    expect(ups).toBeGreaterThan(3);
    expect(up.slice(0, 20).every((x) => x === 0)).toBe(true);
  });

  it('comparisons with NaN are false, ne included; and/or/not', () => {
    const warm = { indicator: 'sma', period: 50 } as const;
    expect(cond({ cmp: 'ne', left: warm, right: { const: 1 } }).slice(0, 49)).toEqual(new Array(49).fill(0));
    expect(cond({ cmp: 'ne', left: warm, right: { const: 1 } })[49]).toBe(1);
    const a: StrategyCondition = { cmp: 'gt', left: { bar: 'close' }, right: { ref: { bar: 'close' }, bars: 1 } };
    const b: StrategyCondition = {
      cmp: 'gt',
      left: { bar: 'volume' },
      right: { indicator: 'sma', period: 10, source: { bar: 'volume' } },
    };
    const A = cond(a);
    const B = cond(b);
    expect(cond({ all: [a, b] })).toEqual(A.map((x, i) => x & B[i]));
    expect(cond({ any: [a, b] })).toEqual(A.map((x, i) => x | B[i]));
    expect(cond({ not: a })).toEqual(A.map((x) => 1 - x));
  });
});

describe('validateStrategyDefinition', () => {
  it('accepts every template', () => {
    for (const t of STRATEGY_TEMPLATES) expect(validateStrategyDefinition(t.definition)).toEqual([]);
  });

  it('refuses future references, unknown features, sets, signals, regimes and params with a path and reason', () => {
    const d = StrategyDefinitionV1Schema.parse({
      universe: { symbols: ['SPY'] },
      params: { p: 2.5 },
      entry: {
        long: {
          all: [
            { cmp: 'gt', left: { ref: { bar: 'close' }, bars: -1 }, right: { bar: 'close' } },
            { cmp: 'gt', left: { feature: 'fwd_return_5' }, right: { const: 0 } },
            { cmp: 'gt', left: { feature: 'x', set: 'nope' }, right: { signal: 'gbdt_up' } },
            { cmp: 'gt', left: { regime: 'bull' }, right: { param: 'missing' } },
            {
              cmp: 'gt',
              left: { indicator: 'atr', period: 14, source: { bar: 'close' } },
              right: { indicator: 'sma', period: { param: 'p' } },
            },
          ],
        },
        short: { cmp: 'gt', left: { bar: 'close' }, right: { const: 0 } },
      },
      sizing: { kind: 'fixed_fraction', fraction: 1 },
    });
    const issues = validateStrategyDefinition(d, undefined, { q: 1 });
    const got = issues.map((i) => [i.path, i.reason]);
    expect(got).toEqual(
      expect.arrayContaining([
        ['params.q', 'unknown_param'],
        ['entry.long.all.0.left.bars', 'future_reference'],
        ['entry.long.all.1.left.feature', 'unknown_feature'],
        ['entry.long.all.2.left.set', 'unknown_feature_set'],
        ['entry.long.all.2.right.signal', 'unknown_signal'],
        ['entry.long.all.3.left.regime', 'unknown_regime'],
        ['entry.long.all.3.right.param', 'unknown_param'],
        ['entry.long.all.4.left.source', 'source_not_allowed'],
        ['entry.long.all.4.right.period.param', 'invalid_param_value'],
        ['entry.short', 'rule_for_disabled_direction'],
      ]),
    );
    expect(issues.find((i) => i.reason === 'future_reference')!.message).toMatch(/future/);
    expect(() => strategySignalSource(d)).toThrow(StrategyDefinitionError);
  });

  it('needs an entry rule for each enabled direction', () => {
    const d = definition({ direction: 'both' });
    expect(validateStrategyDefinition(d)).toEqual([
      expect.objectContaining({ path: 'entry.short', reason: 'missing_entry_rule' }),
    ]);
  });
});
