export * from './duckdb.database';
export * from './duckdb-document.store';
export * from './duckdb-document-store.module';
export * from './duckdb-columnar';
export * from './duckdb-bars.repository';
export * from './duckdb-corporate-actions.repository';
export * from './duckdb-feature.store';
export * from './duckdb-backtest-series.store';
