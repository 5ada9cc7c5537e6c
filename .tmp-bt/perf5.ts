import { randomWalkBars } from '@strata/domain-indicators';
import { PortfolioSimulation, strategySignalSource } from '@strata/domain-backtest';
import { ExecutionSettingsSchema, StrategyDefinitionV1Schema } from '@strata/contracts';
const N = 1_000_000;
const ts = Float64Array.from({ length: N }, (_, i) => Date.UTC(1990, 0, 1) + i * 86_400_000);
const bars = { symbol: 'SYN', ts, ...randomWalkBars(N, 42) };
const definition = StrategyDefinitionV1Schema.parse({ universe: { symbols: ['SYN'], adjust: 'raw' }, params: { fast: 20, slow: 50 },
  entry: { long: { cross: 'above', left: { indicator: 'sma', period: { param: 'fast' } }, right: { indicator: 'sma', period: { param: 'slow' } } } },
  exit: { long: { cross: 'below', left: { indicator: 'sma', period: { param: 'fast' } }, right: { indicator: 'sma', period: { param: 'slow' } } } },
  sizing: { kind: 'fixed_fraction', fraction: 0.95 } });
const execution = ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 0 }, slippage: { model: 'fixed', bps: 2 } });
const data = { timeframe: '1d' as const, symbols: [bars] };
const sigs = strategySignalSource(definition)(data);
const none = [{ entryLong: new Uint8Array(N), exitLong: null, entryShort: null, exitShort: null }];
const hold = [{ entryLong: new Uint8Array(N).fill(1), exitLong: null, entryShort: null, exitShort: null }];
const cfg = { initialCapital: 1e5, execution, direction: definition.direction, sizing: definition.sizing, risk: definition.risk, rebalance: definition.rebalance };
for (let k = 0; k < 12; k++) {
  const r: string[] = [];
  for (const [name, s] of [['none', none], ['hold', hold], ['sma', sigs]] as const) {
    const sim = new PortfolioSimulation(data, s as any, cfg);
    const c0 = process.cpuUsage(); const t = performance.now(); sim.advance(); const w = performance.now() - t; const c = process.cpuUsage(c0);
    r.push(`${name} ${w.toFixed(1)}/${((c.user + c.system) / 1000).toFixed(1)}`);
  }
  console.log(r.join('  '));
}
