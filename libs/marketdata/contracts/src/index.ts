export * from './marketdata.contracts';
export * from './market-data-api.contracts';
export * from './market-data.ports';
