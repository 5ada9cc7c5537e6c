/**
 * CSV → validated columnar bars throughput (`npm run bench:csv`): parseBarsCsv and readBarsCsv (plus content hash
 * and calendar gaps) over 1,000,000 generated hourly rows, against a naive baseline measured in the same run
 * (split + Number + Date.parse, the same checks). Prints one JSON line. Target: ≥ 500,000 rows/s.
 * The rule of bench/README.md: each repetition parses its own CSV (a distinct seed), ours and the baseline take turns
 * on it, medians of BENCH_RUNS (≥ 5) runs, the ratio from the medians of this run.
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseBarsCsv, readBarsCsv } from '@strata/marketdata-domain';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));

function makeCsv(rows: number, seed0 = 7): string {
  const lines = ['timestamp,open,high,low,close,volume'];
  let price = 100;
  let seed = seed0;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const t0 = Date.UTC(2000, 0, 3);
  for (let i = 0; i < rows; i++) {
    const o = price;
    // Bounded walk: prices stay in a realistic range, printed like real feeds (4 decimals).
    const c = Math.min(500, Math.max(20, o * (1 + (rnd() - 0.5) * 0.02)));
    const h = Math.max(o, c) * (1 + rnd() * 0.005);
    const l = Math.min(o, c) * (1 - rnd() * 0.005);
    price = c;
    lines.push(
      `${new Date(t0 + i * 3_600_000).toISOString().slice(0, 19)}Z,${o.toFixed(4)},${h.toFixed(4)},${l.toFixed(4)},${c.toFixed(4)},${Math.floor(rnd() * 1e6)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** The obvious implementation, for comparison. */
function naive(csv: string): number {
  const lines = csv.split('\n');
  let ok = 0;
  let last = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const f = lines[i].split(',');
    const t = Date.parse(f[0]);
    const [o, h, l, c, v] = f.slice(1).map(Number);
    if (f.length !== 6 || Number.isNaN(t) || ![o, h, l, c, v].every(Number.isFinite)) continue;
    if (o <= 0 || h <= 0 || l <= 0 || c <= 0 || v < 0 || h < l || o < l || o > h || c < l || c > h || t <= last)
      continue;
    last = t;
    ok++;
  }
  return ok;
}

function seconds(fn: () => unknown): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load0 = loadavg()[0];
const warm = makeCsv(ROWS, 1);
const check = parseBarsCsv(warm);
if (check.bars.length !== ROWS || check.rejects.length !== 0 || naive(warm) !== ROWS)
  throw new Error('bench input did not validate');
readBarsCsv(warm, { timeframe: '1h', calendar: '24x7' }); // warm-up (JIT)
const t = { parse: [] as number[], read: [] as number[], bytes: [] as number[], naive: [] as number[] };
let mbytes = 0;
for (let r = 0; r < RUNS; r++) {
  const csv = makeCsv(ROWS, 100 + r);
  mbytes = csv.length / 1e6;
  const buf = Buffer.from(csv);
  t.naive.push(seconds(() => naive(csv)));
  t.parse.push(seconds(() => parseBarsCsv(csv)));
  t.read.push(seconds(() => readBarsCsv(csv, { timeframe: '1h', calendar: '24x7' })));
  t.bytes.push(seconds(() => parseBarsCsv(buf)));
}
const parseS = median(t.parse);
const naiveS = median(t.naive);
process.stdout.write(
  `${JSON.stringify({
    bench: 'marketdata-csv',
    rows: ROWS,
    runs: RUNS,
    mbytes: Math.round(mbytes * 10) / 10,
    parse_rows_per_s: Math.round(ROWS / parseS),
    parse_bytes_input_rows_per_s: Math.round(ROWS / median(t.bytes)),
    read_with_hash_and_gaps_rows_per_s: Math.round(ROWS / median(t.read)),
    naive_baseline_rows_per_s: Math.round(ROWS / naiveS),
    ratios: { parse_vs_naive: Math.round((naiveS / parseS) * 100) / 100 },
    targets: { parse_rows_per_s: 500_000, parse_rows_per_s_met: ROWS / parseS >= 500_000 },
    machine: {
      cpus: availableParallelism(),
      node: process.version,
      loadavg1Start: Math.round(load0 * 100) / 100,
      loadavg1End: Math.round(loadavg()[0] * 100) / 100,
    },
  })}\n`,
);
