/** Test helpers of the backtest engine (never imported by production code): bar and signal fixtures. */
export * from './fixtures';
