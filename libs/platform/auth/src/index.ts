export * from './api-key.repository';
export * from './api-keys.service';
export * from './api-keys.controller';
export * from './auth.tokens';
export * from './auth.module';
