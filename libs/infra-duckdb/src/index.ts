export * from './duckdb.database';
export * from './duckdb-document.store';
