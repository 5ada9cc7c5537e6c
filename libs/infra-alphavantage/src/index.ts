export * from './alphavantage.errors';
export * from './alphavantage.rate-limiter';
export * from './alphavantage.config';
export * from './alphavantage.parser';
export * from './alphavantage.client';
export * from './exchange-time';
export * from './alphavantage.source';
/** Test support: a local replay server of Alpha Vantage answers and the recorded fixtures (for e2e tests of the ingest source). */
export { AlphaVantageReplayServer, fixture as alphaVantageFixture, type ReplayResponse } from './testing/alphavantage-replay.server';
