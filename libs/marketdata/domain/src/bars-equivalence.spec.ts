/**
 * Ingestion without the CSV round trip gives the batches the CSV round trip gave. The goldens in `testing/fixtures`
 * are the digests (every accepted bar's values and line, every reject's line, reason and message, gaps, content hash)
 * of what commit 96d1b41 produced: CSV text → `readBarsCsv`, and for synthetic series `toIngestCsv` → `readBarsCsv`.
 * Here the CSV decoder and the columns decoder, each followed by `validateBars`, must give the same digests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeBarColumns } from './bar-rows';
import { validateBars } from './bar-batch';
import { decodeBarsCsv, readBarsCsv } from './bars-csv.parser';
import { generateSyntheticSeries } from './synthetic.generator';
import { toIngestCsv } from './synthetic.csv';
import {
  columnCases,
  csvCases,
  digestOf,
  SYNTHETIC_ANOMALY_RATES,
  SYNTHETIC_CASES,
  type BatchDigest,
} from './testing/bars-equivalence.cases';

const DATA = resolve(__dirname, '../../../../data/sample');
const FILES = readdirSync(DATA)
  .filter((f) => f.endsWith('.csv'))
  .sort();
const golden = (name: string): Record<string, BatchDigest> =>
  JSON.parse(readFileSync(join(__dirname, 'testing/fixtures', name), 'utf8'));
const CSV = golden('csv.golden.json');
const SYNTHETIC = golden('synthetic.golden.json');

describe('CSV decoder + validateBars = the CSV path of 96d1b41', () => {
  it('has a golden for every bundled file', () => {
    expect(FILES.length).toBeGreaterThan(0);
    expect(Object.keys(CSV).filter((k) => k.startsWith('data/'))).toEqual(FILES.map((f) => `data/sample/${f}`));
  });

  it.each(FILES)('data/sample/%s: same bars, rejects, gaps and content hash', (f) => {
    const bytes = readFileSync(join(DATA, f));
    expect(digestOf(() => validateBars(decodeBarsCsv(bytes), { timeframe: '1d' }))).toEqual(CSV[`data/sample/${f}`]);
    // The columns decoder fed the same bars gives the same batch (these files have no rejected row, so lines match).
    const bars = readBarsCsv(bytes, { timeframe: '1d' }).bars;
    expect(digestOf(() => validateBars(decodeBarColumns(bars), { timeframe: '1d' }))).toEqual(CSV[`data/sample/${f}`]);
  });

  it.each(csvCases().map((c) => [c.name, c] as const))(
    '%s: same bars, rejects, gaps and content hash (or the same header error)',
    (name, c) => {
      expect(CSV[name]).toBeDefined();
      expect(digestOf(() => validateBars(decodeBarsCsv(c.text), { timeframe: c.timeframe }))).toEqual(CSV[name]);
    },
  );
});

describe('columns decoder + validateBars = toIngestCsv + the CSV path of 96d1b41', () => {
  it.each(SYNTHETIC_CASES.map((c) => [c.name, c] as const))(
    'synthetic %s: same bars, rejects (line = row + 2), gaps and hash',
    (name, c) => {
      const s = generateSyntheticSeries({
        seed: c.seed,
        bars: c.bars,
        timeframe: c.timeframe,
        ...(c.start ? { start: c.start } : {}),
        ...(c.priceDecimals !== undefined ? { priceDecimals: c.priceDecimals } : {}),
        ...(c.anomalies ? { anomalies: { rates: SYNTHETIC_ANOMALY_RATES } } : {}),
      });
      const direct = digestOf(() => validateBars(decodeBarColumns(s), { timeframe: c.timeframe }));
      expect(direct).toEqual(SYNTHETIC[name]);
      // And today's CSV rendering of the same series, through the CSV decoder.
      expect(digestOf(() => readBarsCsv(toIngestCsv(s, c.timeframe), { timeframe: c.timeframe }))).toEqual(direct);
      if (c.anomalies) expect(direct.rejects!.length).toBeGreaterThan(0);
    },
  );

  it.each(columnCases().map((c) => [c.name, c] as const))(
    'columns %s (NaN, ±Infinity, -0, zero, repeated times): same batch',
    (name, c) => {
      const k = c.columns;
      const f = (a: number[]) => Float64Array.from(a);
      const bars = {
        length: k.ts.length,
        ts: f(k.ts),
        open: f(k.open),
        high: f(k.high),
        low: f(k.low),
        close: f(k.close),
        volume: f(k.volume),
        adjClose: k.adjClose ? f(k.adjClose) : null,
      };
      const before = [bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume].map((a) => Array.from(a));
      expect(digestOf(() => validateBars(decodeBarColumns(bars), { timeframe: c.timeframe }))).toEqual(
        SYNTHETIC[`columns:${name}`],
      );
      // The decoder and the validator leave their input as it was (-0 included).
      expect([bars.ts, bars.open, bars.high, bars.low, bars.close, bars.volume].map((a) => Array.from(a))).toEqual(
        before,
      );
    },
  );
});
