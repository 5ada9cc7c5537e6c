/** Test helpers of the backtests capability (never imported by production code): an embedded test app and worker. */
export * from './backtests-test-app';
export * from './backtest-series-store.conformance';
