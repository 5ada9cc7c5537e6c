export * from './duckdb-bar-quality-flags.store';
