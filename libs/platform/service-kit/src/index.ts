export * from './health';
export * from './asyncapi.controller';
export * from './api-docs';
export * from './providers.module';
export * from './service-app';
