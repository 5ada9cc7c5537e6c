import { randomWalkBars } from '@strata/domain-indicators';
import { STRATEGY_TEMPLATES, BacktestRun } from '@strata/domain-backtest';
import { ExecutionSettingsSchema } from '@strata/contracts';
const N = 1_000_000;
const rw = randomWalkBars(N, 42);
const ts = Float64Array.from({ length: N }, (_, i) => Date.UTC(1990, 0, 1) + i * 86_400_000);
const bars = { symbol: 'SYN', ts, ...rw };
const def = STRATEGY_TEMPLATES[0].definition;
const execution = ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 0 }, slippage: { model: 'fixed', bps: 2 } });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (let k = 0; k < 15; k++) {
  const c0 = cpu();
  const run = new BacktestRun({ definition: def, data: { timeframe: '1d', symbols: [bars] }, initialCapital: 1e5, execution, trustedData: true });
  run.signals(); const c1 = cpu();
  run.advance(); const c2 = cpu();
  const o = run.outcome(); const c3 = cpu();
  console.log('cpu total', (c3 - c0).toFixed(1), 'signals', (c1 - c0).toFixed(1), 'sim', (c2 - c1).toFixed(1), 'outcome', (c3 - c2).toFixed(1), (N / (c3 - c0) * 1000 / 1e6).toFixed(1), 'M bars/cpu-s');
}
