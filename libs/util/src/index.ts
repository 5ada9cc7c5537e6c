export * from './ids';
export * from './config';
