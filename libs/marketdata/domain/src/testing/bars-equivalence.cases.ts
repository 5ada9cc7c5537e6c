import { createHash } from 'node:crypto';
import type { Timeframe } from '@strata/marketdata-contracts';

/**
 * Inputs of the ingestion equivalence specs: the outputs of the path in use at commit 96d1b41 (every source rendered
 * as CSV text, then `readBarsCsv`) were recorded for each of them as {@link BatchDigest}s in `fixtures/*.golden.json`,
 * and the specs check that today's decoders + `validateBars` give the same digest, bar for bar and reject for reject.
 */

/** What the equivalence specs compare of a validated batch (a `BarBatch`), or the error a header problem threw. */
export interface BatchDigest {
  columns?: string[];
  rowsRead?: number;
  accepted?: number;
  /** `[line, reason, message]` of every reject. */
  rejects?: [number, string, string][];
  contentHash?: string;
  calendar?: string;
  from?: string | null;
  to?: string | null;
  gaps?: { after: string; before: string; missingBars: number }[];
  /** SHA-256 of the accepted bars' source lines (Uint32 little-endian). */
  linesSha?: string;
  /** SHA-256 of the accepted bars' values (ts, open, high, low, close, volume, adj_close as float64). */
  valuesSha?: string;
  hasAdjClose?: boolean;
  /** The message of the error thrown instead of a batch (malformed header, empty input). */
  error?: string;
}

/** The parts of a `BarBatch` a {@link BatchDigest} reads (structural, so any version of the type fits). */
export interface DigestibleBatch {
  columns: string[];
  rowsRead: number;
  rejects: { line: number; reason: string; message: string }[];
  contentHash: string;
  calendar: string;
  from: string | null;
  to: string | null;
  gaps: { after: string; before: string; missingBars: number }[];
  bars: {
    length: number;
    ts: Float64Array;
    open: Float64Array;
    high: Float64Array;
    low: Float64Array;
    close: Float64Array;
    volume: Float64Array;
    adjClose: Float64Array | null;
    line: Uint32Array;
  };
}

function sha(parts: readonly ArrayBufferView[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
  return h.digest('hex');
}

/** The {@link BatchDigest} of a batch. */
export function batchDigest(b: DigestibleBatch): BatchDigest {
  const n = b.bars.length;
  const cols = [
    b.bars.ts,
    b.bars.open,
    b.bars.high,
    b.bars.low,
    b.bars.close,
    b.bars.volume,
    ...(b.bars.adjClose ? [b.bars.adjClose] : []),
  ];
  return {
    columns: b.columns,
    rowsRead: b.rowsRead,
    accepted: n,
    rejects: b.rejects.map((r) => [r.line, r.reason, r.message]),
    contentHash: b.contentHash,
    calendar: b.calendar,
    from: b.from,
    to: b.to,
    gaps: b.gaps,
    linesSha: sha([b.bars.line.subarray(0, n)]),
    valuesSha: sha(cols.map((c) => c.subarray(0, n))),
    hasAdjClose: b.bars.adjClose !== null,
  };
}

/**
 * The digest as stored in the golden files: reject and gap lists longer than 20 are kept as their count, the first
 * 5 and a SHA-256 of the whole list (equal digests still mean equal lists).
 */
export function compactDigest(
  d: BatchDigest,
): BatchDigest & { rejectsCount?: number; rejectsSha?: string; gapsCount?: number; gapsSha?: string } {
  const out: BatchDigest & { rejectsCount?: number; rejectsSha?: string; gapsCount?: number; gapsSha?: string } = {
    ...d,
  };
  const digest = (x: unknown) => createHash('sha256').update(JSON.stringify(x)).digest('hex');
  if (d.rejects && d.rejects.length > 20)
    Object.assign(out, {
      rejects: d.rejects.slice(0, 5),
      rejectsCount: d.rejects.length,
      rejectsSha: digest(d.rejects),
    });
  if (d.gaps && d.gaps.length > 20)
    Object.assign(out, { gaps: d.gaps.slice(0, 5), gapsCount: d.gaps.length, gapsSha: digest(d.gaps) });
  return out;
}

/** Runs `read`, returning the digest of its batch or the message of the error it threw. */
export function digestOf(read: () => DigestibleBatch): BatchDigest {
  try {
    return compactDigest(batchDigest(read()));
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** A CSV input and the timeframe it is read with. */
export interface CsvCase {
  name: string;
  timeframe: Timeframe;
  text: string;
}

const HEADER = 'timestamp,open,high,low,close,volume';

/** A small deterministic generator (LCG) for the fuzz cases. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

const ODD_NUMBERS = [
  '',
  ' ',
  '""',
  '" 7 "',
  'abc',
  'NaN',
  'nan',
  'Infinity',
  '-inf',
  'INF',
  '1e999',
  '-1e999',
  '1e-400',
  '-0',
  '0',
  '+5',
  '.5',
  '5.',
  '1.2.3',
  '1e5',
  '1E+2',
  '4.0362791447748130e+28',
  '123456789012345678901234',
  '0.000000000000000000012345678901234567',
  '00012.50',
  '1_000',
  '12,5',
  '-3.25',
  '99999999999999999',
  '1.7976931348623157e308',
  '1.8e308',
  '\t42\t',
];

const ODD_TIMES = [
  '',
  '2024-13-01',
  '2024-02-30',
  '2024-02-29',
  '2023-02-29',
  '2024-01-05T24:00:00Z',
  '2024-01-05T23:59:60Z',
  '2024-01-05T10:00',
  '2024-01-05 10:00:00',
  '2024-01-05t10:00:00z',
  '2024-01-05T10:00:00.123Z',
  '2024-01-05T10:00:00.1234Z',
  '2024-01-05T10:00:00.1230000Z',
  '2024-01-05T10:00:00,5Z',
  '2024-01-05T10:00:00+05:30',
  '2024-01-05T10:00:00-0800',
  '2024-01-05T10:00:00+01',
  '2024-01-05T10:00:00+1',
  '"2024-01-05"',
  ' 2024-01-05 ',
  '2024-1-5',
  'yesterday',
];

/** Odd times moved before the fuzz series (one accepted far ahead of it would make every later row out of order). */
const FUZZ_TIMES = ODD_TIMES.map((t) => t.replace('2024', '2019'));

/**
 * Rows mixing good bars with every kind of bad field and bad bar: odd literals, odd timestamps, prices ≤ 0, high below
 * low, open or close outside the range, negative volume, repeated and earlier times, wrong field counts, blank lines.
 */
function fuzzCsv(seed: number, rows: number, opts: { adj: boolean; order?: number[]; intraday: boolean }): string {
  const rnd = lcg(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const names = ['timestamp', 'open', 'high', 'low', 'close', 'volume', ...(opts.adj ? ['adj_close'] : [])];
  const order = opts.order ?? names.map((_, i) => i);
  const lines = [order.map((i) => names[i]).join(',')];
  let t = Date.UTC(2020, 0, 1);
  const step = opts.intraday ? 3_600_000 : 86_400_000;
  for (let r = 0; r < rows; r++) {
    const u = rnd();
    t += u < 0.05 ? 0 : u < 0.08 ? -3 * step : step * (1 + Math.floor(rnd() * 3));
    const iso = new Date(t).toISOString();
    const ts = opts.intraday ? `${iso.slice(0, 19)}Z` : iso.slice(0, 10);
    const low = Math.round((50 + rnd() * 100) * 10000) / 10000;
    const high = Math.round((low + rnd() * 5) * 10000) / 10000;
    const open = Math.round((low + rnd() * (high - low)) * 10000) / 10000;
    const close = Math.round((low + rnd() * (high - low)) * 10000) / 10000;
    const fields: string[] = [
      ts,
      String(open),
      String(high),
      String(low),
      String(close),
      String(Math.floor(rnd() * 1e6)),
      ...(opts.adj ? [String(close * 0.9)] : []),
    ];
    let arity = 0;
    const v = rnd();
    if (v < 0.04) fields[1 + Math.floor(rnd() * (fields.length - 1))] = pick(ODD_NUMBERS);
    else if (v < 0.07) fields[0] = pick(FUZZ_TIMES);
    else if (v < 0.09) fields[1 + Math.floor(rnd() * 4)] = pick(['0', '-1', '-0.0001']);
    else if (v < 0.11) [fields[2], fields[3]] = [fields[3], fields[2]];
    else if (v < 0.13) fields[1] = String(high + 1);
    else if (v < 0.14) fields[4] = String(low / 2);
    else if (v < 0.15) fields[5] = '-5';
    else if (v < 0.155 && opts.adj) fields[6] = '0';
    else if (v < 0.16) arity = 1;
    else if (v < 0.165) arity = -1;
    else if (v < 0.17) fields[1] = ` "${fields[1]}" `;
    const line = order.map((i) => fields[i]);
    if (arity > 0) line.push('extra');
    if (arity < 0) line.pop();
    lines.push(rnd() < 0.01 ? '' : line.join(','));
  }
  return `${lines.join('\n')}\n${rnd() < 0.5 ? '\n\n' : ''}`;
}

const PLANTED = [
  HEADER,
  '2024-01-02,10,11,9,10.5,1000',
  '2024-01-03,10,11,9,10.5',
  '2024-01-03,10,11,9,10.5,1000',
  '2024-13-01,10,11,9,10.5,1000',
  '2024-01-04,ten,11,9,10.5,1000',
  '2024-01-04,10,11,9,10.5,1000',
  '2024-01-05,NaN,11,9,10.5,1000',
  '2024-01-05,10,1e999,9,10.5,1000',
  '2024-01-05,10,11,9,10.5,1000',
  '2024-01-08,0,11,9,10.5,1000',
  '2024-01-08,10,11,-9,10.5,1000',
  '2024-01-08,10,11,9,10.5,1000',
  '2024-01-09,10,8,9,8.5,1000',
  '2024-01-09,12,11,9,10.5,1000',
  '2024-01-09,10,11,9,8.5,1000',
  '2024-01-09,10,11,9,10.5,-1',
  '2024-01-09,10,11,9,10.5,1000',
  '2024-01-09,10,11,9,10.5,1000',
  '2024-01-05,10,11,9,10.5,1000',
  '',
  '2024-01-10T00:00:00Z,10,11,9,10.5,0',
  '2024-01-11 00:00:00+00:00, 10 ,"11",9,10.5,1000',
  '',
  '',
].join('\n');

/** Crafted CSV inputs: the parser spec's planted file and its variants, odd literals, header problems, fuzz. */
export function csvCases(): CsvCase[] {
  const cases: CsvCase[] = [
    { name: 'planted', timeframe: '1d', text: PLANTED },
    { name: 'planted-crlf', timeframe: '1d', text: PLANTED.replace(/\n/g, '\r\n') },
    { name: 'planted-bom', timeframe: '1d', text: `\ufeff${PLANTED}` },
    { name: 'planted-no-trailing-newline', timeframe: '1d', text: PLANTED.trimEnd() },
    {
      name: 'reordered-with-adj',
      timeframe: '1d',
      text: 'adj_close,Volume,CLOSE,low,high,open,timestamp\n9,100,10,9,11,10,2024-01-02\n0,100,10,9,11,10,2024-01-03\n-1,100,10,9,11,10,2024-01-04\n,100,10,9,11,10,2024-01-05\nnan,100,10,9,11,10,2024-01-08\n9.5,100,10,9,11,10,2024-01-09\n',
    },
    {
      name: 'quoted-header',
      timeframe: '1d',
      text: '"timestamp", "open" ,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n',
    },
    { name: 'only-header', timeframe: '1d', text: `${HEADER}\n` },
    { name: 'header-and-blank-lines', timeframe: '1d', text: `${HEADER}\n\n  \n\t\n` },
    { name: 'blank-then-row', timeframe: '1d', text: `${HEADER}\n\n \n2024-01-02,1,2,0.5,1.5,10\n` },
    { name: 'empty-input', timeframe: '1d', text: '' },
    { name: 'blank-header', timeframe: '1d', text: '  \n2024-01-02,1,2,0.5,1.5,10\n' },
    { name: 'missing-column', timeframe: '1d', text: 'timestamp,open,high,low,close\n2024-01-02,1,2,0.5,1.5\n' },
    { name: 'duplicate-column', timeframe: '1d', text: 'timestamp,open,open,high,low,close,volume\n' },
    { name: 'unknown-and-empty-columns', timeframe: '1d', text: 'timestamp,open,high,low,close,volume,,note\n' },
    {
      name: 'trailing-comma',
      timeframe: '1d',
      text: `${HEADER}\n2024-01-02,1,2,0.5,1.5,10,\n2024-01-03,1,2,0.5,1.5,10\n`,
    },
    {
      name: 'odd-numbers',
      timeframe: '1d',
      text: [
        HEADER,
        ...ODD_NUMBERS.map(
          (x, i) => `${new Date(Date.UTC(2021, 0, 1 + i)).toISOString().slice(0, 10)},${x},${x},${x},${x},${x}`,
        ),
      ].join('\n'),
    },
    {
      name: 'odd-numbers-in-range',
      timeframe: '1d',
      text: [
        HEADER,
        ...ODD_NUMBERS.map(
          (x, i) => `${new Date(Date.UTC(2021, 0, 1 + i)).toISOString().slice(0, 10)},${x},1e300,1e-300,${x},${x}`,
        ),
      ].join('\n'),
    },
    { name: 'odd-times', timeframe: '1h', text: [HEADER, ...ODD_TIMES.map((x) => `${x},1,2,0.5,1.5,10`)].join('\n') },
    {
      name: 'odd-times-sorted',
      timeframe: '1m',
      text: [HEADER, ...[...ODD_TIMES].sort().map((x) => `${x},1,2,0.5,1.5,10`)].join('\n'),
    },
  ];
  const intraday: Timeframe[] = ['1m', '5m', '15m', '1h'];
  for (let k = 0; k < 6; k++) {
    const tf: Timeframe = k < 2 ? '1d' : intraday[k - 2];
    cases.push({
      name: `fuzz-${k}`,
      timeframe: tf,
      text: fuzzCsv(101 + k, 1500, { adj: k % 2 === 1, intraday: k >= 2 }),
    });
  }
  cases.push({
    name: 'fuzz-reordered',
    timeframe: '1d',
    text: fuzzCsv(300, 1500, { adj: true, order: [6, 5, 4, 3, 2, 1, 0], intraday: false }),
  });
  return cases;
}

/** Synthetic series specs (seed, size, timeframe, anomalies) compared between `toIngestCsv` + CSV and direct arrays. */
export const SYNTHETIC_CASES: {
  name: string;
  seed: number | string;
  bars: number;
  timeframe: Timeframe;
  start?: string;
  anomalies: boolean;
  priceDecimals?: number;
}[] = [
  { name: 'daily-clean', seed: 1, bars: 2000, timeframe: '1d', anomalies: false },
  { name: 'daily-anomalies', seed: 2, bars: 3000, timeframe: '1d', anomalies: true },
  { name: 'hourly-anomalies', seed: 'h', bars: 3000, timeframe: '1h', anomalies: true },
  { name: '15m-anomalies', seed: 15, bars: 3000, timeframe: '15m', anomalies: true, start: '2021-03-01' },
  { name: '5m-anomalies', seed: 5, bars: 3000, timeframe: '5m', anomalies: true, priceDecimals: 0 },
  { name: '1m-anomalies', seed: 60, bars: 3000, timeframe: '1m', anomalies: true, start: '2024-11-01T13:30:00Z' },
];

/** Anomaly rates of the `anomalies: true` synthetic cases (high, so that bad ticks are rejected). */
export const SYNTHETIC_ANOMALY_RATES = { spike: 0.01, gap: 0.01, stale: 0.01, bad_tick: 0.02, volume_burst: 0.01 };

/**
 * Column sets written as they are (no generator): non-finite values, zero, negative zero, negative prices and volume,
 * NaN adjusted closes, repeated and earlier times. As rows `i`: `ts0 + i day` unless given.
 */
export function columnCases(): {
  name: string;
  timeframe: Timeframe;
  columns: {
    ts: number[];
    open: number[];
    high: number[];
    low: number[];
    close: number[];
    volume: number[];
    adjClose: number[] | null;
  };
}[] {
  const day = 86_400_000;
  const t0 = Date.UTC(2022, 0, 3);
  const ts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 8, 6, 9, 10, 11].map((i) => t0 + i * day);
  const n = ts.length;
  const base = (v: number) => Array.from({ length: n }, () => v);
  const open = base(10);
  const high = base(11);
  const low = base(9);
  const close = base(10.5);
  const volume = base(100);
  open[1] = NaN;
  high[2] = Infinity;
  low[3] = -Infinity;
  close[4] = -0;
  volume[5] = -0;
  volume[6] = -1;
  open[7] = 0.1 + 0.2;
  high[11] = 1.7976931348623157e308;
  low[12] = 5e-324;
  open[12] = 5e-324;
  close[12] = 5e-324;
  volume[13] = NaN;
  const adj = base(10.2);
  adj[2] = NaN;
  adj[5] = -0;
  adj[7] = 0;
  return [
    { name: 'odd-values', timeframe: '1d', columns: { ts, open, high, low, close, volume, adjClose: null } },
    { name: 'odd-values-adj', timeframe: '1d', columns: { ts, open, high, low, close, volume, adjClose: adj } },
    {
      name: 'intraday-ms',
      timeframe: '1m',
      columns: {
        ts: [0, 60_000, 60_001, 120_500, 120_500, 180_000].map((x) => Date.UTC(2023, 5, 1, 14) + x),
        open: base(10).slice(0, 6),
        high: base(11).slice(0, 6),
        low: base(9).slice(0, 6),
        close: base(10).slice(0, 6),
        volume: base(1).slice(0, 6),
        adjClose: null,
      },
    },
  ];
}
