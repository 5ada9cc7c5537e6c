import { randomWalkBars } from '@strata/domain-indicators';
import { STRATEGY_TEMPLATES, runBacktest, SeriesCache, BacktestRun } from '@strata/domain-backtest';
import { ExecutionSettingsSchema } from '@strata/contracts';
const N = 1_000_000;
const rw = randomWalkBars(N, 42);
const ts = Float64Array.from({ length: N }, (_, i) => Date.UTC(1990, 0, 1) + i * 86_400_000);
const bars = { symbol: 'SYN', ts, ...rw };
const def = STRATEGY_TEMPLATES[0].definition;
const execution = ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 0 }, slippage: { model: 'fixed', bps: 2 } });
for (let k = 0; k < 5; k++) {
  const t0 = performance.now();
  const run = new BacktestRun({ definition: def, data: { timeframe: '1d', symbols: [bars] }, initialCapital: 1e5, execution, trustedData: true });
  run.signals(); const t1 = performance.now();
  run.advance(); const t2 = performance.now();
  const o = run.outcome(); const t3 = performance.now();
  console.log('total', (t3 - t0).toFixed(1), 'signals', (t1 - t0).toFixed(1), 'sim', (t2 - t1).toFixed(1), 'outcome', (t3 - t2).toFixed(1), 'trades', o.trades.length, (N / (t3 - t0) * 1000 / 1e6).toFixed(1), 'M bars/s');
}
