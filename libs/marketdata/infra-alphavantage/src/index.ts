export * from './alphavantage.errors';
export * from './alphavantage.rate-limiter';
export * from './alphavantage.config';
export * from './alphavantage.parser';
export * from './alphavantage.client';
export * from './exchange-time';
export * from './alphavantage.source';
