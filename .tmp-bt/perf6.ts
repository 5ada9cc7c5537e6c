import { randomWalkBars } from '@strata/domain-indicators';
import { runBacktest, SeriesCache } from '@strata/domain-backtest';
import { ExecutionSettingsSchema, StrategyDefinitionV1Schema } from '@strata/contracts';
const N = 5000;
const ts = Float64Array.from({ length: N }, (_, i) => Date.UTC(1990, 0, 1) + i * 86_400_000);
const bars = { symbol: 'SYN', ts, ...randomWalkBars(N, 7) };
const definition = StrategyDefinitionV1Schema.parse({ universe: { symbols: ['SYN'], adjust: 'raw' }, params: { fast: 20, slow: 50 },
  entry: { long: { cross: 'above', left: { indicator: 'sma', period: { param: 'fast' } }, right: { indicator: 'sma', period: { param: 'slow' } } } },
  exit: { long: { cross: 'below', left: { indicator: 'sma', period: { param: 'fast' } }, right: { indicator: 'sma', period: { param: 'slow' } } } },
  sizing: { kind: 'fixed_fraction', fraction: 0.95 } });
const execution = ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 0 }, slippage: { model: 'fixed', bps: 2 } });
const data = { timeframe: '1d' as const, symbols: [bars] };
for (let k = 0; k < 8; k++) {
  const cache = new SeriesCache();
  const c0 = process.cpuUsage(); const t = performance.now();
  for (let f = 5; f < 55; f++) for (let s = 60; s < 260; s += 10) runBacktest({ definition, params: { fast: f, slow: s }, data, initialCapital: 1e5, execution, cache, trustedData: true });
  const c = process.cpuUsage(c0);
  console.log((performance.now() - t).toFixed(0), ((c.user + c.system) / 1000).toFixed(0));
}
