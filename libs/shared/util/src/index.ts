export * from './ids';
export * from './config';
export * from './service-config';
