export * from './gaussian-hmm';
export * from './hmm-fit';
export * from './regime-model';
export * from './rule-regime';
export * from './regime-synthetic';
