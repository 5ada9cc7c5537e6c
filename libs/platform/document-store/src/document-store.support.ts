/**
 * Adapter-neutral helpers of the document-store port: spec resolution, document and filter validation, cursors and
 * the optimistic retry loop. Both adapters use them, so validation and cursor formats cannot drift apart.
 * Feature code should not need these; they are exported for adapters and tests.
 */
import {
  COLLECTION_NAME_PATTERN,
  CollectionSpecError,
  DocumentValidationError,
  DocumentNotFoundError,
  FIELD_NAME_PATTERN,
  InvalidCursorError,
  MAX_PAGE_LIMIT,
  VersionConflictError,
  type CollectionSpec,
  type DocumentChange,
  type DocumentCollection,
  type DocumentFilter,
  type DocumentScalar,
  type JsonValue,
  type PageRequest,
  type RetryOptions,
  type StoredDocument,
} from '@strata/platform-contracts';

/** An index with its name resolved. */
export interface ResolvedIndex {
  name: string;
  fields: string[];
  unique: boolean;
}

/** A validated collection spec with defaults applied. */
export interface ResolvedCollectionSpec {
  name: string;
  indexes: ResolvedIndex[];
  ttl: { field: string; expireAfterSeconds: number } | null;
}

/** A top-level JSON object without the `id` / `_version` metadata. */
export type DocumentBody = Record<string, JsonValue>;

/** Validates a spec and fills in index names; throws {@link CollectionSpecError}. */
export function resolveCollectionSpec(spec: CollectionSpec): ResolvedCollectionSpec {
  const name = spec?.name;
  if (typeof name !== 'string' || !COLLECTION_NAME_PATTERN.test(name)) {
    throw new CollectionSpecError(String(name), `name must match ${COLLECTION_NAME_PATTERN}`);
  }
  const indexes: ResolvedIndex[] = [];
  const seen = new Set<string>();
  for (const [i, ix] of (spec.indexes ?? []).entries()) {
    if (!Array.isArray(ix.fields) || ix.fields.length === 0)
      throw new CollectionSpecError(name, `indexes[${i}].fields must be a non-empty array`);
    for (const f of ix.fields) {
      if (typeof f !== 'string' || !FIELD_NAME_PATTERN.test(f) || f === 'id') {
        throw new CollectionSpecError(
          name,
          `indexes[${i}] field ${JSON.stringify(f)} must match ${FIELD_NAME_PATTERN} and not be "id"`,
        );
      }
    }
    if (new Set(ix.fields).size !== ix.fields.length)
      throw new CollectionSpecError(name, `indexes[${i}] repeats a field`);
    const unique = ix.unique === true;
    const ixName = ix.name ?? `${ix.fields.join('_')}_${unique ? 'uniq' : 'idx'}`;
    if (!FIELD_NAME_PATTERN.test(ixName))
      throw new CollectionSpecError(name, `index name ${JSON.stringify(ixName)} must match ${FIELD_NAME_PATTERN}`);
    if (seen.has(ixName)) throw new CollectionSpecError(name, `index name ${ixName} is used twice`);
    seen.add(ixName);
    indexes.push({ name: ixName, fields: [...ix.fields], unique });
  }
  let ttl: ResolvedCollectionSpec['ttl'] = null;
  if (spec.ttl) {
    const { field, expireAfterSeconds } = spec.ttl;
    if (typeof field !== 'string' || !FIELD_NAME_PATTERN.test(field) || field === 'id') {
      throw new CollectionSpecError(name, `ttl.field must match ${FIELD_NAME_PATTERN} and not be "id"`);
    }
    if (!Number.isInteger(expireAfterSeconds) || expireAfterSeconds < 0) {
      throw new CollectionSpecError(name, 'ttl.expireAfterSeconds must be an integer ≥ 0');
    }
    ttl = { field, expireAfterSeconds };
  }
  return { name, indexes, ttl };
}

/** Canonical text of a resolved spec, to detect a collection declared twice with different specs. */
export function specFingerprint(spec: ResolvedCollectionSpec): string {
  return JSON.stringify(spec);
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** True for a canonical `toISOString()` timestamp (24 characters, ms precision, `Z`). */
export function isCanonicalIsoTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !ISO_RE.test(value)) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && new Date(ms).toISOString() === value;
}

function checkKey(collection: string, key: string, path: string): void {
  if (key.startsWith('$') || key.includes('.') || key.includes('\u0000')) {
    throw new DocumentValidationError(collection, path, 'keys must not start with "$" or contain "." or NUL');
  }
}

function normalizeValue(collection: string, value: unknown, path: string): JsonValue | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new DocumentValidationError(collection, path, `number ${value} is not finite`);
      return Object.is(value, -0) ? 0 : value;
    case 'undefined':
      return undefined;
    case 'object': {
      if (Array.isArray(value)) {
        return value.map((v, i) => {
          // FerretDB v1 cannot store arrays directly inside arrays; refusing them everywhere keeps adapters identical.
          if (Array.isArray(v))
            throw new DocumentValidationError(
              collection,
              `${path}[${i}]`,
              'arrays directly inside arrays are not supported (wrap the inner array in an object)',
            );
          const n = normalizeValue(collection, v, `${path}[${i}]`);
          if (n === undefined)
            throw new DocumentValidationError(collection, `${path}[${i}]`, 'undefined inside an array');
          return n;
        });
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const kind =
          value instanceof Date
            ? 'Date (store timestamps as ISO-8601 strings)'
            : (proto?.constructor?.name ?? 'object');
        throw new DocumentValidationError(collection, path, `${kind} is not a plain JSON value`);
      }
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const p = path ? `${path}.${k}` : k;
        checkKey(collection, k, p);
        const n = normalizeValue(collection, v, p);
        if (n !== undefined) out[k] = n;
      }
      return out;
    }
    default:
      throw new DocumentValidationError(collection, path, `${typeof value} is not a JSON value`);
  }
}

/**
 * Deep-copies a document into plain JSON, enforcing the port's rules. Returns the `id` (if present, when allowed)
 * separately from the body. Reserved top-level keys (`_*`) are refused; `_version` is ignored when `allowMeta`.
 */
export function normalizeDocument(
  collection: string,
  doc: unknown,
  opts: { allowId: boolean; allowMeta?: boolean },
): { id: string | undefined; body: DocumentBody } {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new DocumentValidationError(collection, '', 'a document must be an object');
  let id: string | undefined;
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === 'id') {
      if (v === undefined) continue;
      if (!opts.allowId) throw new DocumentValidationError(collection, 'id', 'the id cannot be changed');
      if (typeof v !== 'string' || v.length === 0 || v.length > 256)
        throw new DocumentValidationError(collection, 'id', 'id must be a non-empty string of at most 256 characters');
      id = v;
      continue;
    }
    if (k === '_version' && opts.allowMeta) continue;
    if (k.startsWith('_'))
      throw new DocumentValidationError(collection, k, 'top-level keys starting with "_" are reserved');
    input[k] = v;
  }
  const body = normalizeValue(collection, input, '') as DocumentBody;
  return { id, body };
}

/** Checks that every unique-index field is a non-null scalar and that the TTL field holds a canonical timestamp. */
export function checkIndexedFields(spec: ResolvedCollectionSpec, body: DocumentBody): void {
  for (const ix of spec.indexes) {
    if (!ix.unique) continue;
    for (const f of ix.fields) {
      const v = body[f];
      if (v === undefined || v === null)
        throw new DocumentValidationError(spec.name, f, `required by unique index ${ix.name}`);
      if (typeof v === 'object')
        throw new DocumentValidationError(spec.name, f, `unique index ${ix.name} needs a scalar value`);
    }
  }
  if (spec.ttl) {
    const v = body[spec.ttl.field];
    if (v !== undefined && v !== null && !isCanonicalIsoTimestamp(v)) {
      throw new DocumentValidationError(
        spec.name,
        spec.ttl.field,
        'TTL field must be an ISO-8601 UTC timestamp like 2024-01-02T03:04:05.678Z',
      );
    }
  }
}

/** The values of a unique index in `body`, by field. */
export function uniqueKeyOf(ix: ResolvedIndex, body: DocumentBody): Record<string, DocumentScalar> {
  const key: Record<string, DocumentScalar> = {};
  for (const f of ix.fields) key[f] = body[f] as DocumentScalar;
  return key;
}

/**
 * A string that is equal for two bodies exactly when the store considers their unique keys equal: numbers by value
 * (`1` and `1.0` alike), strings, booleans and types kept apart.
 */
export function canonicalUniqueKey(ix: ResolvedIndex, body: DocumentBody): string {
  return JSON.stringify(ix.fields.map((f) => body[f]));
}

/** Expiry instant of a body in epoch ms, or `null` when it never expires. */
export function expiresAtMs(spec: ResolvedCollectionSpec, body: DocumentBody): number | null {
  if (!spec.ttl) return null;
  const v = body[spec.ttl.field];
  if (typeof v !== 'string') return null;
  return Date.parse(v) + spec.ttl.expireAfterSeconds * 1000;
}

/**
 * Applies a change to the stored body of document `id`; returns the new body (validated, indexed fields checked).
 * `id` and `_version` inside the change are ignored when they are the document's own (so `{ replace: { ...current } }`
 * works); another `id` is refused.
 */
export function applyChange<T>(
  spec: ResolvedCollectionSpec,
  id: string,
  current: DocumentBody,
  change: DocumentChange<T>,
): DocumentBody {
  if (change === null || typeof change !== 'object')
    throw new DocumentValidationError(spec.name, '', 'a change must be { set, unset } or { replace }');
  const strip = (doc: unknown): DocumentBody => {
    const n = normalizeDocument(spec.name, doc, { allowId: true, allowMeta: true });
    if (n.id !== undefined && n.id !== id)
      throw new DocumentValidationError(spec.name, 'id', 'the id cannot be changed');
    return n.body;
  };
  let next: DocumentBody;
  if ('replace' in change) {
    next = strip(change.replace);
  } else {
    const set = change.set === undefined ? {} : strip(change.set);
    next = { ...current, ...set };
    for (const f of change.unset ?? []) {
      if (typeof f !== 'string' || f === 'id' || f.startsWith('_'))
        throw new DocumentValidationError(spec.name, String(f), 'cannot unset this field');
      if (f in set) throw new DocumentValidationError(spec.name, f, 'field is both set and unset');
      delete next[f];
    }
  }
  checkIndexedFields(spec, next);
  return next;
}

/** A compiled filter predicate on one field (`id` included). */
export interface FilterPredicate {
  field: string;
  op: 'eq' | 'ne' | 'in' | 'nin' | 'gt' | 'gte' | 'lt' | 'lte';
  value: DocumentScalar | DocumentScalar[];
}

const OPS: Record<string, FilterPredicate['op']> = {
  $eq: 'eq',
  $ne: 'ne',
  $in: 'in',
  $nin: 'nin',
  $gt: 'gt',
  $gte: 'gte',
  $lt: 'lt',
  $lte: 'lte',
};

function checkScalar(collection: string, path: string, v: unknown): DocumentScalar {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw new DocumentValidationError(
    collection,
    path,
    'filter operands must be strings, finite numbers, booleans or null',
  );
}

/** Validates a filter and flattens it to ANDed predicates; throws {@link DocumentValidationError}. */
export function compileFilter<T>(collection: string, filter: DocumentFilter<T> | undefined): FilterPredicate[] {
  if (filter === undefined) return [];
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new DocumentValidationError(collection, '', 'a filter must be an object');
  const preds: FilterPredicate[] = [];
  for (const [field, cond] of Object.entries(filter as Record<string, unknown>)) {
    if (cond === undefined) continue;
    if (field !== 'id' && !FIELD_NAME_PATTERN.test(field))
      throw new DocumentValidationError(collection, field, `filter fields must match ${FIELD_NAME_PATTERN}`);
    if (cond === null || typeof cond !== 'object') {
      preds.push({ field, op: 'eq', value: checkScalar(collection, field, cond) });
      continue;
    }
    if (Array.isArray(cond))
      throw new DocumentValidationError(collection, field, 'use { $in: [...] } to match one of several values');
    const entries = Object.entries(cond as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) throw new DocumentValidationError(collection, field, 'empty condition');
    for (const [opName, operand] of entries) {
      const op = OPS[opName];
      if (!op)
        throw new DocumentValidationError(
          collection,
          `${field}.${opName}`,
          'unknown operator (allowed: $eq $ne $in $nin $gt $gte $lt $lte)',
        );
      const path = `${field}.${opName}`;
      if (op === 'in' || op === 'nin') {
        if (!Array.isArray(operand)) throw new DocumentValidationError(collection, path, 'needs an array');
        preds.push({ field, op, value: operand.map((v, i) => checkScalar(collection, `${path}[${i}]`, v)) });
      } else if (op === 'eq' || op === 'ne') {
        preds.push({ field, op, value: checkScalar(collection, path, operand) });
      } else {
        if (!(typeof operand === 'string' || (typeof operand === 'number' && Number.isFinite(operand)))) {
          throw new DocumentValidationError(collection, path, 'range operands must be strings or finite numbers');
        }
        preds.push({ field, op, value: operand });
      }
    }
  }
  return preds;
}

/**
 * Rank of a value's type in the cross-type sort order (MongoDB's BSON order): missing/null 0, number 1, string 2,
 * object 3, array 4, boolean 5.
 */
export function sortRank(v: JsonValue | undefined): 0 | 1 | 2 | 3 | 4 | 5 {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return 1;
  if (typeof v === 'string') return 2;
  if (typeof v === 'boolean') return 5;
  return Array.isArray(v) ? 4 : 3;
}

/** Where the previous page ended: the sort value (by rank) and id of its last item. */
export interface CursorPosition {
  rank: number;
  /** The sort value for ranks 1, 2 and 5; `null` otherwise. */
  value: string | number | boolean | null;
  id: string;
}

/** A validated page request. */
export interface ResolvedPageRequest {
  predicates: FilterPredicate[];
  sort: { field: string; direction: 'asc' | 'desc' };
  limit: number;
  after: CursorPosition | null;
}

/** Validates a page request and decodes its cursor; throws {@link DocumentValidationError} / {@link InvalidCursorError}. */
export function resolvePageRequest<T>(collection: string, req: PageRequest<T>): ResolvedPageRequest {
  if (req === null || typeof req !== 'object')
    throw new DocumentValidationError(collection, '', 'a page request must be an object');
  if (!Number.isInteger(req.limit) || req.limit < 1 || req.limit > MAX_PAGE_LIMIT) {
    throw new DocumentValidationError(collection, 'limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  const sort = { field: String(req.sort?.field ?? 'id'), direction: req.sort?.direction ?? 'asc' };
  if (sort.field !== 'id' && !FIELD_NAME_PATTERN.test(sort.field))
    throw new DocumentValidationError(collection, 'sort.field', `must match ${FIELD_NAME_PATTERN}`);
  if (sort.direction !== 'asc' && sort.direction !== 'desc')
    throw new DocumentValidationError(collection, 'sort.direction', 'must be "asc" or "desc"');
  const predicates = compileFilter(collection, req.filter);
  const after = req.cursor ? decodeCursor(collection, req.cursor, sort) : null;
  return { predicates, sort, limit: req.limit, after };
}

interface CursorWire {
  f: string;
  d: 'asc' | 'desc';
  r: number;
  v: string | number | boolean | null;
  i: string;
}

/** Encodes the position after `last` (a stored document) for `sort`. Opaque base64url text. */
export function encodeCursor(
  sort: { field: string; direction: 'asc' | 'desc' },
  last: { id: string } & Record<string, unknown>,
): string {
  let r = 0;
  let v: CursorWire['v'] = null;
  if (sort.field !== 'id') {
    const raw = last[sort.field] as JsonValue | undefined;
    r = sortRank(raw);
    v = r === 1 || r === 2 || r === 5 ? (raw as string | number | boolean) : null;
  }
  const wire: CursorWire = { f: sort.field, d: sort.direction, r, v, i: last.id };
  return Buffer.from(JSON.stringify(wire), 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; refuses one made for another sort. */
export function decodeCursor(
  collection: string,
  cursor: string,
  sort: { field: string; direction: 'asc' | 'desc' },
): CursorPosition {
  let wire: CursorWire;
  try {
    if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    wire = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorWire;
  } catch {
    throw new InvalidCursorError(collection, 'not a cursor of this store');
  }
  if (!wire || typeof wire.i !== 'string' || typeof wire.r !== 'number' || ![0, 1, 2, 3, 4, 5].includes(wire.r)) {
    throw new InvalidCursorError(collection, 'not a cursor of this store');
  }
  if (wire.f !== sort.field || wire.d !== sort.direction) {
    throw new InvalidCursorError(
      collection,
      `cursor was made for sort ${wire.f} ${wire.d}, not ${sort.field} ${sort.direction}`,
    );
  }
  const okValue =
    (wire.r === 1 && typeof wire.v === 'number' && Number.isFinite(wire.v)) ||
    (wire.r === 2 && typeof wire.v === 'string') ||
    (wire.r === 5 && typeof wire.v === 'boolean') ||
    ((wire.r === 0 || wire.r === 3 || wire.r === 4) && wire.v === null);
  if (!okValue) throw new InvalidCursorError(collection, 'cursor value does not match its type');
  return { rank: wire.r, value: wire.v, id: wire.i };
}

/** Default attempts of {@link optimisticRetry}. */
export const DEFAULT_RETRY_ATTEMPTS = 100;

/** Upper bound of one backoff pause of {@link optimisticRetry}, ms. */
export const MAX_RETRY_BACKOFF_MS = 250;

/**
 * The read-modify-write loop behind `updateWithRetry`, shared by both adapters: get, mutate, update with the
 * version read; on {@link VersionConflictError} wait a jittered, exponentially growing delay (≤ {@link MAX_RETRY_BACKOFF_MS}) and retry.
 */
export async function optimisticRetry<T extends object>(
  col: Pick<DocumentCollection<T>, 'get' | 'update' | 'name'>,
  id: string,
  mutate: (current: StoredDocument<T>) => DocumentChange<T> | null | Promise<DocumentChange<T> | null>,
  opts: RetryOptions = {},
): Promise<StoredDocument<T>> {
  const maxAttempts = opts.maxAttempts ?? DEFAULT_RETRY_ATTEMPTS;
  let last: VersionConflictError | undefined;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const current = await col.get(id);
    if (!current) throw new DocumentNotFoundError(col.name, id);
    const change = await mutate(current);
    if (change === null) return current;
    try {
      return await col.update(id, current._version, change);
    } catch (err) {
      if (!(err instanceof VersionConflictError)) throw err;
      last = err;
      // Exponential backoff with full jitter: spreads competing writers so one wins each round instead of all
      // colliding again (with 50 writers on one document this cuts wasted round trips several-fold).
      const cap = Math.min(MAX_RETRY_BACKOFF_MS, 4 * 2 ** Math.min(attempt, 7));
      await new Promise((r) => setTimeout(r, Math.random() * cap));
    }
  }
  throw last ?? new VersionConflictError(col.name, id, -1);
}
