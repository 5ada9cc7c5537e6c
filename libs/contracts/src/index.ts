export * from './event-definition';
export * from './envelope';
export * from './event-bus.port';
export * from './marketdata.contracts';
export * from './registry';
export * from './asyncapi';
