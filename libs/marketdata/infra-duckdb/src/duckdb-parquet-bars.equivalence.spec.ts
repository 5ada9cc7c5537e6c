/**
 * Parquet columns decoded directly give the batch that commit 96d1b41 produced by rendering them as CSV text and
 * parsing that (`testing/fixtures/parquet.golden.json`: digests of every accepted bar and line, every reject's line,
 * reason and message, gaps and content hash), for every bundled sample written to Parquet and for files with every
 * column type, NULL, NaN, ±Infinity and -0; and the same bars as the CSV decoder reading the sample itself.
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Timeframe } from '@strata/marketdata-contracts';
import { readBarsCsv, validateBars } from '@strata/marketdata-domain';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { digestOf, type BatchDigest } from '@strata/marketdata-domain/testing';
import { DuckDbParquetBarsReader } from './duckdb-parquet-bars.reader';
import { PARQUET_CASES, PARQUET_SAMPLE_SELECT } from './testing/parquet-equivalence.cases';

const DATA = resolve(__dirname, '../../../../data/sample');
const FILES = readdirSync(DATA)
  .filter((f) => f.endsWith('.csv'))
  .sort();
const GOLDEN: Record<string, BatchDigest & { readerError?: string }> = JSON.parse(
  readFileSync(join(__dirname, 'testing/fixtures/parquet.golden.json'), 'utf8'),
);

describe('Parquet decoder + validateBars = Parquet → CSV text → readBarsCsv of 96d1b41', () => {
  let db: DuckDb;
  let dir: string;
  let reader: DuckDbParquetBarsReader;
  beforeAll(async () => {
    db = await DuckDb.create(DUCKDB_MEMORY);
    dir = mkdtempSync(join(tmpdir(), 'strata-parquet-eq-'));
    reader = new DuckDbParquetBarsReader(db);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = async (name: string, select: string): Promise<string> => {
    const file = join(dir, `${name.replace(/\W/g, '_')}.parquet`);
    await db.run(`COPY (${select}) TO '${file}' (FORMAT parquet)`);
    return file;
  };
  const digest = async (file: string, timeframe: Timeframe) => {
    try {
      const rows = await reader.readParquet(file);
      return digestOf(() => validateBars(rows, { timeframe }));
    } catch (e) {
      return { error: (e as Error).message };
    }
  };

  it.each(FILES)(
    'data/sample/%s as Parquet: same batch as before, and as its CSV read by the CSV decoder',
    async (f) => {
      const file = await write(f, PARQUET_SAMPLE_SELECT(join(DATA, f)));
      const d = await digest(file, '1d');
      expect(d).toEqual(GOLDEN[`data/sample/${f}`]);
      expect(d).toEqual(digestOf(() => readBarsCsv(readFileSync(join(DATA, f)), { timeframe: '1d' })));
    },
  );

  it.each(PARQUET_CASES.map((c) => [c.name, c] as const))(
    '%s: same bars, rejects, gaps and content hash (or header error)',
    async (name, c) => {
      expect(GOLDEN[name]).toBeDefined();
      expect(await digest(await write(name, c.select), c.timeframe)).toEqual(GOLDEN[name]);
    },
  );
});
