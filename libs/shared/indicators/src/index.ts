export * from './ohlcv';
export { TA_EPSILON, taIsZeroScaled } from './kernel-support';
export * from './moving-average.indicators';
export * from './momentum.indicators';
export * from './volatility.indicators';
export * from './trend.indicators';
export * from './volume.indicators';
export * from './core-feature-set';
export * from './random-walk-bars';
