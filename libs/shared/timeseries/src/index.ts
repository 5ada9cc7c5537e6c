export * from './iso-time';
export * from './trading-calendar';
export * from './timeframe';
export * from './content-hash';
