/**
 * THE conformance suite of the document-store port (CONVENTIONS.md, Ports and adapters): every adapter runs exactly
 * these tests, so the embedded default cannot drift from production. Call {@link documentStoreConformance} inside a
 * `describe` of the adapter's spec; expected values are computed here, independently of any adapter.
 */
import {
  CollectionSpecError,
  DocumentNotFoundError,
  DocumentValidationError,
  DuplicateKeyError,
  InvalidCursorError,
  VersionConflictError,
  type DocumentCollection,
  type DocumentStore,
  type StoredDocument,
} from '@strata/platform-contracts';

/** What an adapter's spec provides to the suite. */
export interface DocumentStoreHarness {
  /** A store on an empty, private database. Called once per suite run. */
  open(): Promise<DocumentStore>;
  /** Closes the store and drops its database. */
  dispose(store: DocumentStore): Promise<void>;
  /** Documents physically present in a collection, expired ones included (bypasses the port's read filter). */
  rawCount(store: DocumentStore, collection: string): Promise<number>;
  /** Upper bound for an expired document to be physically removed, ms (sweeper interval or TTL monitor lag). */
  ttlRemovalWithinMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean>, withinMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

/** Every item of every page, following cursors; also checks each page size. */
async function allPages<T extends object>(
  col: DocumentCollection<T>,
  req: Omit<Parameters<DocumentCollection<T>['page']>[0], 'cursor'>,
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Awaited<ReturnType<DocumentCollection<T>['page']>> = await col.page({ ...req, cursor });
    pages++;
    expect(page.items.length).toBeLessThanOrEqual(req.limit);
    if (page.nextCursor) expect(page.items.length).toBe(req.limit);
    ids.push(...page.items.map((d) => d.id));
    cursor = page.nextCursor;
    if (pages > 1000) throw new Error('pagination does not terminate');
  } while (cursor);
  return { ids, pages };
}

interface Account {
  email: string;
  tenant: string;
  name?: string;
  n?: number;
  tags?: string[];
  meta?: Record<string, unknown>;
}

interface Event {
  symbol: string;
  severity: number | null;
  status?: string;
  at: string;
  score?: number | string | boolean | null;
}

interface Session {
  key: string;
  touchedAt?: string | null;
  note?: string;
}

/**
 * Registers the conformance tests for one adapter. Uses one store for the whole run and a distinct collection per
 * concern, so tests do not depend on each other's data.
 */
export function documentStoreConformance(harness: DocumentStoreHarness): void {
  let store: DocumentStore;
  // Real servers (FerretDB on a shared CI box) are slower than the embedded store.
  jest.setTimeout(60_000);

  beforeAll(async () => {
    store = await harness.open();
  });
  afterAll(async () => {
    if (store) await harness.dispose(store);
  });

  const accounts = () =>
    store.collection<Account>({
      name: 'accounts',
      indexes: [
        { fields: ['email'], unique: true },
        { fields: ['tenant', 'name'], unique: true, name: 'tenant_name' },
        { fields: ['tenant'] },
      ],
    });

  describe('create, read, update, delete', () => {
    it('inserts with a generated UUIDv7 id and version 1, and reads the same document back', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'a@x.io', tenant: 't1', name: 'Ann', n: 0 });
      expect(doc.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(doc).toEqual({ id: doc.id, _version: 1, email: 'a@x.io', tenant: 't1', name: 'Ann', n: 0 });
      expect(await col.get(doc.id)).toEqual(doc);
      expect(await col.get('no-such-id')).toBeNull();
    });

    it('round-trips JSON exactly: nesting, arrays, unicode, numbers, booleans, null; drops undefined properties', async () => {
      const col = accounts();
      const meta = {
        nested: { deep: { list: [1, 'two', null, { three: 3 }, { four: [4] }], empty: {}, none: [] } },
        unicode: 'Zürich – 東京 – 🚀',
        ints: [0, -1, 2 ** 53 - 1, -(2 ** 31)],
        floats: [0.1, -2.5e-7, 1.7976931348623157e308],
        flags: [true, false],
        nothing: null,
      };
      const doc = await col.insert({
        id: 'custom-id-1',
        email: 'json@x.io',
        tenant: 't1',
        name: 'Json',
        meta,
        tags: ['a', 'b'],
        n: undefined,
      });
      expect(doc.id).toBe('custom-id-1');
      const back = await col.get('custom-id-1');
      expect(back).toEqual({
        id: 'custom-id-1',
        _version: 1,
        email: 'json@x.io',
        tenant: 't1',
        name: 'Json',
        meta,
        tags: ['a', 'b'],
      });
      expect(back && 'n' in back).toBe(false);
    });

    it('refuses values that are not plain JSON, and reserved or unsafe keys', async () => {
      const col = accounts();
      const bad: unknown[] = [
        { email: 'd@x.io', tenant: 't9', name: 'D', meta: { when: new Date() } },
        { email: 'd@x.io', tenant: 't9', name: 'D', n: Number.NaN },
        { email: 'd@x.io', tenant: 't9', name: 'D', n: Infinity },
        { email: 'd@x.io', tenant: 't9', name: 'D', meta: { $where: 1 } },
        { email: 'd@x.io', tenant: 't9', name: 'D', meta: { 'a.b': 1 } },
        { email: 'd@x.io', tenant: 't9', name: 'D', _secret: 1 },
        { email: 'd@x.io', tenant: 't9', name: 'D', tags: [undefined] },
        { email: 'd@x.io', tenant: 't9', name: 'D', meta: { big: BigInt(1) } },
        {
          email: 'd@x.io',
          tenant: 't9',
          name: 'D',
          meta: {
            matrix: [
              [1, 2],
              [3, 4],
            ],
          },
        },
      ];
      for (const doc of bad) {
        const err = await rejection(col.insert(doc as Account));
        expect(err).toBeInstanceOf(DocumentValidationError);
      }
      expect(await col.count({ email: 'd@x.io' })).toBe(0);
    });

    it('patches (set/unset) and replaces, bumping the version each time', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'p@x.io', tenant: 't2', name: 'Pat', n: 1, tags: ['x'] });
      const patched = await col.update(doc.id, 1, { set: { n: 2, meta: { k: 'v' } }, unset: ['tags'] });
      expect(patched).toEqual({
        id: doc.id,
        _version: 2,
        email: 'p@x.io',
        tenant: 't2',
        name: 'Pat',
        n: 2,
        meta: { k: 'v' },
      });
      expect(await col.get(doc.id)).toEqual(patched);
      const replaced = await col.update(doc.id, 2, { replace: { email: 'p2@x.io', tenant: 't2', name: 'Pat' } });
      expect(replaced).toEqual({ id: doc.id, _version: 3, email: 'p2@x.io', tenant: 't2', name: 'Pat' });
      expect(await col.get(doc.id)).toEqual(replaced);
      // Replacing with a spread of the current document (its own id and _version included) is allowed.
      const again = await col.update(doc.id, 3, { replace: { ...replaced, n: 9 } });
      expect(again).toEqual({ ...replaced, n: 9, _version: 4 });
      const err = await rejection(col.update(doc.id, 4, { replace: { ...again, id: 'other' } as Account }));
      expect(err).toBeInstanceOf(DocumentValidationError);
    });

    it('deletes, reporting whether a document was there', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'del@x.io', tenant: 't3', name: 'Del' });
      expect(await col.delete(doc.id)).toBe(true);
      expect(await col.get(doc.id)).toBeNull();
      expect(await col.delete(doc.id)).toBe(false);
      expect(await rejection(col.update(doc.id, 1, { set: { n: 1 } }))).toBeInstanceOf(DocumentNotFoundError);
    });

    it('findOne returns the matching document with the smallest id, or null', async () => {
      const col = accounts();
      await col.insert({ id: 'f-2', email: 'f2@x.io', tenant: 'tf', name: 'B' });
      await col.insert({ id: 'f-1', email: 'f1@x.io', tenant: 'tf', name: 'A' });
      await col.insert({ id: 'f-3', email: 'f3@x.io', tenant: 'tf', name: 'C' });
      expect((await col.findOne({ tenant: 'tf' }))?.id).toBe('f-1');
      expect((await col.findOne({ tenant: 'tf', name: 'C' }))?.id).toBe('f-3');
      expect(await col.findOne({ tenant: 'nope' })).toBeNull();
    });
  });

  describe('filters', () => {
    const events = () => store.collection<Event>({ name: 'events', indexes: [{ fields: ['symbol', 'at'] }] });
    // Hand-written fixture; expected ids below are worked out by hand from it.
    const fixture: (Event & { id: string })[] = [
      { id: 'e01', symbol: 'AAPL', severity: 1, status: 'open', at: '2024-01-01T10:00:00.000Z' },
      { id: 'e02', symbol: 'AAPL', severity: 3, status: 'closed', at: '2024-01-02T10:00:00.000Z' },
      { id: 'e03', symbol: 'MSFT', severity: 2, status: 'open', at: '2024-01-03T10:00:00.000Z' },
      { id: 'e04', symbol: 'MSFT', severity: null, status: 'open', at: '2024-01-04T10:00:00.000Z' },
      { id: 'e05', symbol: 'AAPL', severity: 2.5, at: '2024-01-05T10:00:00.000Z' },
      { id: 'e06', symbol: 'GOOG', severity: 3, status: 'ack', at: '2024-01-06T10:00:00.000Z', score: '3' },
      { id: 'e07', symbol: 'AAPL', severity: 3.0, status: 'open', at: '2024-01-07T10:00:00.000Z', score: 3 },
    ];
    beforeAll(async () => {
      for (const e of fixture) await events().insert(e);
    });
    const ids = async (filter: Parameters<DocumentCollection<Event>['count']>[0]) => {
      const { ids: got } = await allPages(events(), { filter, limit: 100 });
      expect(await events().count(filter)).toBe(got.length);
      return got;
    };

    it('equality, $eq, and null matching missing fields', async () => {
      expect(await ids({ symbol: 'AAPL' })).toEqual(['e01', 'e02', 'e05', 'e07']);
      expect(await ids({ symbol: { $eq: 'MSFT' } })).toEqual(['e03', 'e04']);
      expect(await ids({ status: null })).toEqual(['e05']);
      expect(await ids({ severity: null })).toEqual(['e04']);
      expect(await ids({ id: 'e03' })).toEqual(['e03']);
    });

    it('numbers compare by value (3 equals 3.0) and never equal strings', async () => {
      expect(await ids({ severity: 3 })).toEqual(['e02', 'e06', 'e07']);
      expect(await ids({ score: 3 })).toEqual(['e07']);
      expect(await ids({ score: '3' })).toEqual(['e06']);
    });

    it('$in, $nin and $ne ($ne/$nin also match missing fields)', async () => {
      expect(await ids({ symbol: { $in: ['MSFT', 'GOOG'] } })).toEqual(['e03', 'e04', 'e06']);
      expect(await ids({ status: { $in: ['ack', null] } })).toEqual(['e05', 'e06']);
      expect(await ids({ status: { $in: [] } })).toEqual([]);
      expect(await ids({ status: { $ne: 'open' } })).toEqual(['e02', 'e05', 'e06']);
      expect(await ids({ status: { $nin: ['open', 'closed'] } })).toEqual(['e05', 'e06']);
      expect(await ids({ severity: { $ne: null } })).toEqual(['e01', 'e02', 'e03', 'e05', 'e06', 'e07']);
    });

    it('ranges on numbers and ISO timestamps, type-bracketed, combined with equality', async () => {
      expect(await ids({ severity: { $gte: 2.5 } })).toEqual(['e02', 'e05', 'e06', 'e07']);
      expect(await ids({ severity: { $gt: 1, $lt: 3 } })).toEqual(['e03', 'e05']);
      expect(await ids({ score: { $gte: 0 } })).toEqual(['e07']);
      expect(await ids({ score: { $gte: '' } })).toEqual(['e06']);
      expect(
        await ids({
          symbol: 'AAPL',
          severity: { $gte: 2 },
          at: { $gte: '2024-01-02T00:00:00.000Z', $lt: '2024-01-07T10:00:00.000Z' },
        }),
      ).toEqual(['e02', 'e05']);
      expect(await ids({ id: { $gt: 'e05' } })).toEqual(['e06', 'e07']);
    });

    it('deleteMany removes exactly the matching documents', async () => {
      const col = store.collection<Event>({ name: 'events_del' });
      for (const e of fixture) await col.insert(e);
      expect(await col.deleteMany({ symbol: 'AAPL', severity: { $gte: 3 } })).toBe(2);
      expect((await allPages(col, { limit: 10 })).ids).toEqual(['e01', 'e03', 'e04', 'e05', 'e06']);
    });

    it('refuses unknown operators, object operands and bad field names', async () => {
      const bad: unknown[] = [
        { symbol: { $regex: 'A' } },
        { symbol: { nested: 1 } },
        { 'meta.x': 1 },
        { symbol: ['AAPL'] },
        { severity: { $gt: true } },
        { symbol: {} },
      ];
      for (const filter of bad) {
        expect(await rejection(events().count(filter as never))).toBeInstanceOf(DocumentValidationError);
      }
    });
  });

  describe('unique indexes', () => {
    it('refuses a second document with the same unique key as a typed DuplicateKeyError naming the index', async () => {
      const col = accounts();
      await col.insert({ email: 'u@x.io', tenant: 'tu', name: 'U1' });
      const err = await rejection(col.insert({ email: 'u@x.io', tenant: 'tu', name: 'U2' }));
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect(err).toMatchObject({
        index: 'email_uniq',
        fields: ['email'],
        collection: 'accounts',
        httpStatus: 409,
        code: 'duplicate_key',
      });
      expect(await col.count({ email: 'u@x.io' })).toBe(1);
    });

    it('compound unique keys collide only when every field matches', async () => {
      const col = accounts();
      await col.insert({ email: 'c1@x.io', tenant: 'tc', name: 'Same' });
      await col.insert({ email: 'c2@x.io', tenant: 'tc2', name: 'Same' });
      const err = await rejection(col.insert({ email: 'c3@x.io', tenant: 'tc', name: 'Same' }));
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect(err).toMatchObject({ index: 'tenant_name', fields: ['tenant', 'name'] });
    });

    it('a taken id is a DuplicateKeyError on index _id', async () => {
      const col = accounts();
      await col.insert({ id: 'dup-id', email: 'i1@x.io', tenant: 'ti', name: 'I1' });
      const err = await rejection(col.insert({ id: 'dup-id', email: 'i2@x.io', tenant: 'ti', name: 'I2' }));
      expect(err).toBeInstanceOf(DuplicateKeyError);
      expect(err).toMatchObject({ index: '_id', fields: ['id'] });
    });

    it('an update into a taken key fails and leaves the document unchanged; keeping its own key is fine', async () => {
      const col = accounts();
      await col.insert({ email: 'k1@x.io', tenant: 'tk', name: 'K1' });
      const b = await col.insert({ email: 'k2@x.io', tenant: 'tk', name: 'K2' });
      for (const change of [
        { set: { email: 'k1@x.io' } },
        { replace: { email: 'k1@x.io', tenant: 'tk', name: 'K2' } },
        { set: { name: 'K1' } },
      ]) {
        const err = await rejection(col.update(b.id, 1, change));
        expect(err).toBeInstanceOf(DuplicateKeyError);
      }
      expect(await col.get(b.id)).toEqual(b);
      const kept = await col.update(b.id, 1, { set: { email: 'k2@x.io', n: 5 } });
      expect(kept._version).toBe(2);
      // Moving a key away frees it for others.
      await col.update(b.id, 2, { set: { email: 'k2-moved@x.io' } });
      await expect(col.insert({ email: 'k2@x.io', tenant: 'tk', name: 'K3' })).resolves.toMatchObject({
        email: 'k2@x.io',
      });
    });

    it('numbers 1 and 1.0 are the same key; the string "1" is not', async () => {
      const col = store.collection<{ code: number | string }>({
        name: 'codes',
        indexes: [{ fields: ['code'], unique: true }],
      });
      await col.insert({ code: 1 });
      expect(await rejection(col.insert({ code: 1.0 }))).toBeInstanceOf(DuplicateKeyError);
      await expect(col.insert({ code: '1' })).resolves.toMatchObject({ code: '1' });
    });

    it('requires every unique field to be present and non-null', async () => {
      const col = accounts();
      expect(await rejection(col.insert({ email: 'm@x.io', tenant: 'tm' }))).toBeInstanceOf(DocumentValidationError);
      expect(await rejection(col.insert({ email: null as unknown as string, tenant: 'tm', name: 'M' }))).toBeInstanceOf(
        DocumentValidationError,
      );
      const ok = await col.insert({ email: 'm@x.io', tenant: 'tm', name: 'M' });
      expect(await rejection(col.update(ok.id, 1, { unset: ['name'] }))).toBeInstanceOf(DocumentValidationError);
    });

    it('a deleted document frees its key', async () => {
      const col = accounts();
      const a = await col.insert({ email: 'free@x.io', tenant: 'tfr', name: 'F' });
      await col.delete(a.id);
      await expect(col.insert({ email: 'free@x.io', tenant: 'tfr', name: 'F' })).resolves.toMatchObject({
        email: 'free@x.io',
      });
    });
  });

  describe('optimistic concurrency', () => {
    it('an update with a stale version is a VersionConflictError and changes nothing', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'oc@x.io', tenant: 'to', name: 'O', n: 0 });
      const v2 = await col.update(doc.id, 1, { set: { n: 1 } });
      const err = await rejection(col.update(doc.id, 1, { set: { n: 99 } }));
      expect(err).toBeInstanceOf(VersionConflictError);
      expect(err).toMatchObject({ id: doc.id, expectedVersion: 1, actualVersion: 2, httpStatus: 409 });
      expect(await col.get(doc.id)).toEqual(v2);
      expect(await rejection(col.delete(doc.id, 1))).toBeInstanceOf(VersionConflictError);
      expect(await col.delete(doc.id, 2)).toBe(true);
    });

    it('of 20 concurrent writers holding the same version exactly one wins', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'race@x.io', tenant: 'tr', name: 'R', n: 0 });
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => col.update(doc.id, 1, { set: { n: i + 1 } })),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.every((r) => r.reason instanceof VersionConflictError)).toBe(true);
      const final = await col.get(doc.id);
      expect(final?._version).toBe(2);
      expect(final?.n).toBe((won[0] as PromiseFulfilledResult<StoredDocument<Account>>).value.n);
    });

    it('no lost updates: 50 concurrent read-modify-write increments total 50', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'counter@x.io', tenant: 'tn', name: 'N', n: 0 });
      let mutateCalls = 0;
      await Promise.all(
        Array.from({ length: 50 }, () =>
          col.updateWithRetry(doc.id, (cur) => {
            mutateCalls++;
            return { set: { n: (cur.n ?? 0) + 1 } };
          }),
        ),
      );
      const final = await col.get(doc.id);
      expect(final?.n).toBe(50);
      expect(final?._version).toBe(51);
      expect(mutateCalls).toBeGreaterThanOrEqual(50);
    });

    it('updateWithRetry: null from mutate changes nothing; a missing document is DocumentNotFoundError', async () => {
      const col = accounts();
      const doc = await col.insert({ email: 'noop@x.io', tenant: 'tz', name: 'Z' });
      expect(await col.updateWithRetry(doc.id, () => null)).toEqual(doc);
      expect(await rejection(col.updateWithRetry('missing', () => ({ set: { n: 1 } })))).toBeInstanceOf(
        DocumentNotFoundError,
      );
    });
  });

  describe('cursor pagination', () => {
    // 41 documents: heavy ties on `rank`, some nulls/missing, ISO timestamps for `at`.
    const docs = Array.from({ length: 41 }, (_, i) => ({
      id: `p${String(i).padStart(3, '0')}`,
      symbol: i % 3 === 0 ? 'AAPL' : 'MSFT',
      severity: i % 7 === 0 ? null : i % 4,
      at: new Date(Date.UTC(2024, 0, 1) + ((i * 7919) % 41) * 3_600_000).toISOString(),
    }));
    const col = () => store.collection<Event>({ name: 'paged' });
    beforeAll(async () => {
      // Insert in a scrambled order so insertion order cannot pass for sort order.
      for (let k = 0; k < docs.length; k++) await col().insert(docs[(k * 17) % docs.length]);
    });

    // Reference order, written independently of the adapters: null < numbers, then id.
    const expected = (rows: typeof docs, key: 'severity' | 'at' | 'id', dir: 1 | -1) =>
      [...rows]
        .sort((a, b) => {
          const av = a[key];
          const bv = b[key];
          const ar = av === null ? 0 : 1;
          const br = bv === null ? 0 : 1;
          if (ar !== br) return (ar - br) * dir;
          if (av !== null && bv !== null && av !== bv) {
            const less = typeof av === 'number' && typeof bv === 'number' ? av < bv : String(av) < String(bv);
            return (less ? -1 : 1) * dir;
          }
          return (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * dir;
        })
        .map((d) => d.id);

    it.each([
      ['severity', 'asc', 5],
      ['severity', 'desc', 5],
      ['at', 'asc', 7],
      ['at', 'desc', 4],
      ['id', 'asc', 6],
      ['id', 'desc', 41],
      ['severity', 'asc', 1],
    ] as const)('sort %s %s, %i per page: every document exactly once, in order', async (field, direction, limit) => {
      const { ids, pages } = await allPages(col(), { sort: { field, direction }, limit });
      expect(ids).toEqual(expected(docs, field, direction === 'asc' ? 1 : -1));
      // A page is fetched with one look-ahead row, so there is never a trailing empty page.
      expect(pages).toBe(Math.ceil(docs.length / limit));
    });

    it('default sort is id ascending', async () => {
      expect((await allPages(col(), { limit: 10 })).ids).toEqual(expected(docs, 'id', 1));
    });

    it('paginates with a filter', async () => {
      const rows = docs.filter((d) => d.symbol === 'MSFT' && d.severity !== null && d.severity >= 1);
      const { ids } = await allPages(col(), {
        filter: { symbol: 'MSFT', severity: { $gte: 1 } },
        sort: { field: 'severity', direction: 'desc' },
        limit: 4,
      });
      expect(ids).toEqual(expected(rows, 'severity', -1));
      expect(ids.length).toBe(rows.length);
    });

    it('is stable: documents inserted before the cursor position do not shift later pages', async () => {
      const c = store.collection<Event>({ name: 'paged_stable' });
      for (const d of docs) await c.insert(d);
      const first = await c.page({ sort: { field: 'severity', direction: 'asc' }, limit: 10 });
      // Insert documents that sort before the end of page one (severity null and 0 with small ids).
      await c.insert({ id: 'a-new-null', symbol: 'X', severity: null, at: '2024-02-01T00:00:00.000Z' });
      await c.insert({ id: 'a-new-zero', symbol: 'X', severity: 0, at: '2024-02-01T00:00:00.000Z' });
      const rest: string[] = [];
      let cursor = first.nextCursor;
      while (cursor) {
        const p = await c.page({ sort: { field: 'severity', direction: 'asc' }, limit: 10, cursor });
        rest.push(...p.items.map((d) => d.id));
        cursor = p.nextCursor;
      }
      const full = expected(docs, 'severity', 1);
      expect([...first.items.map((d) => d.id), ...rest]).toEqual(full);
    });

    it('orders mixed types like MongoDB: missing/null < numbers < strings < booleans', async () => {
      const c = store.collection<Event>({ name: 'paged_mixed' });
      const rows: (Event & { id: string })[] = [
        { id: 'm1', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: 'b' },
        { id: 'm2', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: 2 },
        { id: 'm3', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: true },
        { id: 'm4', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z' },
        { id: 'm5', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: 'a' },
        { id: 'm6', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: -1.5 },
        { id: 'm7', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: false },
        { id: 'm8', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: null },
        { id: 'm9', symbol: 'S', severity: 0, at: '2024-01-01T00:00:00.000Z', score: 2 },
      ];
      for (const r of rows) await c.insert(r);
      const asc = ['m4', 'm8', 'm6', 'm2', 'm9', 'm5', 'm1', 'm7', 'm3'];
      expect((await allPages(c, { sort: { field: 'score', direction: 'asc' }, limit: 2 })).ids).toEqual(asc);
      expect((await allPages(c, { sort: { field: 'score', direction: 'desc' }, limit: 2 })).ids).toEqual(
        [...asc].reverse(),
      );
    });

    it('refuses a cursor made for another sort, garbage cursors and bad limits', async () => {
      const first = await col().page({ sort: { field: 'severity', direction: 'asc' }, limit: 5 });
      expect(first.nextCursor).toEqual(expect.any(String));
      expect(
        await rejection(col().page({ sort: { field: 'at', direction: 'asc' }, limit: 5, cursor: first.nextCursor })),
      ).toBeInstanceOf(InvalidCursorError);
      expect(
        await rejection(
          col().page({ sort: { field: 'severity', direction: 'desc' }, limit: 5, cursor: first.nextCursor }),
        ),
      ).toBeInstanceOf(InvalidCursorError);
      expect(await rejection(col().page({ limit: 5, cursor: 'not a cursor!' }))).toBeInstanceOf(InvalidCursorError);
      expect(
        await rejection(col().page({ limit: 5, cursor: Buffer.from('{"x":1}').toString('base64url') })),
      ).toBeInstanceOf(InvalidCursorError);
      for (const limit of [0, -1, 1.5, 1001])
        expect(await rejection(col().page({ limit }))).toBeInstanceOf(DocumentValidationError);
    });

    it('an empty result is one empty page', async () => {
      expect(await col().page({ filter: { symbol: 'NONE' }, limit: 5 })).toEqual({ items: [], nextCursor: null });
    });
  });

  describe('TTL expiry', () => {
    const sessions = () =>
      store.collection<Session>({
        name: 'sessions',
        indexes: [{ fields: ['key'], unique: true }],
        ttl: { field: 'touchedAt', expireAfterSeconds: 2 },
      });

    it(
      'an expired document is invisible to every read at once, cannot be updated, and is physically removed later',
      async () => {
        const col = sessions();
        const now = Date.now();
        const stale = await col.insert({
          id: 's-stale',
          key: 'stale',
          touchedAt: new Date(now - 10_000).toISOString(),
        });
        const fresh = await col.insert({ id: 's-fresh', key: 'fresh', touchedAt: new Date(now).toISOString() });
        const forever = await col.insert({ id: 's-forever', key: 'forever', note: 'no TTL field' });
        const nulled = await col.insert({ id: 's-null', key: 'null', touchedAt: null });
        expect(stale._version).toBe(1);

        expect(await col.get('s-stale')).toBeNull();
        expect(await col.findOne({ key: 'stale' })).toBeNull();
        expect(await col.count()).toBe(3);
        expect((await allPages(col, { limit: 10 })).ids).toEqual(['s-forever', 's-fresh', 's-null']);
        expect(await rejection(col.update('s-stale', 1, { set: { note: 'x' } }))).toBeInstanceOf(DocumentNotFoundError);
        expect(await col.delete('s-stale')).toBe(false);
        expect(await col.get(fresh.id)).toEqual(fresh);

        // `fresh` expires 2 s after `now`.
        await sleep(Math.max(0, now + 2_300 - Date.now()));
        expect(await col.get(fresh.id)).toBeNull();
        expect(await col.count()).toBe(2);
        expect(await col.get(forever.id)).toEqual(forever);
        expect(await col.get(nulled.id)).toEqual(nulled);

        // Physically gone within the adapter's bound (sweeper or MongoDB's TTL monitor).
        const gone = await eventually(
          async () => (await harness.rawCount(store, 'sessions')) <= 2,
          harness.ttlRemovalWithinMs,
        );
        expect(gone).toBe(true);
        expect(await harness.rawCount(store, 'sessions')).toBe(2);
      },
      harness.ttlRemovalWithinMs + 30_000,
    );

    it('an expired document blocks neither its unique key nor its id', async () => {
      const col = sessions();
      await col.insert({ id: 's-old', key: 'reuse', touchedAt: new Date(Date.now() - 60_000).toISOString() });
      const again = await col.insert({ id: 's-new', key: 'reuse', touchedAt: new Date().toISOString() });
      expect(again.key).toBe('reuse');
      await col.insert({ id: 's-old2', key: 'reuse2', touchedAt: new Date(Date.now() - 60_000).toISOString() });
      await expect(
        col.insert({ id: 's-old2', key: 'reuse3', touchedAt: new Date().toISOString() }),
      ).resolves.toMatchObject({ id: 's-old2', _version: 1 });
      // An update may also take a key held only by an expired document.
      await col.insert({ id: 's-old3', key: 'reuse4', touchedAt: new Date(Date.now() - 60_000).toISOString() });
      await expect(col.update('s-new', 1, { set: { key: 'reuse4' } })).resolves.toMatchObject({
        key: 'reuse4',
        _version: 2,
      });
    });

    it('touching the TTL field extends the life of a document', async () => {
      const col = sessions();
      const doc = await col.insert({ key: 'touch', touchedAt: new Date(Date.now() - 1_500).toISOString() });
      await col.update(doc.id, 1, { set: { touchedAt: new Date().toISOString() } });
      await sleep(800);
      expect(await col.get(doc.id)).toMatchObject({ key: 'touch', _version: 2 });
    });

    it('the TTL field must be a canonical ISO-8601 UTC timestamp', async () => {
      const col = sessions();
      for (const touchedAt of ['2024-01-01', '2024-01-01T00:00:00Z', 'yesterday', 12345]) {
        expect(await rejection(col.insert({ key: `bad-${touchedAt}`, touchedAt: touchedAt as string }))).toBeInstanceOf(
          DocumentValidationError,
        );
      }
    });
  });

  describe('collection specs and health', () => {
    it('returns the same collection for the same spec and refuses a different spec under the same name', async () => {
      expect(accounts()).toBe(accounts());
      expect(() => store.collection({ name: 'accounts', indexes: [{ fields: ['email'] }] })).toThrow(
        CollectionSpecError,
      );
      expect(() => store.collection({ name: 'Bad-Name' })).toThrow(CollectionSpecError);
      expect(() => store.collection({ name: 'x', indexes: [{ fields: ['a.b'] }] })).toThrow(CollectionSpecError);
      expect(() => store.collection({ name: 'y', ttl: { field: 'at', expireAfterSeconds: -1 } })).toThrow(
        CollectionSpecError,
      );
      await expect(store.ready()).resolves.toBeUndefined();
    });

    it('reports health', async () => {
      expect(await store.health()).toMatchObject({ status: 'up' });
    });
  });
}
