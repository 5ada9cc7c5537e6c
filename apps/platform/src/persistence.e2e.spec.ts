/**
 * Issue 3, "Done when", for the embedded default (`npm start` without MONGODB_URI): data survive a restart under
 * STRATA_DATA_DIR, the same CSV posted again is a duplicate with no second event, and API keys issued through
 * /admin/api-keys authenticate until revoked. Documents live in the same DuckDB instance as the bars.
 */
import { DOCSTORE_SCHEMA, DuckDbDocumentStore } from '@strata/platform-document-store';
import { persistenceScenario } from './testing/persistence-scenario';

jest.setTimeout(60_000);

describe('platform persistence across a restart (embedded DuckDB)', () => {
  persistenceScenario({
    env: () => ({}),
    storeAdapter: 'duckdb',
    expectLayout: async (platform) => {
      // One database instance for documents, bars and features: not a second handle on the same file.
      expect(platform.store).toBeInstanceOf(DuckDbDocumentStore);
      expect((platform.store as DuckDbDocumentStore).db).toBe(platform.duckdb);
      expect(platform.duckdb.path).toMatch(/strata\.duckdb$/);
      const tables = await platform.duckdb.all<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name`,
        [DOCSTORE_SCHEMA],
      );
      expect(tables.map((t) => t.table_name)).toEqual(
        expect.arrayContaining(['api_keys', 'ingestion_rejects', 'ingestions']),
      );
    },
  });
});
