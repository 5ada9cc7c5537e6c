/**
 * Test support for the document-store port: the ONE conformance suite both adapters run. Import only from specs.
 */
export * from './testing/document-store.conformance';
