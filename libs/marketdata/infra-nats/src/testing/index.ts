/** Test helpers of market data over NATS (never imported by production code): the MarketDataReader conformance suite and its fixture. */
export * from './market-data.fixture';
export * from './market-data-reader.conformance';
