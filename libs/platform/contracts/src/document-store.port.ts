/**
 * The document-store port: a small, MongoDB-shaped persistence API with two adapters that behave identically
 * (mongoose and embedded DuckDB, both in `@strata/platform-document-store`), both checked by ONE conformance suite
 * (`@strata/shared-testing`).
 *
 * Semantics every adapter guarantees (the conformance suite checks each):
 * - **Documents are JSON.** Plain objects, arrays, strings, finite numbers, booleans and `null`. Object properties
 *   whose value is `undefined` are dropped (as `JSON.stringify` does); `Date`, `BigInt`, `NaN`/`Infinity`, class
 *   instances, `undefined` inside arrays and arrays directly inside arrays (`[[1, 2]]`; FerretDB v1 cannot store
 *   them, use `[{ row: [1, 2] }]`) are refused with {@link DocumentValidationError}. Keys at any depth must not start
 *   with `$` or contain `.` or NUL. Top-level keys starting with `_` are reserved for the store.
 * - **Timestamps are ISO-8601 UTC strings** in the canonical `Date.prototype.toISOString()` form
 *   (`2024-01-02T03:04:05.678Z`, always 24 characters), so string order is time order and `$gte`/`$lt` ranges over
 *   them behave the same on both adapters. The TTL field must hold such a string (or be missing / `null`).
 * - **Metadata.** Every stored document carries `id` (string; a UUIDv7 unless given on insert) and `_version`
 *   (1 on insert, +1 on every successful update). `_version` is the optimistic-concurrency token.
 * - **Unique indexes** refuse a second document with the same values ({@link DuplicateKeyError}, naming the index and
 *   its fields). Every field of a unique index must be present and a non-null scalar in every document: MongoDB
 *   indexes a missing field as `null` (so two documents without it collide) while SQL engines treat NULLs as distinct,
 *   and refusing them keeps both adapters identical.
 * - **TTL.** A document expires `expireAfterSeconds` after the instant in its TTL field. From that instant it is
 *   invisible to every read (`get`, `findOne`, `page`, `count`), cannot be updated and never blocks a unique key; it
 *   is physically removed later (MongoDB's TTL monitor runs every 60 s; the embedded adapter and FerretDB use a
 *   periodic sweeper).
 * - **Comparison.** Numbers compare as doubles (`1` equals `1.0`); strings compare bytewise (UTF-8, no collation);
 *   range operators only match values of the operand's type (`{ price: { $gt: 5 } }` never matches a string).
 *   Equality with `null` matches a missing field too.
 * - **Ordering.** Sorting is by one field, then by `id` in the same direction, so pages are stable under ties.
 *   Across types the order is MongoDB's: missing/null < numbers < strings < objects < arrays < booleans. Sort on
 *   scalar fields; objects and arrays sort by type only.
 * - **Filters** address top-level fields only (names matching {@link FIELD_NAME_PATTERN}, plus `id`), and only with
 *   scalar operands: equality, `$eq`, `$ne`, `$in`, `$nin`, `$gt`, `$gte`, `$lt`, `$lte`. Array-valued fields are not
 *   matched element-wise.
 */

/** Injection token of the {@link DocumentStore} port. */
export const DOCUMENT_STORE = Symbol('DOCUMENT_STORE');

/** Field names usable in indexes, filters, sorts and the TTL spec. */
export const FIELD_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Collection names: lower-case snake case, 1–48 characters. */
export const COLLECTION_NAME_PATTERN = /^[a-z][a-z0-9_]{0,47}$/;

/** A scalar JSON value: what filters compare against and what unique keys are made of. */
export type DocumentScalar = string | number | boolean | null;

/** Any JSON value a document may hold. */
export type JsonValue = DocumentScalar | JsonValue[] | { [key: string]: JsonValue };

/** One index of a collection. Fields are ascending; order matters only for the index name. */
export interface IndexSpec {
  /** Top-level field names (see {@link FIELD_NAME_PATTERN}); `id` is indexed already. */
  fields: string[];
  /** Refuse two documents with equal values in all `fields` ({@link DuplicateKeyError}). */
  unique?: boolean;
  /** Index name; defaults to the fields joined by `_` plus `_uniq` or `_idx`. Appears in {@link DuplicateKeyError}. */
  name?: string;
}

/** Time-to-live rule: a document expires `expireAfterSeconds` after the ISO-8601 instant in `field`. */
export interface TtlSpec {
  field: string;
  /** Seconds, ≥ 0. */
  expireAfterSeconds: number;
}

/** What a collection is: its name, indexes and optional TTL. The same name must always get the same spec. */
export interface CollectionSpec {
  name: string;
  indexes?: IndexSpec[];
  ttl?: TtlSpec;
}

/** Metadata every stored document carries. */
export interface DocumentMeta {
  /** Document id; UUIDv7 unless the caller supplied one on insert. */
  id: string;
  /** Optimistic-concurrency token: 1 after insert, +1 on every successful update. */
  _version: number;
}

/** A document as read from the store. */
export type StoredDocument<T> = T & DocumentMeta;

/** A document to insert; `id` is optional (a UUIDv7 is assigned when absent). */
export type NewDocument<T> = T & { id?: string };

/** Conditions on one field; several operators in one object are ANDed. */
export interface FieldCondition {
  $eq?: DocumentScalar;
  $ne?: DocumentScalar;
  $in?: DocumentScalar[];
  $nin?: DocumentScalar[];
  $gt?: string | number;
  $gte?: string | number;
  $lt?: string | number;
  $lte?: string | number;
}

/** Names a filter or sort may use: the document's own top-level fields and `id`. */
export type FieldName<T> = (keyof T & string) | 'id';

/** A filter over top-level fields; all entries are ANDed. A bare scalar means equality. */
export type DocumentFilter<T> = { [K in FieldName<T>]?: DocumentScalar | FieldCondition };

/** A change to apply on update: a shallow patch (`set` top-level fields, `unset` others) or a full replacement. */
export type DocumentChange<T> = { set?: Partial<T>; unset?: (keyof T & string)[] } | { replace: T };

/** Sort of a page: one field, ties broken by `id` in the same direction. */
export interface SortSpec<T> {
  field: FieldName<T>;
  direction: 'asc' | 'desc';
}

/** Maximum page size of {@link PageRequest.limit} (and of the REST list endpoints built on it). */
export const MAX_PAGE_LIMIT = 1000;

/** Request for one page of a cursor-paginated query. */
export interface PageRequest<T> {
  filter?: DocumentFilter<T>;
  /** Defaults to `{ field: 'id', direction: 'asc' }` (insertion order for UUIDv7 ids). */
  sort?: SortSpec<T>;
  /** Page size, 1–{@link MAX_PAGE_LIMIT}. */
  limit: number;
  /** `nextCursor` of the previous page; valid only with the same filter and sort. */
  cursor?: string | null;
}

/** One page; `nextCursor` is `null` on the last page. */
export interface Page<T> {
  items: StoredDocument<T>[];
  nextCursor: string | null;
}

/** Options of {@link DocumentCollection.updateWithRetry}. */
export interface RetryOptions {
  /** Attempts before giving up with {@link VersionConflictError} (default 100). */
  maxAttempts?: number;
}

/**
 * A typed collection of JSON documents. All operations are atomic per document; none spans documents.
 */
export interface DocumentCollection<T extends object> {
  readonly name: string;
  /** Inserts a document; throws {@link DuplicateKeyError} on a taken `id` or unique key. Returns it with metadata. */
  insert(doc: NewDocument<T>): Promise<StoredDocument<T>>;
  /** The live (non-expired) document with this id, or `null`. */
  get(id: string): Promise<StoredDocument<T> | null>;
  /** The matching live document with the smallest `id`, or `null`. */
  findOne(filter: DocumentFilter<T>): Promise<StoredDocument<T> | null>;
  /**
   * Applies `change` if the stored `_version` equals `expectedVersion`; returns the new document.
   * Throws {@link VersionConflictError} on a version mismatch, {@link DocumentNotFoundError} when the document is
   * missing or expired, {@link DuplicateKeyError} when the change collides with a unique key.
   */
  update(id: string, expectedVersion: number, change: DocumentChange<T>): Promise<StoredDocument<T>>;
  /**
   * Read-modify-write with optimistic retry, safe under any number of concurrent writers (no lost updates): reads
   * the document, calls `mutate` (which may run several times, so keep it free of side effects), writes with the
   * version it read, and on a conflict re-reads and tries again with jittered backoff. `mutate` returning `null`
   * leaves the document unchanged. Throws {@link DocumentNotFoundError} when missing, {@link VersionConflictError}
   * after `maxAttempts`.
   */
  updateWithRetry(
    id: string,
    mutate: (current: StoredDocument<T>) => DocumentChange<T> | null | Promise<DocumentChange<T> | null>,
    opts?: RetryOptions,
  ): Promise<StoredDocument<T>>;
  /**
   * Deletes a live document; `false` if there was none. With `expectedVersion`, throws {@link VersionConflictError}
   * when the stored version differs.
   */
  delete(id: string, expectedVersion?: number): Promise<boolean>;
  /** Deletes every live document matching `filter`; returns how many. */
  deleteMany(filter: DocumentFilter<T>): Promise<number>;
  /** One page of matching live documents in `sort` order (then `id`); see {@link PageRequest}. */
  page(req: PageRequest<T>): Promise<Page<T>>;
  /** Number of matching live documents. */
  count(filter?: DocumentFilter<T>): Promise<number>;
}

/** Health of a document store, for readiness probes. */
export interface StoreHealth {
  adapter: 'mongo' | 'duckdb';
  status: 'up' | 'down';
  detail?: string;
}

/**
 * The document-store port. `collection()` is synchronous and idempotent per name; index creation runs in the
 * background and every operation waits for it (`ready()` waits for all collections declared so far).
 */
export interface DocumentStore {
  /** The collection described by `spec`; throws {@link CollectionSpecError} for a bad or conflicting spec. */
  collection<T extends object>(spec: CollectionSpec): DocumentCollection<T>;
  /** Resolves when the indexes of every collection declared so far exist; rejects with the first failure. */
  ready(): Promise<void>;
  health(): Promise<StoreHealth>;
  /** Stops sweepers and closes the connection (a shared embedded database is closed by its last user). */
  close(): Promise<void>;
}

/** Base class of every document-store error; `httpStatus` is the status a REST layer should answer with. */
export class DocumentStoreError extends Error {
  readonly httpStatus: number = 500;
  constructor(
    message: string,
    /** Stable machine-readable code. */
    readonly code: string,
    readonly collection: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A unique index (or the `id`) already holds these values. HTTP 409. */
export class DuplicateKeyError extends DocumentStoreError {
  override readonly httpStatus = 409;
  constructor(
    collection: string,
    /** Index name; `_id` for a taken document id, `unknown` if the server did not say and the holder is gone. */
    readonly index: string,
    /** Fields of the index (`['id']` for the id). */
    readonly fields: string[],
    /** The colliding values, by field, when known. */
    readonly key?: Record<string, DocumentScalar>,
  ) {
    super(
      `duplicate key in ${collection}: index ${index} (${fields.join(', ')})${key ? ` already holds ${JSON.stringify(key)}` : ''}`,
      'duplicate_key',
      collection,
    );
  }
}

/** The document changed since it was read (`_version` differs). HTTP 409. */
export class VersionConflictError extends DocumentStoreError {
  override readonly httpStatus = 409;
  constructor(
    collection: string,
    readonly id: string,
    readonly expectedVersion: number,
    /** The stored version when known. */
    readonly actualVersion?: number,
  ) {
    super(
      `version conflict in ${collection} on ${id}: expected _version ${expectedVersion}${actualVersion === undefined ? '' : `, found ${actualVersion}`}`,
      'version_conflict',
      collection,
    );
  }
}

/** No live document with this id. HTTP 404. */
export class DocumentNotFoundError extends DocumentStoreError {
  override readonly httpStatus = 404;
  constructor(
    collection: string,
    readonly id: string,
  ) {
    super(`no document ${id} in ${collection}`, 'document_not_found', collection);
  }
}

/** A document, filter, sort or page request breaks the port's rules; `path` names the offending field. HTTP 400. */
export class DocumentValidationError extends DocumentStoreError {
  override readonly httpStatus = 400;
  constructor(
    collection: string,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`invalid input for ${collection} at ${path || '(root)'}: ${reason}`, 'document_invalid', collection);
  }
}

/**
 * A page cursor that is malformed or belongs to another sort or collection. HTTP 404: the page it names does not
 * exist (REST validates the cursor's form first, `PageCursorSchema`, so a malformed one is a 400 there).
 */
export class InvalidCursorError extends DocumentStoreError {
  override readonly httpStatus = 404;
  constructor(collection: string, reason: string) {
    super(`invalid cursor for ${collection}: ${reason}`, 'invalid_cursor', collection);
  }
}

/** A collection spec is malformed or conflicts with an earlier declaration of the same name. */
export class CollectionSpecError extends DocumentStoreError {
  constructor(collection: string, reason: string) {
    super(`bad collection spec for ${collection}: ${reason}`, 'collection_spec', collection);
  }
}
