/**
 * Inputs of the system test: slices of the bundled SPY file (real bars), with bad ticks planted or continued by a
 * seeded random walk, and a large 1-minute CSV of a seeded random walk. Prices are rounded to cents, as a vendor file.
 */

/** A seeded uniform generator on [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cents = (x: number): number => Math.round(x * 100) / 100;

/** One OHLCV row from a previous close and a return; high/low enclose open and close. */
function row(ts: string, prevClose: number, ret: number, wiggle: number, volume: number): [string, number] {
  const open = cents(prevClose);
  const close = cents(Math.max(0.01, prevClose * (1 + ret)));
  const high = cents(Math.max(open, close) * (1 + wiggle));
  const low = cents(Math.min(open, close) * (1 - wiggle));
  return [`${ts},${open},${high},${low},${close},${volume}`, close];
}

/**
 * A 1-minute CSV of at least `bytes` bytes: a seeded random walk from 2020-01-02T00:00Z, one bar a minute, around
 * the clock (a crypto-like series). Returns the text, the row count and the last bar.
 */
export function bigMinuteCsv(
  bytes: number,
  seed: number,
): { csv: string; rows: number; lastTs: string; lastClose: number } {
  const rand = rng(seed);
  const lines = ['timestamp,open,high,low,close,volume'];
  let size = lines[0].length + 1;
  let close = 100;
  let ts = Date.UTC(2020, 0, 2);
  let lastTs = '';
  while (size < bytes) {
    lastTs = new Date(ts).toISOString();
    const [line, c] = row(lastTs, close, (rand() - 0.5) * 0.002, rand() * 0.0005, 100 + Math.floor(rand() * 10_000));
    close = c;
    lines.push(line);
    size += line.length + 1;
    ts += 60_000;
  }
  return { csv: `${lines.join('\n')}\n`, rows: lines.length - 1, lastTs, lastClose: close };
}

/** The bundled SPY file's 2015–2016 bars (504 rows) with `ticks` (row indices) made bad: close +35 % for one bar. */
export function plantedBadTicks(
  spyCsv: string,
  ticks: readonly number[],
): { csv: string; planted: string[]; rows: number } {
  const lines = spyCsv.trim().split('\n');
  const body = lines.slice(1).filter((l) => l >= '2015-01-01' && l < '2017-01-01');
  const planted: string[] = [];
  for (const i of ticks) {
    const [ts, open, high, low, close, volume] = body[i].split(',');
    const bad = cents(Number(close) * 1.35);
    body[i] = [ts, open, Math.max(Number(high), bad), low, bad, volume].join(',');
    planted.push(`${ts}T00:00:00.000Z`);
  }
  return { csv: `${[lines[0], ...body].join('\n')}\n`, planted, rows: body.length };
}

/**
 * `n` weekday bars continuing the SPY file after its last date (a seeded random walk from its last close): "refreshed
 * bars" the champion scores, or a small fresh series.
 */
export function continuedDailyCsv(
  spyCsv: string,
  n: number,
  seed: number,
): { csv: string; rows: number; lastTs: string; lastClose: number } {
  const rand = rng(seed);
  const lines = spyCsv.trim().split('\n');
  const last = lines.at(-1)!.split(',');
  let close = Number(last[4]);
  let ts = Date.parse(`${last[0]}T00:00:00Z`);
  const out = [lines[0]];
  let lastTs = '';
  while (out.length <= n) {
    ts += 86_400_000;
    const day = new Date(ts).getUTCDay();
    if (day === 0 || day === 6) continue;
    const date = new Date(ts).toISOString().slice(0, 10);
    const [line, c] = row(date, close, (rand() - 0.5) * 0.02, rand() * 0.005, 50_000_000 + Math.floor(rand() * 1e7));
    close = c;
    out.push(line);
    lastTs = `${date}T00:00:00.000Z`;
  }
  return { csv: `${out.join('\n')}\n`, rows: n, lastTs, lastClose: close };
}
