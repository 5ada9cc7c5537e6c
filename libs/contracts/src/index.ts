export * from './event-definition';
export * from './envelope';
export * from './event-bus.port';
export * from './marketdata.contracts';
export * from './registry';
export * from './asyncapi';
export * from './document-store.port';
export * from './document-store.support';
