import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import {
  CollectionSpecError,
  DocumentNotFoundError,
  DuplicateKeyError,
  VersionConflictError,
  type CollectionSpec,
  type DocumentChange,
  type DocumentCollection,
  type DocumentFilter,
  type DocumentStore,
  type NewDocument,
  type Page,
  type PageRequest,
  type RetryOptions,
  type StoreHealth,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  applyChange,
  checkIndexedFields,
  compileFilter,
  encodeCursor,
  expiresAtMs,
  normalizeDocument,
  optimisticRetry,
  resolveCollectionSpec,
  resolvePageRequest,
  specFingerprint,
  uniqueKeyOf,
  type CursorPosition,
  type DocumentBody,
  type FilterPredicate,
  type ResolvedCollectionSpec,
} from './document-store.support';
import { uuidv7 } from '@strata/shared-util';

/** Options of {@link MongoDocumentStore.connect}. */
export interface MongoDocumentStoreOptions {
  /** `MONGODB_URI`, e.g. `mongodb://127.0.0.1:27017/strata`. */
  uri: string;
  /** Database name; defaults to the one in the URI, else `strata`. */
  dbName?: string;
  /**
   * When to run the adapter's own TTL sweeper: `auto` (default) only for collections whose TTL index the server
   * refused (FerretDB v1 does not implement `expireAfterSeconds`), `always`, or `never`.
   */
  ttlSweep?: 'auto' | 'always' | 'never';
  /** Sweeper interval, ms (default 60 000, MongoDB's TTL monitor period). */
  ttlSweepIntervalMs?: number;
  /**
   * How conditional writes are made atomic. `native` (MongoDB): `_version` in the filter of one findOneAndReplace.
   * `lock`: a per-(document, version) lock document in `_strata_locks`, because FerretDB v1 runs every update as a
   * query followed by an unconditional write, so a version filter alone loses updates under concurrency.
   * `auto` (default): `lock` when `buildInfo` reports `ferretdbVersion`, else `native`.
   */
  writeConcurrency?: 'auto' | 'native' | 'lock';
  /**
   * Age after which a lock left by a crashed writer may be taken over, ms (default 60 000). A holder that has held
   * it for half this time gives up with a conflict instead of writing.
   */
  lockLeaseMs?: number;
  /** Server selection timeout, ms (default 10 000). */
  serverSelectionTimeoutMS?: number;
  /** Clock in epoch ms (default `Date.now`), used for read-time expiry. */
  now?: () => number;
  /** Where warnings go (default `console`). */
  logger?: { warn(message: string): void };
}

/** A document as stored in MongoDB: the body plus `_id`, `_version` and the derived `_expiresAt` (BSON date). */
type RawDoc = Record<string, unknown> & { _id: string; _version: number; _expiresAt?: Date | null };

type Query = Record<string, unknown>;

const TTL_INDEX = '_expiresAt_ttl';
/** Collection of version locks (lock mode only). */
export const LOCK_COLLECTION = '_strata_locks';
const NOT_IMPLEMENTED = 238;

/** `{ f: v }` clauses of a compiled filter; `id` maps to `_id`. */
function toMongo(preds: FilterPredicate[]): Query[] {
  const ops = { eq: '$eq', ne: '$ne', in: '$in', nin: '$nin', gt: '$gt', gte: '$gte', lt: '$lt', lte: '$lte' } as const;
  return preds.map((p) => ({ [p.field === 'id' ? '_id' : p.field]: { [ops[p.op]]: p.value } }));
}

/** Clause matching values of one cross-type sort rank (see `sortRank`). */
function rankClause(field: string, rank: number): Query {
  const type = ['null', 'number', 'string', 'object', 'array', 'bool'][rank];
  return rank === 0 ? { [field]: null } : { [field]: { $type: type } };
}

/** Documents after the cursor position in sort order (rank, value, `_id`). */
function afterClause(field: string, dir: 'asc' | 'desc', after: CursorPosition): Query {
  const beyond = dir === 'asc' ? '$gt' : '$lt';
  if (field === 'id') return { _id: { [beyond]: after.id } };
  const ors: Query[] = [];
  for (let r = 0; r <= 5; r++) if (dir === 'asc' ? r > after.rank : r < after.rank) ors.push(rankClause(field, r));
  if (after.rank === 1 || after.rank === 2 || after.rank === 5) {
    ors.push({ [field]: { [beyond]: after.value } }, { [field]: after.value, _id: { [beyond]: after.id } });
  } else {
    ors.push({ $and: [rankClause(field, after.rank), { _id: { [beyond]: after.id } }] });
  }
  return { $or: ors };
}

/** FerretDB v1 on SQLite answers a write that lost a lock race with `InternalError` "database is locked (SQLITE_BUSY)". */
function isTransientBusy(err: unknown): boolean {
  const e = err as { code?: number; message?: string } | null;
  return !!e && e.code === 1 && /SQLITE_BUSY|database is locked/.test(e.message ?? '');
}

/**
 * Runs one server call, retrying transient SQLITE_BUSY answers (FerretDB) with a short jittered backoff. SQLite rolls
 * the statement back when it answers BUSY, so the retry cannot apply a write twice. Other errors pass through.
 */
async function server<R>(call: () => PromiseLike<R>): Promise<R> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!isTransientBusy(err) || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
  }
}

function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; message?: string } | null;
  if (!e) return false;
  if (e.code === 11000 || e.code === 11001) return true;
  // FerretDB v1 (SQLite backend) answers a unique violation on update with InternalError and SQLite's message.
  return e.code === 1 && /UNIQUE constraint failed/.test(e.message ?? '');
}

function toStored<T>(raw: RawDoc): StoredDocument<T> {
  const { _id, _version, _expiresAt: _e, ...body } = raw;
  return { id: _id, ...body, _version } as StoredDocument<T>;
}

/** Builds the mongoose schema of a collection from its spec: metadata paths typed, payload free (`strict: false`). */
export function schemaFor(spec: ResolvedCollectionSpec): Schema {
  const schema = new Schema(
    { _id: { type: String, required: true }, _version: { type: Number, required: true }, _expiresAt: { type: Date } },
    {
      strict: false,
      strictQuery: false,
      versionKey: false,
      minimize: false,
      autoIndex: false,
      autoCreate: false,
      id: false,
      collection: spec.name,
    },
  );
  for (const ix of spec.indexes) {
    schema.index(Object.fromEntries(ix.fields.map((f) => [f, 1])), { name: ix.name, unique: ix.unique });
  }
  if (spec.ttl) schema.index({ _expiresAt: 1 }, { name: TTL_INDEX, expireAfterSeconds: 0 });
  return schema;
}

/**
 * A collection on MongoDB through mongoose. Optimistic concurrency puts `_version` in the update filter; writes
 * compute the new body in JS (after validation) and replace the stored one, so patch semantics match the embedded
 * adapter exactly.
 */
class MongoDocumentCollection<T extends object> implements DocumentCollection<T> {
  readonly name: string;
  /** False when the server refused the TTL index: the store's sweeper then deletes expired documents. */
  nativeTtl = true;
  private readonly uniques;

  constructor(
    readonly model: Model<RawDoc>,
    readonly spec: ResolvedCollectionSpec,
    private readonly now: () => number,
    private readonly whenReady: () => Promise<void>,
    private readonly locks: VersionLocks | null,
  ) {
    this.name = spec.name;
    this.uniques = spec.indexes.filter((i) => i.unique);
  }

  private live(now = this.now()): Query[] {
    return this.spec.ttl ? [{ $nor: [{ _expiresAt: { $lte: new Date(now) } }] }] : [];
  }

  private and(clauses: Query[]): Query {
    return clauses.length === 0 ? {} : clauses.length === 1 ? clauses[0] : { $and: clauses };
  }

  private raw(id: string, version: number, body: DocumentBody): RawDoc {
    const exp = expiresAtMs(this.spec, body);
    const doc: RawDoc = { _id: id, ...body, _version: version };
    if (this.spec.ttl) doc._expiresAt = exp === null ? null : new Date(exp);
    return doc;
  }

  async insert(doc: NewDocument<T>): Promise<StoredDocument<T>> {
    const { id: given, body } = normalizeDocument(this.name, doc, { allowId: true });
    checkIndexedFields(this.spec, body);
    const id = given ?? uuidv7();
    await this.whenReady();
    for (let attempt = 0; ; attempt++) {
      try {
        await server(() => this.model.insertMany([this.raw(id, 1, body)], { lean: true }));
        return { id, ...body, _version: 1 } as StoredDocument<T>;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await this.resolveDuplicate(id, body, true, attempt);
      }
    }
  }

  async get(id: string): Promise<StoredDocument<T> | null> {
    await this.whenReady();
    const raw = await server(() =>
      this.model.findOne(this.and([{ _id: String(id) }, ...this.live()]), { _expiresAt: 0 }).lean<RawDoc>(),
    );
    return raw ? toStored<T>(raw) : null;
  }

  async findOne(filter: DocumentFilter<T>): Promise<StoredDocument<T> | null> {
    const preds = compileFilter(this.name, filter);
    await this.whenReady();
    const raw = await server(() =>
      this.model
        .findOne(this.and([...toMongo(preds), ...this.live()]), { _expiresAt: 0 })
        .sort({ _id: 1 })
        .lean<RawDoc>(),
    );
    return raw ? toStored<T>(raw) : null;
  }

  async update(id: string, expectedVersion: number, change: DocumentChange<T>): Promise<StoredDocument<T>> {
    await this.whenReady();
    for (let attempt = 0; ; attempt++) {
      const current = await this.get(id);
      if (!current) throw new DocumentNotFoundError(this.name, id);
      if (current._version !== expectedVersion)
        throw new VersionConflictError(this.name, id, expectedVersion, current._version);
      const { id: _id, _version: _v, ...body } = current as StoredDocument<Record<string, unknown>>;
      const next = applyChange(this.spec, id, body as DocumentBody, change);
      try {
        return this.locks
          ? await this.replaceLocked(id, expectedVersion, next)
          : await this.replaceNative(id, expectedVersion, next);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await this.resolveDuplicate(id, next, false, attempt);
      }
    }
  }

  /** One atomic findOneAndReplace with the version in the filter (MongoDB). */
  private async replaceNative(id: string, expectedVersion: number, next: DocumentBody): Promise<StoredDocument<T>> {
    const res = await server(() =>
      this.model
        // No projection: FerretDB v1 does not implement `fields` in findAndModify; toStored drops _expiresAt anyway.
        .findOneAndReplace(
          this.and([{ _id: id, _version: expectedVersion }, ...this.live()]),
          this.raw(id, expectedVersion + 1, next),
          {
            returnDocument: 'after',
          },
        )
        .lean<RawDoc>(),
    );
    if (res) return toStored<T>(res);
    // Lost the race between our read and the conditional replace.
    const now = await this.get(id);
    if (!now) throw new DocumentNotFoundError(this.name, id);
    throw new VersionConflictError(this.name, id, expectedVersion, now._version);
  }

  /**
   * Replace under the (id, version) lock, re-checking the version once the lock is held (FerretDB). The version stays
   * in the replace filter as a second fence: if the lock was taken over (its holder looked crashed), the late write
   * matches nothing and becomes a conflict instead of overwriting.
   */
  private async replaceLocked(id: string, expectedVersion: number, next: DocumentBody): Promise<StoredDocument<T>> {
    return this.locks!.with(this.name, id, expectedVersion, async (lease) => {
      const current = await this.get(id);
      if (!current) throw new DocumentNotFoundError(this.name, id);
      if (current._version !== expectedVersion)
        throw new VersionConflictError(this.name, id, expectedVersion, current._version);
      lease.assertFresh();
      const res = await server(() =>
        this.model.replaceOne({ _id: id, _version: expectedVersion }, this.raw(id, expectedVersion + 1, next)),
      );
      if (res.matchedCount === 1) return { id, ...next, _version: expectedVersion + 1 } as StoredDocument<T>;
      const now = await this.get(id);
      if (!now) throw new DocumentNotFoundError(this.name, id);
      throw new VersionConflictError(this.name, id, expectedVersion, now._version);
    });
  }

  updateWithRetry(
    id: string,
    mutate: (current: StoredDocument<T>) => DocumentChange<T> | null | Promise<DocumentChange<T> | null>,
    opts?: RetryOptions,
  ): Promise<StoredDocument<T>> {
    return optimisticRetry(this, id, mutate, opts);
  }

  async delete(id: string, expectedVersion?: number): Promise<boolean> {
    await this.whenReady();
    const cond: Query[] = [{ _id: String(id) }, ...this.live()];
    if (expectedVersion !== undefined) cond.push({ _version: expectedVersion });
    if (expectedVersion !== undefined && this.locks) {
      return this.locks.with(this.name, id, expectedVersion, async (lease) => {
        const current = await this.get(id);
        if (!current) return false;
        if (current._version !== expectedVersion)
          throw new VersionConflictError(this.name, id, expectedVersion, current._version);
        lease.assertFresh();
        return (await server(() => this.model.deleteOne(this.and(cond)))).deletedCount === 1;
      });
    }
    const res = await server(() => this.model.deleteOne(this.and(cond)));
    if (res.deletedCount === 1) return true;
    if (expectedVersion === undefined) return false;
    const current = await this.get(id);
    if (!current) return false;
    throw new VersionConflictError(this.name, id, expectedVersion, current._version);
  }

  async deleteMany(filter: DocumentFilter<T>): Promise<number> {
    const preds = compileFilter(this.name, filter);
    await this.whenReady();
    const res = await server(() => this.model.deleteMany(this.and([...toMongo(preds), ...this.live()])));
    return res.deletedCount;
  }

  async page(req: PageRequest<T>): Promise<Page<T>> {
    const r = resolvePageRequest(this.name, req);
    await this.whenReady();
    const field = r.sort.field === 'id' ? '_id' : r.sort.field;
    const dir = r.sort.direction === 'asc' ? 1 : -1;
    const clauses = [...toMongo(r.predicates), ...this.live()];
    if (r.after) clauses.push(afterClause(r.sort.field, r.sort.direction, r.after));
    const sort: Record<string, 1 | -1> = field === '_id' ? { _id: dir } : { [field]: dir, _id: dir };
    const rows = await server(() =>
      this.model
        .find(this.and(clauses), { _expiresAt: 0 })
        .sort(sort)
        .limit(r.limit + 1)
        .lean<RawDoc[]>(),
    );
    const items = rows.slice(0, r.limit).map((raw) => toStored<T>(raw));
    const nextCursor =
      rows.length > r.limit
        ? encodeCursor(r.sort, items[items.length - 1] as StoredDocument<T> & Record<string, unknown>)
        : null;
    return { items, nextCursor };
  }

  async count(filter?: DocumentFilter<T>): Promise<number> {
    const preds = compileFilter(this.name, filter);
    await this.whenReady();
    return server(() => this.model.countDocuments(this.and([...toMongo(preds), ...this.live()])));
  }

  /** Deletes documents whose `_expiresAt` has passed; returns how many. */
  async sweepExpired(): Promise<number> {
    if (!this.spec.ttl) return 0;
    await this.whenReady();
    const res = await server(() => this.model.deleteMany({ _expiresAt: { $lte: new Date(this.now()) } }));
    return res.deletedCount;
  }

  /**
   * After a duplicate-key error: find who holds the key. An expired holder is deleted (expired documents never block
   * keys, whatever the TTL monitor's lag) and the caller retries; a live holder becomes a {@link DuplicateKeyError}.
   * Works without `keyPattern` in the error, which FerretDB does not send.
   */
  private async resolveDuplicate(id: string, body: DocumentBody, isInsert: boolean, attempt: number): Promise<void> {
    const now = this.now();
    const candidates: {
      index: string;
      fields: string[];
      query: Query;
      key: Record<string, string | number | boolean | null>;
    }[] = [];
    if (isInsert) candidates.push({ index: '_id', fields: ['id'], query: { _id: id }, key: { id } });
    for (const ix of this.uniques) {
      const key = uniqueKeyOf(ix, body);
      candidates.push({ index: ix.name, fields: ix.fields, query: { ...key, _id: { $ne: id } }, key });
    }
    for (const c of candidates) {
      const holder = await server(() => this.model.findOne(c.query, { _id: 1, _expiresAt: 1 }).lean<RawDoc>());
      if (!holder) continue;
      const exp = holder._expiresAt instanceof Date ? holder._expiresAt.getTime() : null;
      if (exp !== null && exp <= now) {
        await server(() => this.model.deleteOne({ _id: holder._id, _expiresAt: { $lte: new Date(now) } }));
        continue;
      }
      throw new DuplicateKeyError(this.name, c.index, c.fields, c.key);
    }
    // Nobody live holds the key any more (an expired holder was purged, or the holder was deleted meanwhile): retry.
    if (attempt >= 3) throw new DuplicateKeyError(this.name, 'unknown', []);
  }
}

/**
 * Compare-and-swap for servers whose updates are not atomic (FerretDB v1): the transition of a document from
 * version v to v+1 is made only by the holder of the lock document `<collection>/<id>@<v>`, whose `_id` uniqueness
 * the server does enforce atomically. The holder re-reads the document under the lock, so a writer with a stale
 * version always fails. A lock older than the lease (its writer crashed) is taken over.
 */
class VersionLocks {
  constructor(
    private readonly locks: Model<{ _id: string; at: Date }>,
    private readonly leaseMs: number,
  ) {}

  /**
   * Runs `fn` holding the lock of (collection, id, version). `lease.assertFresh()` throws a
   * {@link VersionConflictError} once half the lease has passed since the lock was taken, so a holder slowed down
   * past the point where others may consider it crashed gives up instead of writing.
   */
  async with<R>(
    collection: string,
    id: string,
    version: number,
    fn: (lease: { assertFresh(): void }) => Promise<R>,
  ): Promise<R> {
    const lockId = `${collection}/${id}@${version}`;
    await this.acquire(collection, id, version, lockId);
    const acquiredAt = Date.now();
    const lease = {
      assertFresh: () => {
        if (Date.now() - acquiredAt > this.leaseMs / 2) throw new VersionConflictError(collection, id, version);
      },
    };
    try {
      return await fn(lease);
    } finally {
      await server(() => this.locks.deleteOne({ _id: lockId }));
    }
  }

  private async acquire(collection: string, id: string, version: number, lockId: string): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await server(() => this.locks.insertMany([{ _id: lockId, at: new Date() }], { lean: true }));
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const held = await server(() => this.locks.findOne({ _id: lockId }).lean<{ _id: string; at: Date }>());
      if (held && held.at.getTime() > Date.now() - this.leaseMs) break;
      // Stale (crashed writer) or just released: clear it if still stale and try once more.
      if (held) await server(() => this.locks.deleteOne({ _id: lockId, at: held.at }));
    }
    // Another writer is moving this document off `version`: ours is stale by the time it finishes.
    throw new VersionConflictError(collection, id, version);
  }

  /** Deletes locks older than the lease (left by crashed writers). */
  async sweep(): Promise<number> {
    return (await server(() => this.locks.deleteMany({ at: { $lt: new Date(Date.now() - this.leaseMs) } })))
      .deletedCount;
  }
}

/**
 * The production {@link DocumentStore} on MongoDB (or a wire-compatible server such as FerretDB) through mongoose.
 * Indexes are created when a collection is first declared: unique ones as declared, TTL as an index on the derived
 * `_expiresAt` date with `expireAfterSeconds: 0`. Where the server refuses TTL indexes the adapter deletes expired
 * documents itself; expired documents are invisible on read either way.
 */
export class MongoDocumentStore implements DocumentStore {
  private readonly collections = new Map<string, { fingerprint: string; col: MongoDocumentCollection<object> }>();
  private readonly pending: Promise<void>[] = [];
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly logger: { warn(message: string): void };
  private closed = false;

  private readonly locks: VersionLocks | null;

  private constructor(
    /** The mongoose connection (one per store). */
    readonly connection: Connection,
    private readonly opts: MongoDocumentStoreOptions,
    /** How conditional writes are made atomic (see {@link MongoDocumentStoreOptions.writeConcurrency}). */
    readonly writeConcurrency: 'native' | 'lock',
    /** `ferretdbVersion` from `buildInfo`, when the server is FerretDB. */
    readonly ferretDbVersion: string | undefined,
  ) {
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger ?? console;
    this.locks =
      writeConcurrency === 'lock'
        ? new VersionLocks(
            connection.model<{ _id: string; at: Date }>(
              LOCK_COLLECTION,
              new Schema(
                { _id: String, at: Date },
                { versionKey: false, autoIndex: false, autoCreate: false, collection: LOCK_COLLECTION },
              ),
              LOCK_COLLECTION,
            ),
            opts.lockLeaseMs ?? 60_000,
          )
        : null;
    if ((opts.ttlSweep ?? 'auto') !== 'never' || this.locks) {
      this.sweeper = setInterval(
        () => void this.sweepExpired(opts.ttlSweep === 'always').catch(() => undefined),
        opts.ttlSweepIntervalMs ?? 60_000,
      );
      this.sweeper.unref();
    }
  }

  /** Connects to `opts.uri`, resolves once the server answers, and picks the write-concurrency mode. */
  static async connect(opts: MongoDocumentStoreOptions): Promise<MongoDocumentStore> {
    const connection = mongoose.createConnection(opts.uri, {
      dbName: opts.dbName,
      serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000,
      autoIndex: false,
      autoCreate: false,
    });
    await connection.asPromise();
    const info = (await connection.db!.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
    const mode = opts.writeConcurrency ?? 'auto';
    const resolved = mode === 'auto' ? (info.ferretdbVersion ? 'lock' : 'native') : mode;
    return new MongoDocumentStore(connection, opts, resolved, info.ferretdbVersion);
  }

  collection<T extends object>(spec: CollectionSpec): DocumentCollection<T> {
    const resolved = resolveCollectionSpec(spec);
    const fingerprint = specFingerprint(resolved);
    const existing = this.collections.get(resolved.name);
    if (existing) {
      if (existing.fingerprint !== fingerprint)
        throw new CollectionSpecError(resolved.name, 'declared again with a different spec');
      return existing.col as unknown as DocumentCollection<T>;
    }
    const schema = schemaFor(resolved);
    const model = this.connection.model<RawDoc>(resolved.name, schema, resolved.name);
    // The collection needs its readiness gate before the index creation (which needs the collection) exists.
    const gate: { ready?: Promise<void> } = {};
    const col = new MongoDocumentCollection<object>(
      model,
      resolved,
      this.now,
      () => gate.ready as Promise<void>,
      this.locks,
    );
    const ready = this.createIndexes(col, schema);
    gate.ready = ready;
    ready.catch(() => undefined); // surfaced by ready() and by every operation
    this.pending.push(ready);
    this.collections.set(resolved.name, { fingerprint, col });
    return col as unknown as DocumentCollection<T>;
  }

  private async createIndexes(col: MongoDocumentCollection<object>, schema: Schema): Promise<void> {
    const native = col.model.collection;
    for (const [fields, options] of schema.indexes()) {
      try {
        await native.createIndex(fields as Record<string, 1>, options as Record<string, unknown>);
      } catch (err) {
        const e = err as { code?: number; message?: string };
        if (options.name === TTL_INDEX && (e.code === NOT_IMPLEMENTED || /expireAfterSeconds/.test(e.message ?? ''))) {
          // FerretDB v1: no TTL indexes. Index the field for the read filter and the sweeper, and sweep ourselves.
          col.nativeTtl = false;
          await native.createIndex({ _expiresAt: 1 }, { name: '_expiresAt_idx' });
          this.logger.warn(
            `document store: the server refused the TTL index of ${col.name} (${e.message}); expired documents are hidden on read and deleted by the adapter's sweeper every ${this.opts.ttlSweepIntervalMs ?? 60_000} ms`,
          );
          continue;
        }
        throw new CollectionSpecError(
          col.name,
          `creating index ${String(options.name)} failed: ${e.message ?? String(err)}`,
        );
      }
    }
  }

  async ready(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Deletes expired documents of the TTL collections the server does not expire itself (all with `force`). */
  async sweepExpired(force = false): Promise<number> {
    let n = 0;
    if ((this.opts.ttlSweep ?? 'auto') !== 'never') {
      for (const { col } of this.collections.values()) if (force || !col.nativeTtl) n += await col.sweepExpired();
    }
    if (this.locks) await this.locks.sweep();
    return n;
  }

  async health(): Promise<StoreHealth> {
    try {
      const db = this.connection.db;
      if (!db) throw new Error('not connected');
      await db.command({ ping: 1 });
      return { adapter: 'mongo', status: 'up', detail: db.databaseName };
    } catch (err) {
      return { adapter: 'mongo', status: 'down', detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    await Promise.allSettled(this.pending);
    await this.connection.close();
  }
}
