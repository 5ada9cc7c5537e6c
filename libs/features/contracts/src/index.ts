export * from './features.contracts';
