export * from './marketdata.contracts';
export * from './market-data-api.contracts';
export * from './market-data.ports';
export * from './bar-rows';
export * from './ingestion-sources.ports';
export * from './ingestion-log.port';
export * from './market-data-reads.contracts';
