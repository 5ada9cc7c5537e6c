export * from './strategy.contracts';
export * from './backtest.contracts';
export * from './backtests.ports';
export * from './kpi-bands.contracts';
export * from './portfolio.contracts';
