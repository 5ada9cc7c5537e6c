import { documentStoreConformance } from '@strata/shared-testing';
import { type DocumentStore } from '@strata/platform-contracts';
import { mongoTarget, uniqueName } from '../../../../test/infra';
import { MongoDocumentStore } from './mongo-document.store';

const mongo = mongoTarget();

mongo.describeIf('MongoDocumentStore (mongoose) conformance against MONGODB_URI', () => {
  documentStoreConformance({
    // A database of its own per run, dropped afterwards. The adapter's sweeper runs every 200 ms where the server
    // has no TTL indexes (FerretDB); on real MongoDB the TTL monitor (60 s period) removes expired documents.
    open: () =>
      MongoDocumentStore.connect({
        uri: mongo.url!,
        dbName: uniqueName('strata_store'),
        ttlSweepIntervalMs: 200,
        logger: { warn: () => undefined },
      }),
    dispose: async (store: DocumentStore) => {
      const s = store as MongoDocumentStore;
      await s.connection.dropDatabase();
      await s.close();
    },
    rawCount: (store: DocumentStore, collection: string) =>
      (store as MongoDocumentStore).connection.collection(collection).countDocuments({}),
    ttlRemovalWithinMs: 130_000,
  });
});

mongo.describeIf('MongoDocumentStore across independent connections (as two replicas would be)', () => {
  const dbName = uniqueName('strata_store_x');
  let a: MongoDocumentStore;
  let b: MongoDocumentStore;
  beforeAll(async () => {
    a = await MongoDocumentStore.connect({ uri: mongo.url!, dbName, logger: { warn: () => undefined } });
    b = await MongoDocumentStore.connect({ uri: mongo.url!, dbName, logger: { warn: () => undefined } });
  });
  afterAll(async () => {
    await a?.connection.dropDatabase();
    await a?.close();
    await b?.close();
  });

  it('picks lock-based compare-and-swap on FerretDB and native conditional writes on MongoDB', () => {
    expect(a.writeConcurrency).toBe(a.ferretDbVersion ? 'lock' : 'native');
  });

  it('no lost updates when 2 × 25 writers on two connections increment one counter', async () => {
    type Counter = { name: string; n: number };
    const spec = { name: 'counters', indexes: [{ fields: ['name'], unique: true }] };
    const ca = a.collection<Counter>(spec);
    const cb = b.collection<Counter>(spec);
    const doc = await ca.insert({ name: 'shared', n: 0 });
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (i % 2 ? ca : cb).updateWithRetry(doc.id, (cur) => ({ set: { n: cur.n + 1 } })),
      ),
    );
    expect(await cb.get(doc.id)).toMatchObject({ n: 50, _version: 51 });
  }, 120_000);
});
