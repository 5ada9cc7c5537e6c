export * from './event-definition';
export * from './envelope';
export * from './event-bus.port';
export * from './document-store.port';
export * from './json-schema';
export * from './artifact-store.port';
export * from './page-cursor';
export * from './text';
