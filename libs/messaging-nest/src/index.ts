export * from './bus.decorators';
export * from './bus.context';
