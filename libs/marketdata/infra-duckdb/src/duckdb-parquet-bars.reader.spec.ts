import { readBarsCsv, validateBars } from '@strata/marketdata-domain';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { DuckDbParquetBarsReader } from './duckdb-parquet-bars.reader';

const SPY = resolve(__dirname, '../../../../data/sample/SPY_1d.csv');
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

describe('DuckDbParquetBarsReader (Parquet written by DuckDB, validated like a CSV by validateBars)', () => {
  let db: DuckDb;
  let dir: string;
  let reader: DuckDbParquetBarsReader;

  beforeAll(async () => {
    db = await DuckDb.create(DUCKDB_MEMORY);
    dir = mkdtempSync(join(tmpdir(), 'strata-parquet-'));
    reader = new DuckDbParquetBarsReader(db);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the real SPY sample (DATE + DOUBLE + BIGINT columns) into the same batch as its CSV: same bars, same content hash', async () => {
    const file = join(dir, 'spy.parquet');
    await db.run(`COPY (SELECT * FROM read_csv(${q(SPY)}, header = true)) TO ${q(file)} (FORMAT parquet)`);
    const fromCsv = readBarsCsv(readFileSync(SPY), { timeframe: '1d' });
    const fromParquet = validateBars(await reader.readParquet(file), { timeframe: '1d' });
    expect(fromParquet.rejects).toEqual(fromCsv.rejects);
    expect(fromParquet.bars.length).toBe(fromCsv.bars.length);
    expect(fromParquet.bars.length).toBeGreaterThan(5000);
    expect(fromParquet.contentHash).toBe(fromCsv.contentHash);
    expect(Array.from(fromParquet.bars.close)).toEqual(Array.from(fromCsv.bars.close));
    expect(Array.from(fromParquet.bars.ts)).toEqual(Array.from(fromCsv.bars.ts));
    expect(fromParquet.gaps).toEqual(fromCsv.gaps);
  });

  it('rejects every planted bad row with its reason at line = row index + 1 (virtual header), keeping every good row', async () => {
    const file = join(dir, 'planted.parquet');
    // Row numbers (1-based) in the comments; a virtual header makes the reported line row + 1.
    await db.run(`COPY (
      SELECT * FROM (VALUES
        (1, TIMESTAMP '2024-01-02 00:00:00', 100.0, 101.0, 99.0, 100.5, 1000.0),   -- row 1 ok
        (2, TIMESTAMP '2024-01-03 00:00:00', 100.5, 99.0, 101.0, 100.0, 1000.0),   -- row 2 high_below_low
        (3, TIMESTAMP '2024-01-04 00:00:00', 100.5, 102.0, 100.0, 101.5, 1000.0),  -- row 3 ok
        (4, TIMESTAMP '2024-01-05 00:00:00', -1.0, 102.0, 100.0, 101.5, 1000.0),   -- row 4 non_positive_price
        (5, TIMESTAMP '2024-01-05 00:00:00', 101.0, 102.0, 100.0, 101.5, -5.0),    -- row 5 negative_volume
        (6, TIMESTAMP '2024-01-08 00:00:00', 101.0, 102.0, 100.0, 105.0, 1000.0),  -- row 6 open_close_outside_range
        (7, TIMESTAMP '2024-01-08 00:00:00', 101.0, 102.0, 100.0, 101.5, 1000.0),  -- row 7 ok
        (8, TIMESTAMP '2024-01-08 00:00:00', 101.0, 102.0, 100.0, 101.5, 1000.0),  -- row 8 duplicate_timestamp
        (9, TIMESTAMP '2024-01-03 00:00:00', 101.0, 102.0, 100.0, 101.5, 1000.0),  -- row 9 out_of_order
        (10, TIMESTAMP '2024-01-09 00:00:00', 'nan'::DOUBLE, 102.0, 100.0, 101.5, 1000.0), -- row 10 non_finite
        (11, NULL, 101.0, 102.0, 100.0, 101.5, 1000.0),                            -- row 11 unparsable (NULL time)
        (12, TIMESTAMP '2024-01-10 00:00:00', 101.0, NULL, 100.0, 101.5, 1000.0),  -- row 12 unparsable (NULL high)
        (13, TIMESTAMP '2024-01-11 14:30:00', 101.0, 102.0, 100.0, 101.5, 1000.0)  -- row 13 ok
      ) AS t(n, timestamp, open, high, low, close, volume) ORDER BY n
    ) TO ${q(file)} (FORMAT parquet)`);
    // `n` is not a bar column: drop it by rewriting without it (keeps the row order).
    const clean = join(dir, 'planted-clean.parquet');
    await db.run(
      `COPY (SELECT timestamp, open, high, low, close, volume FROM read_parquet(${q(file)})) TO ${q(clean)} (FORMAT parquet)`,
    );
    const batch = validateBars(await reader.readParquet(clean), { timeframe: '1d' });
    expect(batch.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'high_below_low'],
      [5, 'non_positive_price'],
      [6, 'negative_volume'],
      [7, 'open_close_outside_range'],
      [9, 'duplicate_timestamp'],
      [10, 'out_of_order'],
      [11, 'non_finite'],
      [12, 'unparsable'],
      [13, 'unparsable'],
    ]);
    expect(Array.from(batch.bars.line)).toEqual([2, 4, 8, 14]);
    expect(Array.from(batch.bars.ts).map((t) => new Date(t).toISOString())).toEqual([
      '2024-01-02T00:00:00.000Z',
      '2024-01-04T00:00:00.000Z',
      '2024-01-08T00:00:00.000Z',
      '2024-01-11T14:30:00.000Z',
    ]);
  });

  it('reads TIMESTAMPTZ columns as UTC instants', async () => {
    const tz = join(dir, 'tz.parquet');
    await db.run(
      `COPY (SELECT TIMESTAMPTZ '2024-01-02 14:30:00+00' AS timestamp, 1.5 AS open, 2 AS high, 1 AS low, 1.5 AS close, 10 AS volume) TO ${q(tz)} (FORMAT parquet)`,
    );
    const batch = validateBars(await reader.readParquet(tz), { timeframe: '1h' });
    expect(batch.rejects).toEqual([]);
    expect(new Date(batch.bars.ts[0]).toISOString()).toBe('2024-01-02T14:30:00.000Z');
  });

  it('passes text timestamps through and refuses a file with extra columns like a CSV header (line 1)', async () => {
    const text = join(dir, 'text.parquet');
    await db.run(
      `COPY (SELECT '2024-01-02' AS timestamp, 1.5 AS open, 2 AS high, 1 AS low, 1.5 AS close, 10 AS volume) TO ${q(text)} (FORMAT parquet)`,
    );
    const batch = validateBars(await reader.readParquet(text), { timeframe: '1d' });
    expect(batch.rejects).toEqual([]);
    expect(batch.bars.length).toBe(1);
    expect(batch.bars.open[0]).toBe(1.5);
    const extra = join(dir, 'extra.parquet');
    await db.run(
      `COPY (SELECT '2024-01-02' AS timestamp, 1 AS open, 2 AS high, 1 AS low, 1 AS close, 10 AS volume, 'x' AS note) TO ${q(extra)} (FORMAT parquet)`,
    );
    await expect(reader.readParquet(extra)).rejects.toThrow(/line 1: .*unknown column "note"/);
  });
});
