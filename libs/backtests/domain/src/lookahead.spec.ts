import type { BacktestData } from './backtest-data';
import { runBacktest, type BacktestRequest } from './backtest';
import { checkLookAhead, perturbAfter } from './lookahead';
import { SeriesEvaluator, type SignalSource } from './signals';
import { definition, execution, sampleBars } from './testing/fixtures';
import { instantiateTemplate, STRATEGY_TEMPLATES } from './templates';

const SPY = sampleBars('SPY');
const data: BacktestData = { timeframe: '1d', symbols: [SPY] };

/**
 * Test-only evaluators that leak, because the schema and the compiler refuse `ref` with bars < 0:
 * - `tomorrowUp`: entry when close[t+1] > close[t] (reads the next bar outright);
 * - `centeredSma`: a centred 5-bar SMA crossing (a classic subtle leak: the window reaches 2 bars ahead).
 */
const tomorrowUp: SignalSource = (d) =>
  d.symbols.map((b) => {
    const n = b.ts.length;
    const entry = new Uint8Array(n);
    const exit = new Uint8Array(n);
    for (let t = 0; t + 1 < n; t++) {
      entry[t] = b.close[t + 1] > b.close[t] ? 1 : 0;
      exit[t] = 1 - entry[t];
    }
    return { entryLong: entry, exitLong: exit, entryShort: null, exitShort: null };
  });

const centeredSma: SignalSource = (d) =>
  d.symbols.map((b) => {
    const n = b.ts.length;
    const c = new Float64Array(n).fill(NaN);
    for (let t = 2; t + 2 < n; t++)
      c[t] = (b.close[t - 2] + b.close[t - 1] + b.close[t] + b.close[t + 1] + b.close[t + 2]) / 5;
    const slow = new SeriesEvaluator(b, d.timeframe, {}).value({ indicator: 'sma', period: 20 }) as Float64Array;
    const entry = new Uint8Array(n);
    const exit = new Uint8Array(n);
    for (let t = 1; t < n; t++) {
      entry[t] = c[t] > slow[t] && c[t - 1] <= slow[t - 1] ? 1 : 0;
      exit[t] = c[t] < slow[t] && c[t - 1] >= slow[t - 1] ? 1 : 0;
    }
    return { entryLong: entry, exitLong: exit, entryShort: null, exitShort: null };
  });

const base = (partial: Partial<BacktestRequest>): BacktestRequest => ({
  definition: definition({ symbols: ['SPY'], sizing: { kind: 'fixed_fraction', fraction: 0.95 } }),
  data,
  initialCapital: 100_000,
  execution: execution({ commission: { bps: 1, fixed: 0 } }),
  ...partial,
});

describe('checkLookAhead', () => {
  it('flags a strategy that reads the next bar', () => {
    // The leak is real: it makes absurd money.
    expect(runBacktest(base({ signalSource: tomorrowUp })).kpis.sharpe).toBeGreaterThan(3);
    const r = checkLookAhead(base({ signalSource: tomorrowUp }), { samples: 8 });
    expect(r.passed).toBe(false);
    expect(r.changedDecisionPoints).toBeGreaterThan(0);
    expect(r.findings[0]).toMatchObject({ symbol: 'SPY', what: expect.stringMatching(/entry_long|exit_long/) });
    // The first difference is at the decision point itself (its signal read bar t+1).
    expect(r.findings[0].atTs).toBe(r.findings[0].decisionTs);
  });

  it('flags a subtle leak (a centred moving average)', () => {
    const r = checkLookAhead(base({ signalSource: centeredSma }), { samples: 16 });
    expect(r.passed).toBe(false);
    expect(r.changedDecisionPoints).toBeGreaterThan(0);
  });

  // ml_signal needs a model behind its alias: signal-models.spec.ts checks it with one; regime_filter needs the regime
  // service's history: apps/platform's regime scenario runs it.
  it.each(
    STRATEGY_TEMPLATES.filter((t) => t.name !== 'ml_signal' && t.name !== 'regime_filter').map(
      (t) => [t.name, t] as const,
    ),
  )('passes the %s template', (_name, t) => {
    const r = checkLookAhead(
      {
        definition: t.definition,
        data,
        initialCapital: 100_000,
        execution: execution({
          commission: { bps: 1, fixed: 1 },
          slippage: { model: 'volume_impact', bps: 1, impact: 0.1, volLookback: 20 },
          borrow: { annualBps: 50 },
        }),
      },
      { samples: 12 },
    );
    expect(r).toMatchObject({ passed: true, changedDecisionPoints: 0, findings: [] });
    expect(r.decisionPointsChecked).toBe(12);
  });

  it('passes a multi-symbol template on a union timeline', () => {
    const symbols = ['SPY', 'QQQ', 'BTCUSD'];
    const def = instantiateTemplate(STRATEGY_TEMPLATES[0], { symbols });
    const r = checkLookAhead(
      {
        definition: def,
        data: { timeframe: '1d', symbols: symbols.map(sampleBars) },
        initialCapital: 100_000,
        execution: execution({ lotSize: 0.001 }),
      },
      { samples: 8 },
    );
    expect(r.passed).toBe(true);
  });

  it('perturbs only bars after the decision point', () => {
    const t = SPY.ts[100];
    const p = perturbAfter(data, t, 1.3, 9).symbols[0];
    expect(Array.from(p.close.subarray(0, 101))).toEqual(Array.from(SPY.close.subarray(0, 101)));
    for (let j = 101; j < 120; j++) {
      expect(p.close[j]).not.toBe(SPY.close[j]);
      expect(p.low[j]).toBeLessThanOrEqual(Math.min(p.open[j], p.close[j]));
      expect(p.high[j]).toBeGreaterThanOrEqual(Math.max(p.open[j], p.close[j]));
    }
  });
});
