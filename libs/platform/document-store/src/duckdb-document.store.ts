import {
  CollectionSpecError,
  DocumentNotFoundError,
  DuplicateKeyError,
  VersionConflictError,
  type CollectionSpec,
  type DocumentChange,
  type DocumentCollection,
  type DocumentFilter,
  type DocumentScalar,
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
  canonicalUniqueKey,
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
import type { DuckDBValue } from '@duckdb/node-api';
import { openDuckDb, type DuckDb, type DuckDbSession } from '@strata/platform-duckdb';

/** DuckDB schema holding one table per document collection, apart from the bars/feature tables. */
export const DOCSTORE_SCHEMA = 'docstore';

/** Options of {@link DuckDbDocumentStore}. */
export interface DuckDbDocumentStoreOptions {
  /** How often expired documents are physically deleted, ms (default 60 000, like MongoDB's TTL monitor). */
  ttlSweepIntervalMs?: number;
  /** Clock in epoch ms (default `Date.now`); tests may inject one. */
  now?: () => number;
}

const NUMERIC_TYPES = `('BIGINT','UBIGINT','HUGEINT','DOUBLE')`;
const LIVE = '(expires_at IS NULL OR expires_at > ?)';

interface Row {
  id: string;
  version: number;
  doc: string;
}

const quote = (ident: string) => `"${ident}"`;
const uqColumn = (indexName: string) => quote(`uq_${indexName}`);

/**
 * Parameters of a statement built from fragments: each value gets a numbered placeholder (`$1`, `$2`, …), so the
 * order in which fragments are built cannot misalign values and placeholders.
 */
class Sql {
  readonly params: DuckDBValue[] = [];
  add(v: DuckDBValue): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }
}

// Field names are validated against FIELD_NAME_PATTERN before they reach SQL, so they can sit in JSON paths.
const jtype = (f: string) => `json_type(doc, '$.${f}')`;
const jnum = (f: string) => `TRY_CAST(doc->>'$.${f}' AS DOUBLE)`;
const jstr = (f: string) => `(doc->>'$.${f}')`;

function eqSql(q: Sql, field: string, v: DocumentScalar): string {
  if (field === 'id') return typeof v === 'string' ? `id = ${q.add(v)}` : 'FALSE';
  if (v === null) return `(${jtype(field)} IS NULL OR ${jtype(field)} = 'NULL')`;
  if (typeof v === 'string') return `(${jtype(field)} = 'VARCHAR' AND ${jstr(field)} = ${q.add(v)})`;
  if (typeof v === 'number') return `(${jtype(field)} IN ${NUMERIC_TYPES} AND ${jnum(field)} = ${q.add(v)})`;
  return `(${jtype(field)} = 'BOOLEAN' AND ${jstr(field)} = ${q.add(String(v))})`;
}

const CMP: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=' };

function predicateSql(q: Sql, p: FilterPredicate): string {
  switch (p.op) {
    case 'eq':
      return eqSql(q, p.field, p.value as DocumentScalar);
    case 'ne':
      return `NOT COALESCE(${eqSql(q, p.field, p.value as DocumentScalar)}, FALSE)`;
    case 'in':
    case 'nin': {
      const values = p.value as DocumentScalar[];
      const any = values.length === 0 ? 'FALSE' : `(${values.map((v) => eqSql(q, p.field, v)).join(' OR ')})`;
      return p.op === 'in' ? any : `NOT COALESCE(${any}, FALSE)`;
    }
    default: {
      const op = CMP[p.op];
      const v = p.value as string | number;
      if (p.field === 'id') return typeof v === 'string' ? `id ${op} ${q.add(v)}` : 'FALSE';
      if (typeof v === 'string') return `(${jtype(p.field)} = 'VARCHAR' AND ${jstr(p.field)} ${op} ${q.add(v)})`;
      return `(${jtype(p.field)} IN ${NUMERIC_TYPES} AND ${jnum(p.field)} ${op} ${q.add(v)})`;
    }
  }
}

function whereSql(q: Sql, preds: FilterPredicate[], now: number): string {
  const parts = preds.map((p) => predicateSql(q, p));
  parts.push(LIVE.replace('?', q.add(now)));
  return parts.join(' AND ');
}

/** Sort keys mirroring MongoDB's cross-type order: rank (null, number, string, object, array, boolean), then value. */
function sortColumnsSql(f: string): string {
  const t = jtype(f);
  return [
    `CASE WHEN ${t} IS NULL OR ${t} = 'NULL' THEN 0 WHEN ${t} IN ${NUMERIC_TYPES} THEN 1 WHEN ${t} = 'VARCHAR' THEN 2 ` +
      `WHEN ${t} = 'OBJECT' THEN 3 WHEN ${t} = 'ARRAY' THEN 4 WHEN ${t} = 'BOOLEAN' THEN 5 ELSE 6 END AS _r`,
    `CASE WHEN ${t} IN ${NUMERIC_TYPES} THEN ${jnum(f)} END AS _n`,
    `CASE WHEN ${t} = 'VARCHAR' THEN ${jstr(f)} END AS _s`,
    `CASE WHEN ${t} = 'BOOLEAN' THEN ${jstr(f)} END AS _b`,
  ].join(', ');
}

function afterSql(q: Sql, field: string, dir: 'asc' | 'desc', after: CursorPosition): string {
  const cmp = dir === 'asc' ? '>' : '<';
  if (field === 'id') return `id ${cmp} ${q.add(after.id)}`;
  const col = after.rank === 1 ? '_n' : after.rank === 2 ? '_s' : after.rank === 5 ? '_b' : null;
  const value = after.rank === 5 ? String(after.value) : (after.value as DuckDBValue);
  const within = col
    ? `${col} ${cmp} ${q.add(value)} OR (${col} = ${q.add(value)} AND id ${cmp} ${q.add(after.id)})`
    : `id ${cmp} ${q.add(after.id)}`;
  return `(_r ${cmp} ${q.add(after.rank)} OR (_r = ${q.add(after.rank)} AND (${within})))`;
}

function toStored<T>(row: Row): StoredDocument<T> {
  const body = JSON.parse(row.doc) as DocumentBody;
  return { id: row.id, ...body, _version: Number(row.version) } as StoredDocument<T>;
}

/** Maps a DuckDB constraint error to {@link DuplicateKeyError}; returns `undefined` for other errors. */
function mapConstraintError(spec: ResolvedCollectionSpec, err: unknown): DuplicateKeyError | undefined {
  const msg = err instanceof Error ? err.message : String(err);
  // DuckDB words it "Duplicate key \"<col>: <value>\" violates …" for single statements and "PRIMARY KEY or UNIQUE
  // constraint violation: duplicate key …" (without the column) in some transactional paths.
  if (!/Constraint Error: (Duplicate key|PRIMARY KEY or UNIQUE constraint violation)/i.test(msg)) return undefined;
  if (/primary key constraint/i.test(msg)) return new DuplicateKeyError(spec.name, '_id', ['id']);
  const ix = spec.indexes.find((i) => msg.includes(`"uq_${i.name}:`));
  return ix ? new DuplicateKeyError(spec.name, ix.name, ix.fields) : new DuplicateKeyError(spec.name, 'unknown', []);
}

/**
 * A collection stored as one DuckDB table `docstore."<name>"`: `id` (primary key), `version`, `expires_at` (epoch
 * ms, from the TTL field), `doc` (JSON body) and one `uq_<index>` column per unique index holding the canonical key
 * under a UNIQUE constraint. Non-unique indexes are advisory here (DuckDB's zone maps and a full JSON scan serve
 * them); the embedded store is meant for one process and modest sizes.
 */
class DuckDbDocumentCollection<T extends object> implements DocumentCollection<T> {
  readonly name: string;
  private readonly table: string;
  private readonly uniques;

  constructor(
    private readonly db: DuckDb,
    readonly spec: ResolvedCollectionSpec,
    private readonly ready: Promise<void>,
    private readonly now: () => number,
  ) {
    this.name = spec.name;
    this.table = `${DOCSTORE_SCHEMA}.${quote(spec.name)}`;
    this.uniques = spec.indexes.filter((i) => i.unique);
  }

  async insert(doc: NewDocument<T>): Promise<StoredDocument<T>> {
    const { id: given, body } = normalizeDocument(this.name, doc, { allowId: true });
    checkIndexedFields(this.spec, body);
    const id = given ?? uuidv7();
    await this.ready;
    await this.db.exclusive(async (s) => {
      const cols = ['id', 'version', 'expires_at', 'doc', ...this.uniques.map((i) => uqColumn(i.name))];
      const values: DuckDBValue[] = [
        id,
        1,
        expiresAtMs(this.spec, body),
        JSON.stringify(body),
        ...this.uniques.map((i) => canonicalUniqueKey(i, body)),
      ];
      await this.writeKeyed(s, id, body, true, () =>
        s.run(
          `INSERT INTO ${this.table} (${cols.join(', ')}) VALUES (?, ?::BIGINT, ?::BIGINT, ?::JSON${', ?'.repeat(this.uniques.length)})`,
          values,
        ),
      );
    });
    return { id, ...body, _version: 1 } as StoredDocument<T>;
  }

  async get(id: string): Promise<StoredDocument<T> | null> {
    await this.ready;
    const rows = await this.db.all<Row>(
      `SELECT id, version::DOUBLE AS version, doc::VARCHAR AS doc FROM ${this.table} WHERE id = ? AND ${LIVE}`,
      [String(id), this.now()],
    );
    return rows.length ? toStored<T>(rows[0]) : null;
  }

  async findOne(filter: DocumentFilter<T>): Promise<StoredDocument<T> | null> {
    const preds = compileFilter(this.name, filter);
    await this.ready;
    const q = new Sql();
    const where = whereSql(q, preds, this.now());
    const rows = await this.db.all<Row>(
      `SELECT id, version::DOUBLE AS version, doc::VARCHAR AS doc FROM ${this.table} WHERE ${where} ORDER BY id LIMIT 1`,
      q.params,
    );
    return rows.length ? toStored<T>(rows[0]) : null;
  }

  async update(id: string, expectedVersion: number, change: DocumentChange<T>): Promise<StoredDocument<T>> {
    await this.ready;
    return this.db.exclusive(async (s) => {
      const now = this.now();
      const rows = await s.all<Row>(
        `SELECT id, version::DOUBLE AS version, doc::VARCHAR AS doc FROM ${this.table} WHERE id = ? AND ${LIVE}`,
        [String(id), now],
      );
      if (!rows.length) throw new DocumentNotFoundError(this.name, id);
      const actual = Number(rows[0].version);
      if (actual !== expectedVersion) throw new VersionConflictError(this.name, id, expectedVersion, actual);
      const next = applyChange(this.spec, id, JSON.parse(rows[0].doc) as DocumentBody, change);
      const sets = [
        'version = ?::BIGINT',
        'expires_at = ?::BIGINT',
        'doc = ?::JSON',
        ...this.uniques.map((i) => `${uqColumn(i.name)} = ?`),
      ];
      const values: DuckDBValue[] = [
        actual + 1,
        expiresAtMs(this.spec, next),
        JSON.stringify(next),
        ...this.uniques.map((i) => canonicalUniqueKey(i, next)),
      ];
      const changed = await this.writeKeyed(s, id, next, false, () =>
        s.run(`UPDATE ${this.table} SET ${sets.join(', ')} WHERE id = ? AND version = ?::BIGINT`, [
          ...values,
          id,
          actual,
        ]),
      );
      // Cannot happen while every write goes through this queue; kept as a guard against outside writers.
      if (changed !== 1) throw new VersionConflictError(this.name, id, expectedVersion);
      return { id, ...next, _version: actual + 1 } as StoredDocument<T>;
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
    await this.ready;
    return this.db.exclusive(async (s) => {
      const rows = await s.all<{ version: number }>(
        `SELECT version::DOUBLE AS version FROM ${this.table} WHERE id = ? AND ${LIVE}`,
        [String(id), this.now()],
      );
      if (!rows.length) return false;
      if (expectedVersion !== undefined && rows[0].version !== expectedVersion) {
        throw new VersionConflictError(this.name, id, expectedVersion, rows[0].version);
      }
      return (await s.run(`DELETE FROM ${this.table} WHERE id = ?`, [id])) === 1;
    });
  }

  async deleteMany(filter: DocumentFilter<T>): Promise<number> {
    const preds = compileFilter(this.name, filter);
    await this.ready;
    const q = new Sql();
    const where = whereSql(q, preds, this.now());
    return this.db.run(`DELETE FROM ${this.table} WHERE ${where}`, q.params);
  }

  async page(req: PageRequest<T>): Promise<Page<T>> {
    const r = resolvePageRequest(this.name, req);
    await this.ready;
    const q = new Sql();
    const where = whereSql(q, r.predicates, this.now());
    const byId = r.sort.field === 'id';
    const dir = r.sort.direction === 'asc' ? 'ASC' : 'DESC';
    const inner = `SELECT id, version::DOUBLE AS version, doc::VARCHAR AS doc${byId ? '' : `, ${sortColumnsSql(r.sort.field)}`} FROM ${this.table} WHERE ${where}`;
    const after = r.after ? ` WHERE ${afterSql(q, r.sort.field, r.sort.direction, r.after)}` : '';
    const order = byId ? `id ${dir}` : `_r ${dir}, _n ${dir}, _s ${dir}, _b ${dir}, id ${dir}`;
    const rows = await this.db.all<Row>(
      `SELECT id, version, doc FROM (${inner})${after} ORDER BY ${order} LIMIT ${r.limit + 1}`,
      q.params,
    );
    const items = rows.slice(0, r.limit).map((row) => toStored<T>(row));
    const nextCursor =
      rows.length > r.limit
        ? encodeCursor(r.sort, items[items.length - 1] as StoredDocument<T> & Record<string, unknown>)
        : null;
    return { items, nextCursor };
  }

  async count(filter?: DocumentFilter<T>): Promise<number> {
    const preds = compileFilter(this.name, filter);
    await this.ready;
    const q = new Sql();
    const where = whereSql(q, preds, this.now());
    const rows = await this.db.all<{ n: number }>(
      `SELECT count(*)::DOUBLE AS n FROM ${this.table} WHERE ${where}`,
      q.params,
    );
    return rows[0].n;
  }

  /** Physically deletes expired documents; returns how many. */
  async sweepExpired(): Promise<number> {
    if (!this.spec.ttl) return 0;
    await this.ready;
    return this.db.run(`DELETE FROM ${this.table} WHERE expires_at <= ?::BIGINT`, [this.now()]);
  }

  /**
   * Runs an INSERT/UPDATE that may hit a unique constraint. On a violation: expired holders of the id or keys are
   * deleted (expired documents never block keys) and the write is retried once; a live holder becomes a
   * {@link DuplicateKeyError} naming its index. The normal path is the single statement.
   */
  private async writeKeyed(
    s: DuckDbSession,
    id: string,
    body: DocumentBody,
    isInsert: boolean,
    write: () => Promise<number>,
  ): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch (err) {
        const dup = mapConstraintError(this.spec, err);
        if (!dup) throw err;
        if (attempt === 0 && (await this.purgeExpiredHolders(s, id, body, this.now(), isInsert)) > 0) continue;
        await this.assertNoConflict(s, id, body, isInsert);
        throw dup;
      }
    }
  }

  /** Deletes expired documents holding the id (on insert) or a unique key of `body`; returns how many. */
  private async purgeExpiredHolders(
    s: DuckDbSession,
    id: string,
    body: DocumentBody,
    now: number,
    checkId: boolean,
  ): Promise<number> {
    if (!this.spec.ttl) return 0;
    const q = new Sql();
    const ors = this.uniques.map((i) => `${uqColumn(i.name)} = ${q.add(canonicalUniqueKey(i, body))}`);
    if (checkId) ors.push(`id = ${q.add(id)}`);
    if (!ors.length) return 0;
    const self = checkId ? '' : ` AND id <> ${q.add(id)}`;
    return s.run(
      `DELETE FROM ${this.table} WHERE expires_at <= ${q.add(now)}::BIGINT${self} AND (${ors.join(' OR ')})`,
      q.params,
    );
  }

  /** Finds the live holder of the id or a unique key after a violation and throws the error naming its index. */
  private async assertNoConflict(s: DuckDbSession, id: string, body: DocumentBody, checkId: boolean): Promise<void> {
    if (checkId) {
      const hit = await s.all(`SELECT 1 AS x FROM ${this.table} WHERE id = ?`, [id]);
      if (hit.length) throw new DuplicateKeyError(this.name, '_id', ['id'], { id });
    }
    for (const ix of this.uniques) {
      const hit = await s.all(`SELECT 1 AS x FROM ${this.table} WHERE ${uqColumn(ix.name)} = ? AND id <> ?`, [
        canonicalUniqueKey(ix, body),
        id,
      ]);
      if (hit.length) throw new DuplicateKeyError(this.name, ix.name, ix.fields, uniqueKeyOf(ix, body));
    }
  }
}

/**
 * The embedded {@link DocumentStore}: documents in the process's shared DuckDB file (see {@link openDuckDb}), with
 * the same semantics as the mongoose adapter (the conformance suite in `@strata/shared-testing` runs on both).
 * Single process only: DuckDB locks the file for one writer process.
 */
export class DuckDbDocumentStore implements DocumentStore {
  private readonly collections = new Map<string, { fingerprint: string; col: DuckDbDocumentCollection<object> }>();
  private readonly pending: Promise<void>[] = [];
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;
  private closed = false;

  constructor(
    /** The database; the store closes (releases) it on {@link close}. */
    readonly db: DuckDb,
    opts: DuckDbDocumentStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(
      () => void this.sweepExpired().catch(() => undefined),
      opts.ttlSweepIntervalMs ?? 60_000,
    );
    this.sweeper.unref();
  }

  /** Opens the shared database at `path` (`<STRATA_DATA_DIR>/strata.duckdb`, or `:memory:`) and a store on it. */
  static async open(path: string, opts?: DuckDbDocumentStoreOptions): Promise<DuckDbDocumentStore> {
    return new DuckDbDocumentStore(await openDuckDb(path), opts);
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
    const ready = this.db.transaction((s) => ensureTable(s, resolved, fingerprint, this.now()));
    ready.catch(() => undefined); // surfaced by ready() and by every operation
    this.pending.push(ready);
    const col = new DuckDbDocumentCollection<object>(this.db, resolved, ready, this.now);
    this.collections.set(resolved.name, { fingerprint, col });
    return col as unknown as DocumentCollection<T>;
  }

  async ready(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Physically deletes expired documents of every TTL collection now; returns how many. */
  async sweepExpired(): Promise<number> {
    let n = 0;
    for (const { col } of this.collections.values()) n += await col.sweepExpired();
    return n;
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.db.ping();
      return { adapter: 'duckdb', status: 'up', detail: this.db.path };
    } catch (err) {
      return { adapter: 'duckdb', status: 'down', detail: err instanceof Error ? err.message : String(err) };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweeper);
    await Promise.allSettled(this.pending);
    await this.db.close();
  }
}

/**
 * Creates the collection's table, or rebuilds it when the spec changed since it was created (new unique index, new
 * TTL rule): rows are re-keyed in JS and re-inserted in the same transaction, so a new unique index that existing
 * data violates fails the start-up instead of being half-applied.
 */
async function ensureTable(
  s: DuckDbSession,
  spec: ResolvedCollectionSpec,
  fingerprint: string,
  now: number,
): Promise<void> {
  await s.run(`CREATE SCHEMA IF NOT EXISTS ${DOCSTORE_SCHEMA}`);
  await s.run(
    `CREATE TABLE IF NOT EXISTS ${DOCSTORE_SCHEMA}._collections (name VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL, updated_at BIGINT NOT NULL)`,
  );
  const meta = await s.all<{ spec: string }>(`SELECT spec FROM ${DOCSTORE_SCHEMA}._collections WHERE name = ?`, [
    spec.name,
  ]);
  if (meta.length && meta[0].spec === fingerprint) return;
  const table = `${DOCSTORE_SCHEMA}.${quote(spec.name)}`;
  const exists = await s.all(`SELECT 1 AS x FROM information_schema.tables WHERE table_schema = ? AND table_name = ?`, [
    DOCSTORE_SCHEMA,
    spec.name,
  ]);
  let carried: Row[] = [];
  if (exists.length) {
    carried = await s.all<Row>(`SELECT id, version::DOUBLE AS version, doc::VARCHAR AS doc FROM ${table}`);
    await s.run(`DROP TABLE ${table}`);
  }
  const uniques = spec.indexes.filter((i) => i.unique);
  const cols = [
    'id VARCHAR PRIMARY KEY',
    'version BIGINT NOT NULL',
    'expires_at BIGINT',
    'doc JSON NOT NULL',
    ...uniques.map((i) => `${uqColumn(i.name)} VARCHAR NOT NULL UNIQUE`),
  ];
  await s.run(`CREATE TABLE ${table} (${cols.join(', ')})`);
  // Find violations of new unique indexes here, to name them (DuckDB's message inside a transaction does not).
  const seen = uniques.map(() => new Set<string>());
  for (const row of carried) {
    const body = JSON.parse(row.doc) as DocumentBody;
    checkIndexedFields(spec, body);
    uniques.forEach((ix, i) => {
      const k = canonicalUniqueKey(ix, body);
      if (seen[i].has(k)) throw new DuplicateKeyError(spec.name, ix.name, ix.fields, uniqueKeyOf(ix, body));
      seen[i].add(k);
    });
    const values: DuckDBValue[] = [
      row.id,
      row.version,
      expiresAtMs(spec, body),
      row.doc,
      ...uniques.map((i) => canonicalUniqueKey(i, body)),
    ];
    try {
      await s.run(
        `INSERT INTO ${table} VALUES (?, ?::BIGINT, ?::BIGINT, ?::JSON${', ?'.repeat(uniques.length)})`,
        values,
      );
    } catch (err) {
      throw mapConstraintError(spec, err) ?? err;
    }
  }
  await s.run(
    `INSERT INTO ${DOCSTORE_SCHEMA}._collections VALUES (?, ?, ?::BIGINT) ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
    [spec.name, fingerprint, now],
  );
}
