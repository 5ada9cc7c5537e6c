export * from './duckdb.database';
export * from './duckdb-columnar';
