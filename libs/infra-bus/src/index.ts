export * from './bus-errors';
export * from './in-process-event-bus';
export * from './subjects';
export { fastUuidv7 } from './fast-id';
