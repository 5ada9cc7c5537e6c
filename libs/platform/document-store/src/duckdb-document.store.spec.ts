import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentStoreConformance } from '@strata/shared-testing';
import { DuplicateKeyError, type DocumentStore } from '@strata/platform-contracts';
import { DuckDb } from '@strata/platform-duckdb';
import { DOCSTORE_SCHEMA, DuckDbDocumentStore } from './duckdb-document.store';

describe('DuckDbDocumentStore (embedded) conformance', () => {
  documentStoreConformance({
    open: async () => new DuckDbDocumentStore(await DuckDb.create(':memory:'), { ttlSweepIntervalMs: 200 }),
    dispose: (store) => store.close(),
    rawCount: async (store: DocumentStore, collection: string) => {
      const rows = await (store as DuckDbDocumentStore).db.all<{ n: number }>(
        `SELECT count(*)::DOUBLE AS n FROM ${DOCSTORE_SCHEMA}."${collection}"`,
      );
      return rows[0].n;
    },
    ttlRemovalWithinMs: 2_000,
  });
});

describe('DuckDbDocumentStore persistence and schema changes', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-docstore-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps documents, versions and unique keys across a restart', async () => {
    const file = join(dir, 'strata.duckdb');
    const s1 = await DuckDbDocumentStore.open(file);
    const c1 = s1.collection<{ email: string; n: number }>({
      name: 'users',
      indexes: [{ fields: ['email'], unique: true }],
    });
    const a = await c1.insert({ email: 'a@x.io', n: 1 });
    await c1.update(a.id, 1, { set: { n: 2 } });
    await s1.close();

    const s2 = await DuckDbDocumentStore.open(file);
    const c2 = s2.collection<{ email: string; n: number }>({
      name: 'users',
      indexes: [{ fields: ['email'], unique: true }],
    });
    expect(await c2.get(a.id)).toEqual({ id: a.id, email: 'a@x.io', n: 2, _version: 2 });
    await expect(c2.insert({ email: 'a@x.io', n: 3 })).rejects.toBeInstanceOf(DuplicateKeyError);
    await s2.close();
  });

  it('rebuilds a table when its spec gains a unique index, and refuses one the data violates', async () => {
    const file = join(dir, 'strata.duckdb');
    const s1 = await DuckDbDocumentStore.open(file);
    const c1 = s1.collection<{ email: string; team: string }>({ name: 'members' });
    await c1.insert({ id: 'm1', email: 'a@x.io', team: 'red' });
    await c1.insert({ id: 'm2', email: 'b@x.io', team: 'red' });
    await s1.close();

    const s2 = await DuckDbDocumentStore.open(file);
    const c2 = s2.collection<{ email: string; team: string }>({
      name: 'members',
      indexes: [{ fields: ['email'], unique: true }],
    });
    expect(await c2.count()).toBe(2);
    await expect(c2.insert({ email: 'a@x.io', team: 'blue' })).rejects.toMatchObject({ index: 'email_uniq' });
    await s2.close();

    const s3 = await DuckDbDocumentStore.open(file);
    const c3 = s3.collection<{ email: string; team: string }>({
      name: 'members',
      indexes: [{ fields: ['team'], unique: true }],
    });
    await expect(s3.ready()).rejects.toMatchObject({
      name: 'DuplicateKeyError',
      index: 'team_uniq',
      key: { team: 'red' },
    });
    await expect(c3.count()).rejects.toBeInstanceOf(DuplicateKeyError);
    await s3.close();

    // The failed rebuild rolled back: the previous table and spec are intact.
    const s4 = await DuckDbDocumentStore.open(file);
    const c4 = s4.collection<{ email: string; team: string }>({
      name: 'members',
      indexes: [{ fields: ['email'], unique: true }],
    });
    expect((await c4.page({ limit: 10 })).items.map((d) => d.id)).toEqual(['m1', 'm2']);
    await s4.close();
  });

  it('shares the database file with other users of openDuckDb (bars tables next to documents)', async () => {
    const file = join(dir, 'strata.duckdb');
    const store = await DuckDbDocumentStore.open(file);
    const { openDuckDb } = await import('@strata/platform-duckdb');
    const bars = await openDuckDb(file);
    expect(bars).toBe(store.db);
    await bars.run('CREATE TABLE IF NOT EXISTS bars (symbol VARCHAR, close DOUBLE)');
    await store.collection<{ x: number }>({ name: 'things' }).insert({ x: 1 });
    await store.close();
    expect(bars.isClosed).toBe(false);
    expect(await bars.all('SELECT count(*)::INTEGER AS n FROM docstore."things"')).toEqual([{ n: 1 }]);
    await bars.close();
  });
});
