export * from './bus-errors';
export * from './in-process-event-bus';
export * from './jetstream-event-bus';
export * from './create-event-bus';
export * from './subjects';
export { fastUuidv7 } from './fast-id';
export * from './nest/bus.transport';
export * from './nest/bus.module';
export * from './binary-request-reply';
