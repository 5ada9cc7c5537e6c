export * from './health';
export * from './asyncapi.controller';
export * from './api-docs';
export * from './gateway.module';
export * from './gateway-app';
