/** Test helpers of the Alpha Vantage adapter (never imported by production code): the replay server and its fixtures. */
export * from './alphavantage-replay.server';
