export * from './document-store.support';
export * from './duckdb-document.store';
export * from './duckdb-document-store.module';
export * from './mongo-document.store';
export * from './mongo-document-store.module';
