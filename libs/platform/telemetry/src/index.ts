export * from './telemetry';
export * from './boot';
