export * from './strategies.tokens';
export * from './strategies.service';
export * from './strategy-problems';
export * from './strategies.controller';
export * from './strategies.module';
