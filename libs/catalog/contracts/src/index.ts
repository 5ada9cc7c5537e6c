export * from './registry';
export * from './asyncapi';
