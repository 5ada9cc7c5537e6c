/**
 * Issue 3, "Done when", with MONGODB_URI (FerretDB in .ci/run): the platform keeps its documents in MongoDB, not in
 * its DuckDB file, and data, duplicates and API keys behave exactly as with the embedded store across a restart.
 */
import { DOCSTORE_SCHEMA, MongoDocumentStore } from '@strata/platform-document-store';
import mongoose from 'mongoose';
import { mongoTarget, uniqueName } from '../../../test/infra';
import { persistenceScenario } from './testing/persistence-scenario';

const mongo = mongoTarget();

/** `MONGODB_URI` with its database replaced by `db` (query options kept). */
function withDatabase(uri: string, db: string): string {
  const u = new URL(uri);
  u.pathname = `/${db}`;
  return u.toString();
}

mongo.describeIf('platform persistence across a restart (MongoDB)', () => {
  jest.setTimeout(120_000);
  // describe.skip still runs this body to collect tests, so it must not throw when MONGODB_URI is unset.
  const uri = mongo.url ? withDatabase(mongo.url, uniqueName('strata_persist').toLowerCase()) : 'mongodb://unset';

  persistenceScenario({
    env: () => ({ MONGODB_URI: uri }),
    storeAdapter: 'mongodb',
    expectLayout: async (platform) => {
      expect(platform.store).toBeInstanceOf(MongoDocumentStore);
      // Bars and features still use the embedded file; documents do not.
      const schemas = await platform.duckdb.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = ?`,
        [DOCSTORE_SCHEMA],
      );
      expect(Number(schemas[0].n)).toBe(0);
    },
    cleanup: async () => {
      const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
      try {
        const names = (await conn.db!.listCollections().toArray()).map((c) => c.name);
        expect(names).toEqual(expect.arrayContaining(['api_keys', 'ingestions']));
        await conn.db!.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  });
});
