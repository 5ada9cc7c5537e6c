export * from './duckdb-feature.store';
