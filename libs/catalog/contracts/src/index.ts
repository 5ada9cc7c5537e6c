export * from './registry';
export * from './asyncapi';
export * from './gateway-routes';
