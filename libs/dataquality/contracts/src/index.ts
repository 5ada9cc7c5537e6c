export * from './dataquality.contracts';
export * from './bar-quality-flags.port';
export * from './webhook-transport.port';
