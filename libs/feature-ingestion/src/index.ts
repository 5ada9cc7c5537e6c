export * from './ingestion-log.port';
export * from './in-memory-ingestion-log';
export * from './document-ingestion-log';
export * from './ingestion.tokens';
export * from './ingest-bars.use-case';
export * from './ingest-command.responder';
export * from './market-data-ingest.controller';
export * from './ingestion.module';
