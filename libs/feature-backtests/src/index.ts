export * from './backtests.ports';
export * from './backtests.tokens';
export * from './backtest-runs.repository';
export * from './backtest-worker';
export * from './backtests.service';
export * from './backtests.controller';
export * from './market-data.backtest-data';
export * from './backtests.module';
