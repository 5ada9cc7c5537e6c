/** Test helpers of the event bus (never imported by production code): the conformance suite both adapters run. */
export * from './event-bus.conformance';
