export * from './bus.decorators';
export * from './bus.context';
export * from './durable-consumers';
