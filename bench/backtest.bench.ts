/*
 * bench:backtest — the backtest engine of @strata/backtests-domain.
 *
 * Figures (one JSON line on stdout):
 * The rule of bench/README.md: every repetition reads a distinct series (seeded random walks: a warm-up series, then one
 * per run), the peer reads the same series in the same order, medians of BENCH_RUNS (≥ 5), one thread on each side.
 *
 * - single: one SMA-crossover (20/50) backtest with costs (commission 1 bps, slippage 2 bps) over 1,000,000 synthetic
 *   bars, from the strategy definition: rule compilation and evaluation, simulation with orders, fills and trades
 *   recorded, KPIs. Median and best, wall and process CPU time, bars/s.
 * - sweep: 1,000 parameter combinations (fast 5..54 × slow 60..250 step 10) of the same strategy over 5,000 daily
 *   bars, one after the other on one core, indicator columns shared through a SeriesCache (a new one per run), the
 *   best Sharpe picked: backtests/s. The numpy peer shares its moving averages the same way and picks by Sharpe too.
 * - multi: a 5-symbol portfolio (shared cash, volume-impact slippage, 5 % participation cap) over 20 years of daily
 *   bars per symbol: symbol-bars/s.
 * - peer (when bench/peers/setup.sh has created bench/peers/.venv): the same SMA crossover with costs vectorised in
 *   numpy, and vectorbt where it installs, on the same series, one long-lived Python process answering one run at a
 *   time between ours (interleaved): their bars/s and final equity beside ours (for equal semantics ours is re-run
 *   with fractional shares), and the same-run ratios. vectorbt is timed from
 *   pandas Series built before its clock starts; its first call (numba compilation) is a separate figure.
 *
 * Env: BENCH_BARS (default 1000000), BENCH_RUNS (default 7, at least 5), BENCH_PEER=0 to skip the peer.
 * Run: npm run bench:backtest
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
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
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 7));
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

/** A peer run's answer: wall and process-CPU ms and its outputs. */
interface PeerRun {
  wall_ms: number;
  cpu_ms: number;
  final_equity?: number;
  trades?: number;
  best?: { fast: number; slow: number; sharpe: number };
}

/**
 * The peer process (bench/peers/backtest_peer.py), fed one run at a time: `run('single', r)` answers with the timing
 * of its backtest of series r. The bench sends these between its own runs, so both sides see the same machine load.
 */
interface Peer {
  versions: { numpy: string; vectorbt?: string; vectorbt_skipped?: string };
  run(op: 'single' | 'sweep' | 'vectorbt', series: number): Promise<PeerRun>;
  close(): void;
}

async function startPeer(dir: string): Promise<Peer> {
  const child = spawn(
    PEER_PYTHON,
    [
      PEER_SCRIPT,
      dir,
      String(RUNS + 1),
      '20',
      '50',
      String(COMMISSION_BPS / 1e4),
      String(SLIPPAGE_BPS / 1e4),
      String(FRACTION),
      String(CAPITAL),
      String(BARS),
      String(SWEEP_BARS),
      SWEEP_FAST.join(','),
      SWEEP_SLOW.join(','),
    ],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' },
    },
  );
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)));
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: ((line: string | Error) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  child.on('close', (code) => {
    for (const w of waiting.splice(0)) w(new Error(`peer exited (${code}): ${stderr.trim().slice(-500)}`));
  });
  const next = (): Promise<unknown> =>
    new Promise((resolve, reject) =>
      waiting.push((l) => (l instanceof Error ? reject(l) : resolve(JSON.parse(l) as unknown))),
    );
  const versions = (await next()) as Peer['versions'];
  return {
    versions,
    run: (op, series) => {
      const answer = next() as Promise<PeerRun>;
      child.stdin.write(`${op} ${series}\n`);
      return answer;
    },
    close: () => child.stdin.end(),
  };
}

/** Series `r` of a set: 0 is the warm-up, 1..RUNS the runs' inputs (distinct seeds). */
const bigSeries = (r: number): SymbolBars => syntheticSymbol('SYN', BARS, 42 + r, false);
const sweepSeries = (r: number): SymbolBars => syntheticSymbol('SYN', SWEEP_BARS, 7 + 1000 * r, true);

/** Median wall/CPU ms of peer runs and the last run's outputs. */
function peerFigures(runs: PeerRun[]) {
  return {
    wall: median(runs.map((r) => r.wall_ms)),
    best: Math.min(...runs.map((r) => r.wall_ms)),
    cpu: median(runs.map((r) => r.cpu_ms)),
    last: runs[runs.length - 1],
  };
}

async function single(peer: Peer | undefined) {
  const definition = smaCross(20, 50);
  const execution = costs();
  const walls: number[] = [];
  const cpus: number[] = [];
  const numpy: PeerRun[] = [];
  const vbt: PeerRun[] = [];
  const warm = bigSeries(0);
  // Warm-up on series 0 on every side (JIT here; numba compilation for vectorbt, reported apart).
  let last = runBacktest({
    definition,
    data: { timeframe: '1d', symbols: [warm] },
    initialCapital: CAPITAL,
    execution,
  });
  await peer?.run('single', 0);
  const vbtFirst = peer?.versions.vectorbt ? await peer.run('vectorbt', 0) : undefined;
  let bars = warm;
  for (let r = 1; r <= RUNS; r++) {
    bars = bigSeries(r);
    const data: BacktestData = { timeframe: '1d', symbols: [bars] };
    const t = timeBoth(() => runBacktest({ definition, data, initialCapital: CAPITAL, execution, trustedData: true }));
    walls.push(t.wall);
    cpus.push(t.cpu);
    last = t.out;
    if (peer) numpy.push(await peer.run('single', r));
    if (vbtFirst) vbt.push(await peer!.run('vectorbt', r));
  }
  const ours = {
    bars: BARS,
    strategy: 'SMA crossover 20/50, long only, 95% of equity, integer shares',
    costs: { commission_bps: COMMISSION_BPS, slippage_bps: SLIPPAGE_BPS, fill: 'next open' },
    runs: RUNS,
    ms_median: round(median(walls), 2),
    ms_best: round(Math.min(...walls), 2),
    cpu_ms_median: round(median(cpus), 2),
    bars_per_s: Math.round(BARS / (median(walls) / 1000)),
    bars_per_s_best: Math.round(BARS / (Math.min(...walls) / 1000)),
    bars_per_cpu_s: Math.round(BARS / (median(cpus) / 1000)),
    orders: last.orders.length,
    trades: last.trades.length,
    final_equity: round(last.finalEquity, 2),
  };
  return {
    ours,
    numpy: numpy.length ? peerFigures(numpy) : undefined,
    vectorbt: vbt.length ? { ...peerFigures(vbt), firstCallMs: vbtFirst!.wall_ms } : undefined,
    /** The last run's series (the final equities are compared on it). */
    lastSeries: bars,
  };
}

async function sweep(peer: Peer | undefined) {
  const execution = costs();
  const base = smaCross(20, 60);
  const run = (bars: SymbolBars, cache: SeriesCache) => {
    const data: BacktestData = { timeframe: '1d', symbols: [bars] };
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
  run(sweepSeries(0), new SeriesCache()); // warm-up
  await peer?.run('sweep', 0);
  const times: { wall: number; cpu: number }[] = [];
  const numpy: PeerRun[] = [];
  let best = { fast: 0, slow: 0, sharpe: 0 };
  for (let r = 1; r <= RUNS; r++) {
    const bars = sweepSeries(r);
    const t = timeBoth(() => run(bars, new SeriesCache()));
    times.push(t);
    best = t.out;
    if (peer) numpy.push(await peer.run('sweep', r));
  }
  const combos = SWEEP_FAST.length * SWEEP_SLOW.length;
  const wall = median(times.map((t) => t.wall));
  const cpu = median(times.map((t) => t.cpu));
  return {
    ours: {
      combinations: combos,
      bars: SWEEP_BARS,
      threads: 1,
      runs: RUNS,
      indicator_cache: true,
      ms_median: round(wall, 1),
      cpu_ms_median: round(cpu, 1),
      backtests_per_s: Math.round(combos / (wall / 1000)),
      backtests_per_cpu_s: Math.round(combos / (cpu / 1000)),
      bars_per_s: Math.round((combos * SWEEP_BARS) / (wall / 1000)),
      /** Best Sharpe of the last run (integer shares). */
      best: { fast: best.fast, slow: best.slow, sharpe: round(best.sharpe, 4) },
    },
    numpy: numpy.length ? peerFigures(numpy) : undefined,
  };
}

function multi() {
  const symbols = ['S1', 'S2', 'S3', 'S4', 'S5'];
  const n = 252 * 20;
  const dataOf = (r: number): BacktestData => ({
    timeframe: '1d',
    symbols: symbols.map((s, i) => syntheticSymbol(s, n, 100 + i + 10 * r, true)),
  });
  const definition = instantiateTemplate(strategyTemplate('sma_crossover')!, { symbols });
  const execution = costs({
    slippage: { model: 'volume_impact', bps: 1, impact: 0.5, volLookback: 20 },
    maxParticipation: 0.05,
  });
  runBacktest({ definition, data: dataOf(0), initialCapital: 1_000_000, execution });
  const walls: number[] = [];
  let trades = 0;
  for (let r = 1; r <= Math.max(RUNS, 15); r++) {
    const data = dataOf(r);
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
    runs: walls.length,
    ms_median: round(median(walls), 2),
    bars_per_s: Math.round((n * symbols.length) / (median(walls) / 1000)),
    trades,
  };
}

/** Writes the open and close columns of series 0..RUNS one after the other (the peer's input, in run order). */
function writeSeries(file: (k: 'open' | 'close') => string, of: (r: number) => SymbolBars): void {
  const fds = { open: fs.openSync(file('open'), 'w'), close: fs.openSync(file('close'), 'w') };
  try {
    for (let r = 0; r <= RUNS; r++) {
      const b = of(r);
      for (const k of ['open', 'close'] as const)
        fs.writeSync(fds[k], new Uint8Array(b[k].buffer, b[k].byteOffset, b[k].byteLength));
    }
  } finally {
    fs.closeSync(fds.open);
    fs.closeSync(fds.close);
  }
}

/** The peer's figures beside ours, and the same-run ratios (> 1: Strata is faster). */
function peerReport(
  versions: Peer['versions'],
  s: Awaited<ReturnType<typeof single>>,
  sw: Awaited<ReturnType<typeof sweep>>,
) {
  const np = s.numpy!;
  const npSweep = sw.numpy!;
  const npBarsPerS = BARS / (np.wall / 1000);
  const npBacktestsPerS = sw.ours.combinations / (npSweep.wall / 1000);
  // Same semantics as the peer: fractional shares (lot 1e-8), on the last run's series, so the final equities compare.
  const frac = runBacktest({
    definition: smaCross(20, 50),
    data: { timeframe: '1d', symbols: [s.lastSeries] },
    initialCapital: CAPITAL,
    execution: costs({ lotSize: 1e-8 }),
    trustedData: true,
  });
  const v = s.vectorbt;
  const vbtBarsPerS = v ? BARS / (v.wall / 1000) : undefined;
  return {
    runs: RUNS,
    interleaved: true,
    numpy: {
      version: versions.numpy,
      ms_median: round(np.wall, 2),
      ms_best: round(np.best, 2),
      cpu_ms_median: round(np.cpu, 2),
      bars_per_s: Math.round(npBarsPerS),
      final_equity: round(np.last.final_equity!, 2),
      trades: np.last.trades,
      sweep_ms_median: round(npSweep.wall, 1),
      sweep_backtests_per_s: Math.round(npBacktestsPerS),
      sweep_indicator_cache: true,
      sweep_best: { ...npSweep.last.best!, sharpe: round(npSweep.last.best!.sharpe, 4) },
    },
    vectorbt: v
      ? {
          version: versions.vectorbt,
          ms_median: round(v.wall, 2),
          cpu_ms_median: round(v.cpu, 2),
          bars_per_s: Math.round(vbtBarsPerS!),
          final_equity: round(v.last.final_equity!, 2),
          first_call_ms: round(v.firstCallMs, 1),
          /** First call (series 0, numba compiles vectorbt's kernels) minus the median run. */
          numba_compile_ms: round(v.firstCallMs - v.wall, 1),
          timing: 'from pandas Series built before the clock; first call (numba compilation) apart',
        }
      : { skipped: versions.vectorbt_skipped ?? 'vectorbt not installed' },
    ours_fractional_final_equity: round(frac.finalEquity, 2),
    final_equity_rel_diff_vs_numpy: Number((frac.finalEquity / np.last.final_equity! - 1).toExponential(3)),
    ratios: {
      bars_per_s_vs_numpy: round(s.ours.bars_per_s / npBarsPerS, 3),
      backtests_per_s_vs_numpy: round(sw.ours.backtests_per_s / npBacktestsPerS, 3),
      ...(vbtBarsPerS ? { bars_per_s_vs_vectorbt: round(s.ours.bars_per_s / vbtBarsPerS, 3) } : {}),
    },
  };
}

async function main(): Promise<void> {
  let peer: Peer | undefined;
  let skipped: string | undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-backtest-'));
  try {
    if (process.env.BENCH_PEER === '0') skipped = 'BENCH_PEER=0';
    else if (!fs.existsSync(PEER_PYTHON))
      skipped = 'bench/peers/.venv not found: run bench/peers/setup.sh to compare with numpy / vectorbt';
    else {
      writeSeries((k) => path.join(dir, `${k}.f64`), bigSeries);
      writeSeries((k) => path.join(dir, `sweep_${k}.f64`), sweepSeries);
      try {
        peer = await startPeer(dir);
      } catch (e) {
        skipped = `peer failed to start: ${(e as Error).message}`;
      }
    }
    const s = await single(peer);
    const sw = await sweep(peer);
    peer?.close();
    const m = multi();
    const out = {
      bench: 'backtest',
      single: s.ours,
      sweep: sw.ours,
      multi: m,
      targets: {
        bars_per_s: 40_000_000,
        backtests_per_s: 2_000,
        bars_per_s_met: s.ours.bars_per_s >= 40_000_000,
        backtests_per_s_met: sw.ours.backtests_per_s >= 2_000,
      },
      peer: peer ? peerReport(peer.versions, s, sw) : { skipped },
      machine: {
        cpus: os.cpus().length,
        cpu_model: os.cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadavg_1m: round(os.loadavg()[0], 2),
      },
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    peer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
