import { readFileSync } from 'node:fs';
import { readBarsCsv } from '@strata/domain-marketdata';
import { STRATEGY_TEMPLATES, runBacktest, checkLookAhead, instantiateTemplate } from '@strata/domain-backtest';
import { ExecutionSettingsSchema } from '@strata/contracts';
const load = (sym: string) => { const b = readBarsCsv(readFileSync(`data/sample/${sym}_1d.csv`), { timeframe: '1d' }).bars; return { symbol: sym, ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }; };
const spy = load('SPY');
const execution = ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 1 }, slippage: { model: 'fixed', bps: 2 }, borrow: { annualBps: 50 }, maxParticipation: 0.1 });
for (const t of STRATEGY_TEMPLATES) {
  const t0 = performance.now();
  const o = runBacktest({ definition: t.definition, data: { timeframe: '1d', symbols: [spy] }, initialCapital: 100000, execution, benchmark: { symbol: 'SPY', ts: spy.ts, close: spy.close } });
  const t1 = performance.now();
  const la = checkLookAhead({ definition: t.definition, data: { timeframe: '1d', symbols: [spy] }, initialCapital: 100000, execution });
  console.log(t.name, (t1 - t0).toFixed(1), 'ms', o.finalEquity.toFixed(0), o.trades.length, o.orders.length, JSON.stringify(o.kpis).slice(0, 300), o.fingerprint, 'LA', la.passed, la.decisionPointsChecked, (performance.now() - t1).toFixed(0), 'ms');
}
const multi = instantiateTemplate(STRATEGY_TEMPLATES[3], { symbols: ['SPY', 'QQQ', 'IBM', 'BTCUSD'] });
const o = runBacktest({ definition: multi, data: { timeframe: '1d', symbols: ['SPY', 'QQQ', 'IBM', 'BTCUSD'].map(load) }, initialCapital: 100000, execution: { ...execution, lotSize: 0.0001 } });
console.log('multi', o.finalEquity, o.trades.length, o.kpis.periodsPerYear, o.curve.ts.length, o.orders.filter(x => x.unfilledReason).length);
