/*
 * bench:backtest — the backtest engine of @strata/backtests-domain.
 *
 * Figures (one JSON line on stdout):
 * - single: one SMA-crossover (20/50) backtest with costs (commission 1 bps, slippage 2 bps) over 1,000,000 synthetic
 *   bars (seeded random walk), from the strategy definition: rule compilation and evaluation, simulation with orders,
 *   fills and trades recorded, KPIs. Median and best of BENCH_RUNS, wall and process CPU time, bars/s.
 * - sweep: 1,000 parameter combinations (fast 5..54 × slow 60..250 step 10) of the same strategy over 5,000 daily
 *   bars, one after the other on one core, indicator columns shared through a SeriesCache: backtests/s.
 * - multi: a 5-symbol portfolio (shared cash, volume-impact slippage, 5 % participation cap) over 20 years of daily
 *   bars per symbol: symbol-bars/s.
 * - peer (when bench/peers/setup.sh has created bench/peers/.venv): the same SMA crossover with costs vectorised in
 *   numpy, and vectorbt where it installs, on the same bars in the same run: their bars/s and final equity beside
 *   ours (for equal semantics ours is re-run with fractional shares), and the ratios. On these shared machines the
 *   ratio measured in one run is the figure to compare; absolute times are noisy.
 *
 * Env: BENCH_BARS (default 1000000), BENCH_RUNS (default 7), BENCH_PEER=0 to skip the peer.
 * Run: npm run bench:backtest
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  ExecutionSettingsSchema,
  StrategyDefinitionV1Schema,
  type ExecutionSettings,
} from '@strata/backtests-contracts';
import {
  instantiateTemplate,
  runBacktest,
  SeriesCache,
  strategyTemplate,
  type BacktestData,
  type SymbolBars,
} from '@strata/backtests-domain';
import { randomWalkBars } from '@strata/shared-indicators';

const BARS = Number(process.env.BENCH_BARS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const SWEEP_BARS = 5_000;
const SWEEP_FAST = Array.from({ length: 50 }, (_, i) => 5 + i);
const SWEEP_SLOW = Array.from({ length: 20 }, (_, i) => 60 + 10 * i);
const PEER_PYTHON = path.resolve(__dirname, 'peers/.venv/bin/python');
const PEER_SCRIPT = path.resolve(__dirname, 'peers/backtest_peer.py');
const DAY = 86_400_000;
const COMMISSION_BPS = 1;
const SLIPPAGE_BPS = 2;
const FRACTION = 0.95;
const CAPITAL = 100_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

function timeBoth<T>(fn: () => T): { wall: number; cpu: number; out: T } {
  const c = process.cpuUsage();
  const t = performance.now();
  const out = fn();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  return { wall, cpu: (u.user + u.system) / 1000, out };
}

/** Weekday timestamps (a US-equity-like calendar) or every calendar day. */
function timestamps(n: number, weekdaysOnly: boolean, start = Date.UTC(1980, 0, 1)): Float64Array {
  const ts = new Float64Array(n);
  let t = start;
  for (let i = 0; i < n; i++) {
    if (weekdaysOnly) while ([0, 6].includes(new Date(t).getUTCDay())) t += DAY;
    ts[i] = t;
    t += DAY;
  }
  return ts;
}

function syntheticSymbol(symbol: string, n: number, seed: number, weekdaysOnly: boolean): SymbolBars {
  return { symbol, ts: timestamps(n, weekdaysOnly), ...randomWalkBars(n, seed) };
}

const smaCross = (fast: number, slow: number, symbols = ['SYN']) =>
  StrategyDefinitionV1Schema.parse({
    universe: { symbols, timeframe: '1d', adjust: 'raw' },
    direction: 'long',
    params: { fast, slow },
    entry: {
      long: {
        cross: 'above',
        left: { indicator: 'sma', period: { param: 'fast' } },
        right: { indicator: 'sma', period: { param: 'slow' } },
      },
    },
    exit: {
      long: {
        cross: 'below',
        left: { indicator: 'sma', period: { param: 'fast' } },
        right: { indicator: 'sma', period: { param: 'slow' } },
      },
    },
    sizing: { kind: 'fixed_fraction', fraction: FRACTION },
  });

const costs = (extra: Record<string, unknown> = {}): ExecutionSettings =>
  ExecutionSettingsSchema.parse({
    commission: { bps: COMMISSION_BPS, fixed: 0 },
    slippage: { model: 'fixed', bps: SLIPPAGE_BPS },
    ...extra,
  });

function single(bars: SymbolBars) {
  const data: BacktestData = { timeframe: '1d', symbols: [bars] };
  const definition = smaCross(20, 50);
  const execution = costs();
  const walls: number[] = [];
  const cpus: number[] = [];
  let last = runBacktest({ definition, data, initialCapital: CAPITAL, execution }); // warm-up (JIT), validates the data once
  for (let r = 0; r < RUNS; r++) {
    const t = timeBoth(() => runBacktest({ definition, data, initialCapital: CAPITAL, execution, trustedData: true }));
    walls.push(t.wall);
    cpus.push(t.cpu);
    last = t.out;
  }
  return {
    bars: bars.ts.length,
    strategy: 'SMA crossover 20/50, long only, 95% of equity, integer shares',
    costs: { commission_bps: COMMISSION_BPS, slippage_bps: SLIPPAGE_BPS, fill: 'next open' },
    runs: RUNS,
    ms_median: round(median(walls), 2),
    ms_best: round(Math.min(...walls), 2),
    cpu_ms_median: round(median(cpus), 2),
    bars_per_s: Math.round(bars.ts.length / (median(walls) / 1000)),
    bars_per_s_best: Math.round(bars.ts.length / (Math.min(...walls) / 1000)),
    bars_per_cpu_s: Math.round(bars.ts.length / (median(cpus) / 1000)),
    orders: last.orders.length,
    trades: last.trades.length,
    final_equity: round(last.finalEquity, 2),
  };
}

function sweep(bars: SymbolBars) {
  const data: BacktestData = { timeframe: '1d', symbols: [bars] };
  const execution = costs();
  const base = smaCross(20, 60);
  const run = (cache: SeriesCache) => {
    let best = { fast: 0, slow: 0, sharpe: -Infinity };
    for (const fast of SWEEP_FAST) {
      for (const slow of SWEEP_SLOW) {
        const o = runBacktest({
          definition: base,
          params: { fast, slow },
          data,
          initialCapital: CAPITAL,
          execution,
          cache,
          trustedData: true,
        });
        const s = o.kpis.sharpe ?? -Infinity;
        if (s > best.sharpe) best = { fast, slow, sharpe: s };
      }
    }
    return best;
  };
  run(new SeriesCache()); // warm-up
  const times: { wall: number; cpu: number }[] = [];
  let best = { fast: 0, slow: 0, sharpe: 0 };
  for (let r = 0; r < Math.max(1, Math.min(3, RUNS)); r++) {
    const t = timeBoth(() => run(new SeriesCache()));
    times.push(t);
    best = t.out;
  }
  const combos = SWEEP_FAST.length * SWEEP_SLOW.length;
  const wall = median(times.map((t) => t.wall));
  const cpu = median(times.map((t) => t.cpu));
  return {
    combinations: combos,
    bars: bars.ts.length,
    threads: 1,
    ms_median: round(wall, 1),
    cpu_ms_median: round(cpu, 1),
    backtests_per_s: Math.round(combos / (wall / 1000)),
    backtests_per_cpu_s: Math.round(combos / (cpu / 1000)),
    bars_per_s: Math.round((combos * bars.ts.length) / (wall / 1000)),
    best: { fast: best.fast, slow: best.slow, sharpe: round(best.sharpe, 4) },
  };
}

function multi() {
  const symbols = ['S1', 'S2', 'S3', 'S4', 'S5'];
  const n = 252 * 20;
  const data: BacktestData = { timeframe: '1d', symbols: symbols.map((s, i) => syntheticSymbol(s, n, 100 + i, true)) };
  const definition = instantiateTemplate(strategyTemplate('sma_crossover')!, { symbols });
  const execution = costs({
    slippage: { model: 'volume_impact', bps: 1, impact: 0.5, volLookback: 20 },
    maxParticipation: 0.05,
  });
  runBacktest({ definition, data, initialCapital: 1_000_000, execution });
  const walls: number[] = [];
  let trades = 0;
  for (let r = 0; r < Math.max(RUNS, 15); r++) {
    const t = timeBoth(() =>
      runBacktest({ definition, data, initialCapital: 1_000_000, execution, trustedData: true }),
    );
    walls.push(t.wall);
    trades = t.out.trades.length;
  }
  return {
    symbols: symbols.length,
    bars_per_symbol: n,
    symbol_bars: n * symbols.length,
    strategy: 'SMA crossover 20/50 on 5 symbols, 19% of equity each, shared cash',
    ms_median: round(median(walls), 2),
    bars_per_s: Math.round((n * symbols.length) / (median(walls) / 1000)),
    trades,
  };
}

interface PeerReport {
  name: string;
  version: string;
  ms_median: number;
  cpu_ms_median: number;
  bars_per_s: number;
  final_equity: number;
  trades: number;
  sweep: { backtests_per_s: number; ms_median: number };
  vectorbt: { version: string; ms_median: number; bars_per_s: number; final_equity: number } | { skipped: string };
}

function peer(bars: SymbolBars, ours: ReturnType<typeof single>, oursSweep: ReturnType<typeof sweep>) {
  if (process.env.BENCH_PEER === '0') return { skipped: 'BENCH_PEER=0' };
  if (!fs.existsSync(PEER_PYTHON))
    return { skipped: 'bench/peers/.venv not found: run bench/peers/setup.sh to compare with numpy / vectorbt' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-backtest-'));
  try {
    for (const k of ['open', 'close'] as const)
      fs.writeFileSync(
        path.join(dir, `${k}.f64`),
        new Uint8Array(bars[k].buffer, bars[k].byteOffset, bars[k].byteLength),
      );
    const args = [
      PEER_SCRIPT,
      dir,
      String(RUNS),
      '20',
      '50',
      String(COMMISSION_BPS / 1e4),
      String(SLIPPAGE_BPS / 1e4),
      String(FRACTION),
      String(CAPITAL),
      String(SWEEP_BARS),
      SWEEP_FAST.join(','),
      SWEEP_SLOW.join(','),
    ];
    const run = spawnSync(PEER_PYTHON, args, {
      encoding: 'utf8',
      maxBuffer: 16 << 20,
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' },
    });
    if (run.status !== 0)
      return {
        skipped: `peer failed (exit ${run.status}): ${(run.stderr || run.error?.message || '').trim().slice(-500)}`,
      };
    const p = JSON.parse(run.stdout) as PeerReport;
    // Same semantics as the peer: fractional shares (lot 1e-8), so the final equities are comparable.
    const frac = runBacktest({
      definition: smaCross(20, 50),
      data: { timeframe: '1d', symbols: [bars] },
      initialCapital: CAPITAL,
      execution: costs({ lotSize: 1e-8 }),
      trustedData: true,
    });
    const vbt =
      'skipped' in p.vectorbt
        ? p.vectorbt
        : {
            version: p.vectorbt.version,
            ms_median: round(p.vectorbt.ms_median, 2),
            bars_per_s: Math.round(p.vectorbt.bars_per_s),
            final_equity: round(p.vectorbt.final_equity, 2),
          };
    return {
      numpy: {
        version: p.version,
        ms_median: round(p.ms_median, 2),
        cpu_ms_median: round(p.cpu_ms_median, 2),
        bars_per_s: Math.round(p.bars_per_s),
        final_equity: round(p.final_equity, 2),
        trades: p.trades,
        sweep_backtests_per_s: Math.round(p.sweep.backtests_per_s),
      },
      vectorbt: vbt,
      ours_fractional_final_equity: round(frac.finalEquity, 2),
      final_equity_rel_diff_vs_numpy: Number((frac.finalEquity / p.final_equity - 1).toExponential(3)),
      ratios: {
        /** > 1: Strata is faster. */
        bars_per_s_vs_numpy: round(ours.bars_per_s / p.bars_per_s, 3),
        backtests_per_s_vs_numpy: round(oursSweep.backtests_per_s / p.sweep.backtests_per_s, 3),
        ...('skipped' in vbt ? {} : { bars_per_s_vs_vectorbt: round(ours.bars_per_s / vbt.bars_per_s, 3) }),
      },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const big = syntheticSymbol('SYN', BARS, 42, false);
  const sweepBars = syntheticSymbol('SYN', SWEEP_BARS, 7, true);
  const s = single(big);
  const sw = sweep(sweepBars);
  const m = multi();
  const p = peer(big, s, sw);
  const out = {
    bench: 'backtest',
    single: s,
    sweep: sw,
    multi: m,
    targets: {
      bars_per_s: 40_000_000,
      backtests_per_s: 2_000,
      bars_per_s_met: s.bars_per_s >= 40_000_000,
      backtests_per_s_met: sw.backtests_per_s >= 2_000,
    },
    peer: p,
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg_1m: round(os.loadavg()[0], 2),
    },
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main();
