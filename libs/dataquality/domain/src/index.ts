export * from './sentinel.types';
export * from './sentinel.config';
export * from './isolation-forest';
export * from './forecast-residual';
export * from './bar-features';
export * from './sentinel.rules';
export * from './sentinel.scorer';
