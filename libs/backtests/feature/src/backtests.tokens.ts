/** Injection token of the worker's `BacktestWorkerOptions`. */
export const BACKTEST_WORKER_OPTIONS = Symbol('BACKTEST_WORKER_OPTIONS');
