export * from './ids';
export * from './config';
export * from './service-config';
export * from './gateway-config';
export * from './stream-limits';
export * from './regime-config';
