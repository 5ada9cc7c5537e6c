export * from './regime-labels';
export * from './regime.contracts';
