import type { Timeframe } from '@strata/marketdata-contracts';

/** A Parquet file written by DuckDB, for the ingestion equivalence spec. */
export interface ParquetCase {
  name: string;
  timeframe: Timeframe;
  /** The SELECT whose result is written (`COPY (…) TO file (FORMAT parquet)`); `$csv(name)` reads a `data/sample` CSV. */
  select: string;
}

/**
 * Parquet files with every column type the reader handles (TIMESTAMP, TIMESTAMPTZ, DATE, text times; DOUBLE, FLOAT,
 * DECIMAL, integers, text numbers) and with NULL, NaN, ±Infinity, -0 and text values that are no numbers, for
 * comparing the columnar decoder with the CSV rendering it replaced (commit 96d1b41).
 */
export const PARQUET_CASES: ParquetCase[] = [
  {
    name: 'planted',
    timeframe: '1d',
    select: `SELECT timestamp, open, high, low, close, volume FROM (VALUES
        (1, TIMESTAMP '2024-01-02 00:00:00', 100.0, 101.0, 99.0, 100.5, 1000.0),
        (2, TIMESTAMP '2024-01-03 00:00:00', 100.5, 99.0, 101.0, 100.0, 1000.0),
        (3, TIMESTAMP '2024-01-04 00:00:00', 100.5, 102.0, 100.0, 101.5, 1000.0),
        (4, TIMESTAMP '2024-01-05 00:00:00', -1.0, 102.0, 100.0, 101.5, 1000.0),
        (5, TIMESTAMP '2024-01-05 00:00:00', 101.0, 102.0, 100.0, 101.5, -5.0),
        (6, TIMESTAMP '2024-01-08 00:00:00', 101.0, 102.0, 100.0, 105.0, 1000.0),
        (7, TIMESTAMP '2024-01-08 00:00:00', 101.0, 102.0, 100.0, 101.5, 1000.0),
        (8, TIMESTAMP '2024-01-08 00:00:00', 101.0, 102.0, 100.0, 101.5, 1000.0),
        (9, TIMESTAMP '2024-01-03 00:00:00', 101.0, 102.0, 100.0, 101.5, 1000.0),
        (10, TIMESTAMP '2024-01-09 00:00:00', 'nan'::DOUBLE, 102.0, 100.0, 101.5, 1000.0),
        (11, NULL, 101.0, 102.0, 100.0, 101.5, 1000.0),
        (12, TIMESTAMP '2024-01-10 00:00:00', 101.0, NULL, 100.0, 101.5, 1000.0),
        (13, TIMESTAMP '2024-01-11 14:30:00', 101.0, 102.0, 100.0, 101.5, 1000.0),
        (14, TIMESTAMP '2024-01-12 00:00:00', 101.0, 'inf'::DOUBLE, 100.0, 101.5, 1000.0),
        (15, TIMESTAMP '2024-01-13 00:00:00', 101.0, 102.0, '-inf'::DOUBLE, 101.5, 1000.0),
        (16, TIMESTAMP '2024-01-14 00:00:00', 101.0, 102.0, 100.0, 101.5, '-0.0'::DOUBLE),
        (17, TIMESTAMP '2024-01-15 00:00:00.123456', 101.0, 102.0, 100.0, 101.5, 1e300),
        (18, TIMESTAMP '2024-01-16 00:00:00', 0.1 + 0.2, 102.0, 5e-324::DOUBLE, 101.5, 1.5e-7)
      ) AS t(n, timestamp, open, high, low, close, volume) ORDER BY n`,
  },
  {
    name: 'types',
    timeframe: '1h',
    select: `SELECT "Timestamp", open, high, low, close, volume, adj_close FROM (VALUES
        (1, TIMESTAMPTZ '2024-01-02 14:30:00+00', 1.5::FLOAT, 2::INTEGER, 1.25::DECIMAL(18,6), '1.5', 10::BIGINT, 1.4::REAL),
        (2, TIMESTAMPTZ '2024-01-02 15:30:00+01', 1.1::FLOAT, 2::INTEGER, 1.000001::DECIMAL(18,6), ' 1.5 ', 11::BIGINT, 1.4::REAL),
        (3, TIMESTAMPTZ '2024-01-02 16:30:00+00', 1.5::FLOAT, 3::INTEGER, 1.25::DECIMAL(18,6), '"1.5"', 12::BIGINT, 1.4::REAL),
        (4, TIMESTAMPTZ '2024-01-02 17:30:00+00', 1.5::FLOAT, 3::INTEGER, 1.25::DECIMAL(18,6), 'abc', 12::BIGINT, 1.4::REAL),
        (5, TIMESTAMPTZ '2024-01-02 18:30:00+00', 1.5::FLOAT, 3::INTEGER, 1.25::DECIMAL(18,6), '1,5', 12::BIGINT, 1.4::REAL),
        (6, TIMESTAMPTZ '2024-01-02 19:30:00+00', 1.5::FLOAT, 3::INTEGER, 1.25::DECIMAL(18,6), '', 12::BIGINT, 1.4::REAL),
        (7, TIMESTAMPTZ '2024-01-02 20:30:00+00', 1.5::FLOAT, 3::INTEGER, 1.25::DECIMAL(18,6), 'NaN', 12::BIGINT, NULL),
        (8, TIMESTAMPTZ '2024-01-02 21:30:00+00', 'nan'::FLOAT, 3::INTEGER, 1.25::DECIMAL(18,6), '2', 9007199254740993::BIGINT, 1.4::REAL),
        (9, TIMESTAMPTZ '2024-01-02 22:30:00+00', 1.5::FLOAT, NULL, 1.25::DECIMAL(18,6), '2', 12::BIGINT, 0::REAL),
        (10, TIMESTAMPTZ '2024-01-02 23:30:00+00', 1.5::FLOAT, 3::INTEGER, NULL, '2e0', -1::BIGINT, 1.4::REAL)
      ) AS t(n, "Timestamp", open, high, low, close, volume, adj_close) ORDER BY n`,
  },
  {
    name: 'text-times',
    timeframe: '1d',
    select: `SELECT * FROM (VALUES
        ('2024-01-02', 1.5, 2, 1, 1.5, 10),
        ('2024-01-03T00:00:00Z', 1.5, 2, 1, 1.5, 10),
        ('2024-01-04 00:00:00+00:00', 1.5, 2, 1, 1.5, 10),
        ('  2024-01-05  ', 1.5, 2, 1, 1.5, 10),
        ('"2024-01-08"', 1.5, 2, 1, 1.5, 10),
        ('2024-01-09, x', 1.5, 2, 1, 1.5, 10),
        ('2024-02-30', 1.5, 2, 1, 1.5, 10),
        ('', 1.5, 2, 1, 1.5, 10),
        (NULL, 1.5, 2, 1, 1.5, 10),
        ('2024-01-10', 1.5, 2, 1, 1.5, 10)
      ) AS t(timestamp, open, high, low, close, volume)`,
  },
  {
    name: 'dates',
    timeframe: '1d',
    select: `SELECT DATE '2024-01-02' + i::INTEGER AS timestamp, 1.5 AS open, 2 AS high, 1 AS low, 1.5 AS close, i AS volume FROM range(0, 40) t(i)`,
  },
  {
    name: 'timestamp-ns',
    timeframe: '1m',
    select: `SELECT (TIMESTAMP '2024-01-02 14:30:00' + to_minutes(i))::TIMESTAMP_NS AS timestamp, 1.5 AS open, 2 AS high, 1 AS low, 1.5 AS close, i AS volume FROM range(0, 40) t(i)`,
  },
  {
    name: 'extra-column',
    timeframe: '1d',
    select: `SELECT '2024-01-02' AS timestamp, 1 AS open, 2 AS high, 1 AS low, 1 AS close, 10 AS volume, 'x' AS note`,
  },
  {
    name: 'missing-column',
    timeframe: '1d',
    select: `SELECT '2024-01-02' AS timestamp, 1 AS open, 2 AS high, 1 AS low, 1 AS close`,
  },
  {
    name: 'empty',
    timeframe: '1d',
    select: `SELECT * FROM (SELECT TIMESTAMP '2024-01-02' AS timestamp, 1.0 AS open, 2.0 AS high, 1.0 AS low, 1.0 AS close, 1.0 AS volume) WHERE false`,
  },
];

/** The bundled samples written to Parquet as DuckDB reads them (`read_csv`, header): DATE, DOUBLE, BIGINT columns. */
export const PARQUET_SAMPLE_SELECT = (csvPath: string): string =>
  `SELECT * FROM read_csv('${csvPath.replace(/'/g, "''")}', header = true)`;
