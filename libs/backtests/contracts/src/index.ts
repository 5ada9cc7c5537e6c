export * from './strategy.contracts';
export * from './backtest.contracts';
