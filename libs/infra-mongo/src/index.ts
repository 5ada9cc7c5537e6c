export * from './mongo-document.store';
export * from './mongo-document-store.module';
