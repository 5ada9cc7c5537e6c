export * from './bus.decorators';
export * from './bus.context';
export * from './recovery-sweep';
export * from './service-definition';
