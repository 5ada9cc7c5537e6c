export * from './signals.contracts';
