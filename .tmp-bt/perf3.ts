import { randomWalkBars } from '@strata/domain-indicators';
import { STRATEGY_TEMPLATES, BacktestRun, PortfolioSimulation, strategySignalSource } from '@strata/domain-backtest';
import { ExecutionSettingsSchema } from '@strata/contracts';
const N = 1_000_000;
const rw = randomWalkBars(N, 42);
const ts = Float64Array.from({ length: N }, (_, i) => Date.UTC(1990, 0, 1) + i * 86_400_000);
const bars = { symbol: 'SYN', ts, ...rw };
const def = STRATEGY_TEMPLATES[0].definition;
const execution = ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 0 }, slippage: { model: 'fixed', bps: 2 } });
const data = { timeframe: '1d' as const, symbols: [bars] };
const sigs = strategySignalSource(def)(data);
const a = rw.close; const e = [1,2,3,4,5].map(()=>new Float64Array(N)); const u = sigs[0].entryLong!;
function loop(){ let cash=1e5, q=0; for(let i=0;i<N;i++){ const c=a[i]; let v=0; if(q!==0){v=q*c;} const eq=cash+v; e[0][i]=eq;e[1][i]=cash;e[2][i]=v;e[3][i]=v<0?-v:v;e[4][i]=q!==0?1:0; if(u[i]===1){q=q?0:10;cash-=q*c;} } return cash; }
const cfg = { initialCapital: 1e5, execution, direction: def.direction, sizing: def.sizing, risk: def.risk, rebalance: def.rebalance };
for (let k = 0; k < 10; k++) {
  let t = performance.now(); loop(); const tl = performance.now() - t;
  t = performance.now(); const sim = new PortfolioSimulation(data, sigs, cfg); const tc = performance.now() - t;
  t = performance.now(); sim.advance(); const ts2 = performance.now() - t;
  t = performance.now(); strategySignalSource(def)(data); const tsg = performance.now() - t;
  console.log('calib', tl.toFixed(1), 'construct', tc.toFixed(1), 'loop', ts2.toFixed(1), 'signals', tsg.toFixed(1), 'orders', sim.orders.length);
}
