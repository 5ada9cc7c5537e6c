import { MongoDocumentStore } from '@strata/platform-document-store';
import { mongoTarget, uniqueName } from '../../../../test/infra';
import { DocumentIngestionLog } from './document-ingestion-log';
import { ingestionLogConformance } from './testing/ingestion-log.conformance';

const mongo = mongoTarget();

mongo.describeIf('IngestionLog contract: DocumentIngestionLog on mongoose (MONGODB_URI)', () => {
  const stores: MongoDocumentStore[] = [];
  afterAll(async () => {
    for (const s of stores) {
      await s.connection.dropDatabase();
      await s.close();
    }
  });
  ingestionLogConformance(async () => {
    const store = await MongoDocumentStore.connect({
      uri: mongo.url!,
      dbName: uniqueName('strata_ingest'),
      logger: { warn: () => undefined },
    });
    stores.push(store);
    return new DocumentIngestionLog(store);
  });
});
