import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  DuckDBInstance,
  type DuckDBConnection,
  type DuckDBPreparedStatement,
  type DuckDBType,
  type DuckDBValue,
  type JS,
} from '@duckdb/node-api';

/** Path of an in-memory database. */
export const DUCKDB_MEMORY = ':memory:';

/** File name of the process's shared database inside the data directory. */
export const DUCKDB_FILE_NAME = 'strata.duckdb';

/** `<dataDir>/strata.duckdb`: where the platform keeps every embedded table (documents, bars, features). */
export function duckDbPathFor(dataDir: string): string {
  return resolve(dataDir, DUCKDB_FILE_NAME);
}

/** Parameters of a statement: positional (`?`, `$1`) or named (`$name`). */
export type DuckDbParams = DuckDBValue[] | Record<string, DuckDBValue>;

/** Statements run inside {@link DuckDb.exclusive} / {@link DuckDb.transaction} (already holding the lock). */
export interface DuckDbSession {
  /** Runs one statement; returns the number of rows changed (0 for queries and DDL). */
  run(sql: string, params?: DuckDbParams): Promise<number>;
  /** Runs a query; rows as plain JS objects (BIGINT as `bigint`, TIMESTAMP as `Date`, JSON/VARCHAR as string). */
  all<R = Record<string, JS>>(sql: string, params?: DuckDbParams): Promise<R[]>;
  /** Appends rows (values in table column order) through a DuckDB appender; returns the count appended. */
  appendRows(
    table: string,
    rows: readonly (readonly DuckDBValue[])[],
    opts?: { schema?: string; types?: readonly DuckDBType[] },
  ): Promise<number>;
  /**
   * The prepared statement of `sql` from the database's statement cache (prepared once per SQL text; owned by the
   * cache, never destroy it). Bind and run it inside this session, e.g. for columnar reads of a materialized result.
   */
  prepare(sql: string): Promise<DuckDBPreparedStatement>;
  /** The raw connection, for APIs this wrapper does not cover (data chunks, streaming). */
  readonly connection: DuckDBConnection;
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * One DuckDB database with one connection, shared by everything in the process that uses the same file
 * (document store, bars, features). Every statement goes through a FIFO queue on that connection, so:
 * - writers never race each other (DuckDB's MVCC would otherwise abort concurrent updates of one row with
 *   "Conflict on update"), and the document store's read-modify-write sequences are atomic;
 * - a transaction owns the connection until it commits or rolls back.
 * Statements are prepared once and cached by SQL text. Long analytical reads that should not wait behind writes
 * can open a dedicated connection with {@link DuckDb.connect}.
 */
export class DuckDb implements Omit<DuckDbSession, 'connection' | 'prepare'> {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, DuckDBPreparedStatement>();
  private readonly extraConnections = new Set<DuckDBConnection>();
  private closed = false;
  /** @internal reference count for {@link openDuckDb}. */
  refs = 1;
  /** @internal cache key for {@link openDuckDb}, if cached. */
  cacheKey: string | undefined;

  private readonly session: DuckDbSession;

  private constructor(
    /** Absolute file path, or `:memory:`. */
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {
    this.session = this.makeSession();
  }

  /** Opens (creating parent directories) a database that is NOT shared; prefer {@link openDuckDb}. */
  static async create(path: string, config: Record<string, string> = {}): Promise<DuckDb> {
    const p = path === DUCKDB_MEMORY ? path : resolve(path);
    if (p !== DUCKDB_MEMORY) mkdirSync(dirname(p), { recursive: true });
    const instance = await DuckDBInstance.create(p, config);
    const conn = await instance.connect();
    return new DuckDb(p, instance, conn);
  }

  /** Runs `fn` with the connection to itself: nothing else runs on it meanwhile. */
  exclusive<T>(fn: (session: DuckDbSession) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`DuckDB ${this.path} is closed`));
    const result = this.tail.then(() => fn(this.session));
    // The queue continues whether `fn` succeeded or failed.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Runs `fn` inside BEGIN … COMMIT (ROLLBACK if it throws), holding the connection throughout. */
  transaction<T>(fn: (session: DuckDbSession) => Promise<T>): Promise<T> {
    return this.exclusive(async (s) => {
      await s.run('BEGIN TRANSACTION');
      try {
        const out = await fn(s);
        await s.run('COMMIT');
        return out;
      } catch (err) {
        await s.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  run(sql: string, params?: DuckDbParams): Promise<number> {
    return this.exclusive((s) => s.run(sql, params));
  }

  all<R = Record<string, JS>>(sql: string, params?: DuckDbParams): Promise<R[]> {
    return this.exclusive((s) => s.all<R>(sql, params));
  }

  appendRows(
    table: string,
    rows: readonly (readonly DuckDBValue[])[],
    opts?: { schema?: string; types?: readonly DuckDBType[] },
  ): Promise<number> {
    return this.exclusive((s) => s.appendRows(table, rows, opts));
  }

  /** A new, dedicated connection to the same database (the caller closes it; {@link close} closes leftovers). */
  async connect(): Promise<DuckDBConnection> {
    const c = await this.instance.connect();
    this.extraConnections.add(c);
    return c;
  }

  /** `SELECT 1` through the queue, for health checks. */
  async ping(): Promise<void> {
    await this.all('SELECT 1 AS ok');
  }

  /**
   * Releases this handle. A database from {@link openDuckDb} closes when its last user releases it; pending
   * statements finish first.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (--this.refs > 0) return;
    if (this.cacheKey) cache.delete(this.cacheKey);
    await this.tail;
    this.closed = true;
    for (const st of this.statements.values()) st.destroySync();
    this.statements.clear();
    for (const c of this.extraConnections) c.closeSync();
    this.conn.closeSync();
    this.instance.closeSync();
  }

  /** True once the last handle has been closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  private async prepared(sql: string): Promise<DuckDBPreparedStatement> {
    let st = this.statements.get(sql);
    if (st) {
      // Refresh LRU position.
      this.statements.delete(sql);
      this.statements.set(sql, st);
      return st;
    }
    st = await this.conn.prepare(sql);
    this.statements.set(sql, st);
    if (this.statements.size > STATEMENT_CACHE_SIZE) {
      const [oldest, old] = this.statements.entries().next().value as [string, DuckDBPreparedStatement];
      this.statements.delete(oldest);
      old.destroySync();
    }
    return st;
  }

  private makeSession(): DuckDbSession {
    const conn = this.conn;
    const bound = async (sql: string, params: DuckDbParams) => {
      const st = await this.prepared(sql);
      st.clearBindings();
      st.bind(params);
      return st;
    };
    return {
      connection: conn,
      prepare: (sql) => this.prepared(sql),
      run: async (sql, params) => {
        const res = params ? await (await bound(sql, params)).run() : await conn.run(sql);
        return Number(res.rowsChanged);
      },
      all: async <R>(sql: string, params?: DuckDbParams) => {
        const reader = params ? await (await bound(sql, params)).runAndReadAll() : await conn.runAndReadAll(sql);
        return reader.getRowObjectsJS() as R[];
      },
      appendRows: async (table, rows, opts) => {
        const appender = await conn.createAppender(table, opts?.schema ?? null);
        try {
          for (const row of rows) {
            for (let i = 0; i < row.length; i++) appender.appendValue(row[i], opts?.types?.[i]);
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        return rows.length;
      },
    };
  }
}

const cache = new Map<string, Promise<DuckDb>>();

/**
 * The process-wide database at `path` (absolute or relative to the working directory, or `:memory:`), opened on
 * first use and shared afterwards; each caller gets the same {@link DuckDb} and must call `close()` once when done.
 * Note that `:memory:` is shared too: use {@link DuckDb.create} for a private in-memory database.
 */
export async function openDuckDb(path: string, config: Record<string, string> = {}): Promise<DuckDb> {
  const key = path === DUCKDB_MEMORY ? path : resolve(path);
  const existing = cache.get(key);
  if (existing) {
    const db = await existing;
    if (!db.isClosed) {
      db.refs++;
      return db;
    }
  }
  const opening = DuckDb.create(key, config).then((db) => {
    db.cacheKey = key;
    return db;
  });
  cache.set(key, opening);
  try {
    return await opening;
  } catch (err) {
    cache.delete(key);
    throw err;
  }
}
