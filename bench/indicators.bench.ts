/*
 * bench:indicators — feature computation of the `core` v1 set (22 indicators) in TypeScript kernels.
 *
 * Figures (one JSON line on stdout):
 * - full computation over 1,000,000 synthetic bars (seeded random walk): ms (median, best of the runs),
 *   bars/s and feature values/s; validation and output allocation included;
 * - per-kernel ms over the same bars (best of 3), to see where the time goes;
 * - incremental refresh of one new bar on 20 years of daily bars (5,040 + 1): `computeCoreFeaturesTail`
 *   latency p50 / p99 (validation included), next to a full recompute of the same history;
 * - peer (when bench/peers/setup.sh has created bench/peers/.venv): TA-Lib (Python package) on the same
 *   bars in the same run: its time, the speed ratio, and the largest absolute difference per feature.
 *
 * Env: BENCH_BARS (default 1000000), BENCH_RUNS (default 7), BENCH_PEER=0 to skip the peer.
 * Run: npm run bench:indicators
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CORE_V1_FEATURE_NAMES,
  type CoreFeatureColumns,
  type OhlcvColumns,
  adx,
  atr,
  bollinger,
  cci,
  computeCoreFeatures,
  computeCoreFeaturesTail,
  emaRatio,
  macd,
  mfi,
  obv,
  randomWalkBars,
  realizedVolatility,
  roc,
  rollingExtremes,
  rsi,
  simpleReturn,
  smaRatio,
  stochFastFromExtremes,
  volumeZScore,
  willrFromExtremes,
} from '@strata/shared-indicators';

const BARS = Number(process.env.BENCH_BARS ?? 1_000_000);
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 7));
const HISTORY_BARS = 252 * 20; // 20 years of daily bars
const REFRESH_ITERATIONS = 2000;
const PEER_PYTHON = path.resolve(__dirname, 'peers/.venv/bin/python');
const PEER_SCRIPT = path.resolve(__dirname, 'peers/talib_features.py');

/** Figures printed by the indicators benchmark. */
export interface IndicatorsBenchFigures {
  bench: 'indicators';
  bars: number;
  features: number;
  runs: number;
  full_ms_median: number;
  full_ms_best: number;
  /** Process CPU time per full run (median): less sensitive than wall time to other load on the machine. */
  full_cpu_ms_median: number;
  bars_per_s: number;
  bars_per_s_best: number;
  /** Bars per CPU-second (median CPU time). */
  bars_per_cpu_s: number;
  feature_values_per_s: number;
  kernel_ms: Record<string, number>;
  incremental: {
    history_bars: number;
    refresh_one_bar_ms_p50: number;
    refresh_one_bar_ms_p99: number;
    full_recompute_ms_p50: number;
  };
  peer: PeerFigures | { skipped: string };
  machine: { cpus: number; cpu_model: string; node: string; loadavg_1m: number };
}

interface PeerFigures {
  name: string;
  version: string;
  c_version: string;
  total_ms_median: number;
  talib_only_ms_median: number;
  total_cpu_ms_median: number;
  talib_only_cpu_ms_median: number;
  bars_per_s: number;
  /** Peer wall time / our wall time, medians of this run: > 1 means the TypeScript kernels are faster. */
  speed_ratio_vs_total: number;
  /** Peer wall time for the TA-Lib calls only (without numpy's rv_20 / volume_z_20) / our full wall time. */
  speed_ratio_vs_talib_only: number;
  /** The same two ratios on process CPU time. */
  cpu_ratio_vs_total: number;
  cpu_ratio_vs_talib_only: number;
  max_abs_diff: Record<string, number>;
  nan_mismatches: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Wall and process CPU milliseconds of one call. */
function timeBoth(fn: () => void): { wall: number; cpu: number } {
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const u = process.cpuUsage(c);
  return { wall, cpu: (u.user + u.system) / 1000 };
}

function kernelBreakdown(bars: OhlcvColumns): Record<string, number> {
  const { high, low, close, volume } = bars;
  const n = close.length;
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const c = new Float64Array(n);
  const hh = new Float64Array(n);
  const ll = new Float64Array(n);
  const kernels: Record<string, () => void> = {
    'ret_1+ret_5+ret_20': () => {
      simpleReturn(close, 1, a);
      simpleReturn(close, 5, a);
      simpleReturn(close, 20, a);
    },
    sma_20_ratio: () => smaRatio(close, 20, a),
    ema_20_ratio: () => emaRatio(close, 20, a),
    'macd(line,signal,hist)': () => macd(close, 12, 26, 9, { macd: a, signal: b, hist: c }),
    rsi_14: () => rsi(close, 14, a),
    'bollinger(pct_b,bandwidth)': () => bollinger(close, 20, 2, { pctB: a, bandwidth: b }),
    atr_14: () => atr(high, low, close, 14, a),
    'extremes_14(hh,ll)': () => rollingExtremes(high, low, 14, hh, ll, 13),
    'stoch(k,d) from extremes': () => stochFastFromExtremes(close, hh, ll, 14, 3, { k: a, d: b }, 0),
    'willr_14 from extremes': () => willrFromExtremes(close, hh, ll, 14, a, 0),
    cci_20: () => cci(high, low, close, 20, a),
    adx_14: () => adx(high, low, close, 14, a),
    obv: () => obv(close, volume, a),
    mfi_14: () => mfi(high, low, close, volume, 14, a),
    roc_10: () => roc(close, 10, a),
    rv_20: () => realizedVolatility(close, 20, 252, a),
    volume_z_20: () => volumeZScore(volume, 20, a),
  };
  const out: Record<string, number> = {};
  for (const [name, fn] of Object.entries(kernels)) {
    fn();
    out[name] = round(Math.min(time(fn), time(fn), time(fn)), 2);
  }
  return out;
}

function incremental(): IndicatorsBenchFigures['incremental'] {
  const bars = randomWalkBars(HISTORY_BARS + 1, 2024);
  const from = HISTORY_BARS; // the one new bar
  const out = {} as CoreFeatureColumns;
  for (const name of CORE_V1_FEATURE_NAMES) out[name] = new Float64Array(HISTORY_BARS + 1);
  for (let i = 0; i < 200; i++) computeCoreFeaturesTail(bars, from, { timeframe: '1d' });
  const refresh: number[] = [];
  for (let i = 0; i < REFRESH_ITERATIONS; i++)
    refresh.push(time(() => computeCoreFeaturesTail(bars, from, { timeframe: '1d' })));
  const full: number[] = [];
  for (let i = 0; i < 200; i++) full.push(time(() => computeCoreFeatures(bars, { timeframe: '1d', out })));
  return {
    history_bars: HISTORY_BARS,
    refresh_one_bar_ms_p50: round(median(refresh), 4),
    refresh_one_bar_ms_p99: round(quantile(refresh, 0.99), 4),
    full_recompute_ms_p50: round(median(full), 4),
  };
}

function peer(
  bars: OhlcvColumns,
  ours: CoreFeatureColumns,
  oursMs: number,
  oursCpuMs: number,
): PeerFigures | { skipped: string } {
  if (process.env.BENCH_PEER === '0') return { skipped: 'BENCH_PEER=0' };
  if (!fs.existsSync(PEER_PYTHON))
    return { skipped: 'bench/peers/.venv not found: run bench/peers/setup.sh to compare with TA-Lib' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-bench-indicators-'));
  try {
    for (const k of ['open', 'high', 'low', 'close', 'volume'] as const) {
      fs.writeFileSync(
        path.join(dir, `in_${k}.f64`),
        new Uint8Array(bars[k].buffer, bars[k].byteOffset, bars[k].byteLength),
      );
    }
    const run = spawnSync(PEER_PYTHON, [PEER_SCRIPT, dir, String(RUNS), '252'], {
      encoding: 'utf8',
      maxBuffer: 16 << 20,
    });
    if (run.status !== 0)
      return {
        skipped: `TA-Lib peer failed (exit ${run.status}): ${(run.stderr || run.error?.message || '').trim().slice(-500)}`,
      };
    const report = JSON.parse(run.stdout) as {
      talib_version: string;
      talib_c_version: string;
      total_ms: number[];
      talib_only_ms: number[];
      total_cpu_ms: number[];
      talib_only_cpu_ms: number[];
    };
    const maxAbs: Record<string, number> = {};
    const nanMismatch: Record<string, number> = {};
    for (const name of CORE_V1_FEATURE_NAMES) {
      const buf = fs.readFileSync(path.join(dir, `out_${name}.f64`));
      const theirs = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
      const mine = ours[name];
      let worst = 0;
      let mismatches = 0;
      for (let i = 0; i < mine.length; i++) {
        const x = mine[i];
        const y = theirs[i];
        if (Number.isNaN(x) || Number.isNaN(y)) {
          if (Number.isNaN(x) !== Number.isNaN(y)) mismatches++;
          continue;
        }
        const d = Math.abs(x - y);
        if (d > worst) worst = d;
      }
      maxAbs[name] = Number(worst.toPrecision(3));
      nanMismatch[name] = mismatches;
    }
    const total = median(report.total_ms);
    const talibOnly = median(report.talib_only_ms);
    const totalCpu = median(report.total_cpu_ms);
    const talibOnlyCpu = median(report.talib_only_cpu_ms);
    return {
      name: 'TA-Lib (Python) + numpy for rv_20 / volume_z_20',
      version: report.talib_version,
      c_version: report.talib_c_version,
      total_ms_median: round(total, 2),
      talib_only_ms_median: round(talibOnly, 2),
      total_cpu_ms_median: round(totalCpu, 2),
      talib_only_cpu_ms_median: round(talibOnlyCpu, 2),
      bars_per_s: Math.round(bars.close.length / (total / 1000)),
      speed_ratio_vs_total: round(total / oursMs, 2),
      speed_ratio_vs_talib_only: round(talibOnly / oursMs, 2),
      cpu_ratio_vs_total: round(totalCpu / oursCpuMs, 2),
      cpu_ratio_vs_talib_only: round(talibOnlyCpu / oursCpuMs, 2),
      max_abs_diff: maxAbs,
      nan_mismatches: nanMismatch,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the benchmark and returns its figures (bench:features embeds them). */
export function runIndicatorsBench(): IndicatorsBenchFigures {
  const loadavg = os.loadavg()[0];
  const bars = randomWalkBars(BARS, 42);
  let last = computeCoreFeatures(bars, { timeframe: '1d' }); // warm-up (JIT)
  const fullMs: number[] = [];
  const fullCpuMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const m = timeBoth(() => {
      last = computeCoreFeatures(bars, { timeframe: '1d' });
    });
    fullMs.push(m.wall);
    fullCpuMs.push(m.cpu);
  }
  const med = median(fullMs);
  const best = Math.min(...fullMs);
  const cpuMed = median(fullCpuMs);
  const kernels = kernelBreakdown(bars);
  const inc = incremental();
  const peerFigures = peer(bars, last, med, cpuMed);
  return {
    bench: 'indicators',
    bars: BARS,
    features: CORE_V1_FEATURE_NAMES.length,
    runs: RUNS,
    full_ms_median: round(med, 1),
    full_ms_best: round(best, 1),
    full_cpu_ms_median: round(cpuMed, 1),
    bars_per_s: Math.round(BARS / (med / 1000)),
    bars_per_s_best: Math.round(BARS / (best / 1000)),
    bars_per_cpu_s: Math.round(BARS / (cpuMed / 1000)),
    feature_values_per_s: Math.round((BARS * CORE_V1_FEATURE_NAMES.length) / (med / 1000)),
    kernel_ms: kernels,
    incremental: inc,
    peer: peerFigures,
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg_1m: round(loadavg, 2),
    },
  };
}

if (require.main === module) {
  process.stdout.write(`${JSON.stringify(runIndicatorsBench())}\n`);
}
