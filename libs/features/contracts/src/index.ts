export * from './features.contracts';
export * from './feature-store.port';
