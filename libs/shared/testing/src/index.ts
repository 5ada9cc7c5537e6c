export * from './document-store.conformance';
