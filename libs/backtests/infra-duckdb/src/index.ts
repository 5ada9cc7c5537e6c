export * from './duckdb-backtest-series.store';
