/*
 * bench:synthetic — throughput of the seeded synthetic market generator (`@strata/marketdata-domain`).
 *
 * Figures (one JSON line on stdout):
 * - generation of 1,000,000 daily bars on the NYSE calendar: regime-switching GBM (default 3 regimes), Merton jumps,
 *   Brownian-bridge high/low, lognormal volume, all five anomaly kinds at 0.1 % each, ground truth included:
 *   ms (median and best of the runs) and bars/s;
 * - the same for 1,000,000 one-minute 24x7 bars (crypto layout);
 * - the ingest CSV writer over the daily series: ms, bars/s, MB/s;
 * - baseline in the same run: a bare seeded GBM loop that only produces closes (same PRNG, one normal and one exp per
 *   bar), and the ratio, to show what the full bar model costs on top;
 * - determinism: SHA-256 of every output column is identical when a seed is generated again.
 * Every repetition uses its own seed (distinct input); medians of BENCH_RUNS (≥ 5) runs.
 *
 * Env: BENCH_BARS (default 1000000), BENCH_RUNS (default 5).
 * Run: npm run bench:synthetic
 */
import { createHash } from 'node:crypto';
import * as os from 'node:os';
import {
  generateSyntheticSeries,
  toIngestCsv,
  type SyntheticConfig,
  type SyntheticSeries,
} from '@strata/marketdata-domain';
import { Xoshiro128ss } from '@strata/shared-random';

const BARS = Number(process.env.BENCH_BARS ?? 1_000_000);
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
const RATES = { spike: 0.001, gap: 0.001, stale: 0.001, bad_tick: 0.001, volume_burst: 0.001 };

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function digest(s: SyntheticSeries): string {
  const h = createHash('sha256');
  for (const a of [s.ts, s.open, s.high, s.low, s.close, s.volume, s.truth.regime, s.truth.anomaly, s.truth.jumps])
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  h.update(JSON.stringify(s.truth.events));
  return h.digest('hex');
}

/**
 * Generation times of RUNS series, each with its own seed (`<cfg.seed>:<r>`: distinct input per repetition); `perRun`
 * times more work on each run's series (e.g. the CSV writer). Determinism: run 0's seed generated again gives the same
 * SHA-256 of every output column.
 */
function timeGeneration(
  cfg: SyntheticConfig,
  perRun?: (s: SyntheticSeries) => void,
): { ms: number[]; series: SyntheticSeries; deterministic: boolean } {
  const ms: number[] = [];
  let series!: SyntheticSeries;
  let first = '';
  const seedOf = (r: number): SyntheticConfig => ({ ...cfg, seed: `${String(cfg.seed ?? 0)}:${r}` });
  generateSyntheticSeries({ ...cfg, bars: 20_000 }); // warm-up (JIT)
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    series = generateSyntheticSeries(seedOf(r));
    ms.push(performance.now() - t0);
    if (r === 0) first = digest(series);
    perRun?.(series);
  }
  const deterministic = digest(generateSyntheticSeries(seedOf(0))) === first;
  return { ms, series, deterministic };
}

/** Closes-only seeded GBM: the floor any bar generator built on this PRNG pays. */
function baselineCloses(n: number, seed: number): Float64Array {
  const rng = new Xoshiro128ss(seed);
  const close = new Float64Array(n);
  const mu = (0.08 - 0.5 * 0.2 * 0.2) / 252;
  const sd = 0.2 / Math.sqrt(252);
  let p = 100;
  for (let t = 0; t < n; t++) {
    p *= Math.exp(mu + sd * rng.normal());
    close[t] = p;
  }
  return close;
}

function main(): void {
  const csvMs: number[] = [];
  let csvBytes = 0;
  const daily = timeGeneration(
    {
      seed: 42,
      bars: BARS,
      timeframe: '1d',
      calendar: 'nyse',
      anomalies: { rates: RATES },
    },
    (series) => {
      const t0 = performance.now();
      const csv = toIngestCsv(series, '1d');
      csvMs.push(performance.now() - t0);
      csvBytes = Buffer.byteLength(csv);
    },
  );
  const minute = timeGeneration({
    seed: 42,
    bars: BARS,
    timeframe: '1m',
    calendar: '24x7',
    initialPrice: 30_000,
    volume: { base: 2.5, decimals: 6 },
    anomalies: { rates: RATES },
  });

  baselineCloses(20_000, 1);
  const baseMs: number[] = [];
  let sink = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const c = baselineCloses(BARS, 42 + r);
    baseMs.push(performance.now() - t0);
    sink += c[BARS - 1];
  }

  const dailyMed = median(daily.ms);
  const minuteMed = median(minute.ms);
  const baseMed = median(baseMs);
  const csvMed = median(csvMs);
  const events = daily.series.truth.events;
  const out = {
    bench: 'synthetic',
    bars: BARS,
    runs: RUNS,
    daily_nyse_generate_ms_median: round(dailyMed),
    daily_nyse_generate_ms_best: round(Math.min(...daily.ms)),
    daily_nyse_bars_per_s: Math.round(BARS / (dailyMed / 1000)),
    minute_24x7_generate_ms_median: round(minuteMed),
    minute_24x7_bars_per_s: Math.round(BARS / (minuteMed / 1000)),
    daily_rows_out: daily.series.length,
    daily_anomaly_events: events.length,
    daily_anomaly_events_by_kind: Object.fromEntries(
      ['spike', 'gap', 'stale', 'bad_tick', 'volume_burst'].map((k) => [k, events.filter((e) => e.kind === k).length]),
    ),
    csv_write_ms_median: round(csvMed),
    csv_write_bars_per_s: Math.round(daily.series.length / (csvMed / 1000)),
    csv_write_mb_per_s: round(csvBytes / 1e6 / (csvMed / 1000)),
    csv_bytes: csvBytes,
    baseline_close_only_gbm_ms_median: round(baseMed),
    baseline_close_only_gbm_bars_per_s: Math.round(BARS / (baseMed / 1000)),
    full_model_cost_vs_baseline_ratio: round(dailyMed / baseMed, 2),
    deterministic_across_runs: daily.deterministic && minute.deterministic,
    machine: {
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg_1m: round(os.loadavg()[0], 2),
    },
  };
  if (!Number.isFinite(sink)) throw new Error('baseline overflowed');
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main();
