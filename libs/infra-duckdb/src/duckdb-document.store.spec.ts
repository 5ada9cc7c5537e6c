import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentStoreConformance } from '@strata/testing-store';
import { DuplicateKeyError, type DocumentStore } from '@strata/contracts';
import { DuckDb } from './duckdb.database';
import { DOCSTORE_SCHEMA, DuckDbDocumentStore } from './duckdb-document.store';

describe('DuckDbDocumentStore (embedded) conformance', () => {
  documentStoreConformance({
    open: async () => new DuckDbDocumentStore(await DuckDb.create(':memory:'), { ttlSweepIntervalMs: 200 }),
    dispose: (store) => store.close(),
    rawCount: async (store: DocumentStore, collection: string) => {
      const rows = await (store as DuckDbDocumentStore).db.all<{ n: number }>(`SELECT count(*)::DOUBLE AS n FROM ${DOCSTORE_SCHEMA}."${collection}"`);
      return rows[0].n;
    },
    ttlRemovalWithinMs: 2_000,
  });
});
