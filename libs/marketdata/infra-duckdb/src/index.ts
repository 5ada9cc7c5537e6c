export * from './duckdb-bars.repository';
export * from './duckdb-corporate-actions.repository';
export * from './duckdb-parquet-bars.reader';
export * from './duckdb-synthetic-ground-truth.store';
