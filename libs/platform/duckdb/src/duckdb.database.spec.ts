import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDb, duckDbPathFor, openDuckDb } from './duckdb.database';

describe('DuckDb connection manager', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-duck-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('openDuckDb shares one database per path and closes it with its last user', async () => {
    const path = duckDbPathFor(join(dir, 'nested', 'data'));
    expect(path).toBe(join(dir, 'nested', 'data', 'strata.duckdb'));
    const [a, b] = await Promise.all([openDuckDb(path), openDuckDb(path)]);
    expect(a).toBe(b);
    await a.run('CREATE TABLE t (x INTEGER)');
    await a.close();
    expect(a.isClosed).toBe(false);
    await b.run('INSERT INTO t VALUES (1)');
    await b.close();
    expect(b.isClosed).toBe(true);
    await expect(b.run('SELECT 1')).rejects.toThrow(/closed/);
    const c = await openDuckDb(path);
    expect(c).not.toBe(a);
    expect(await c.all('SELECT count(*)::INTEGER AS n FROM t')).toEqual([{ n: 1 }]);
    await c.close();
  });

  it('runs statements in submission order and keeps transactions whole under concurrent callers', async () => {
    const db = await DuckDb.create(':memory:');
    await db.run('CREATE TABLE acct (id INTEGER PRIMARY KEY, balance BIGINT)');
    await db.run('INSERT INTO acct VALUES (1, 100), (2, 100)');
    // 50 concurrent transfers as read-modify-write transactions: with a shared connection and no queue these would
    // interleave (or DuckDB would abort them with write-write conflicts).
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.transaction(async (s) => {
          const [from, to] = i % 2 ? [1, 2] : [2, 1];
          const [{ balance }] = await s.all<{ balance: bigint }>('SELECT balance FROM acct WHERE id = ?', [from]);
          await s.run('UPDATE acct SET balance = ? WHERE id = ?', [balance - 1n, from]);
          const [{ balance: b2 }] = await s.all<{ balance: bigint }>('SELECT balance FROM acct WHERE id = ?', [to]);
          await s.run('UPDATE acct SET balance = ? WHERE id = ?', [b2 + 1n, to]);
        }),
      ),
    );
    expect(await db.all('SELECT id, balance::INTEGER AS b FROM acct ORDER BY id')).toEqual([
      { id: 1, b: 100 },
      { id: 2, b: 100 },
    ]);
    // A failing transaction rolls back and the queue goes on.
    await expect(
      db.transaction(async (s) => {
        await s.run('UPDATE acct SET balance = 0');
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.all('SELECT sum(balance)::INTEGER AS s FROM acct')).toEqual([{ s: 200 }]);
    await db.close();
  });

  it('appends rows in batches through the appender and reuses prepared statements', async () => {
    const db = await DuckDb.create(':memory:');
    await db.run('CREATE TABLE bars (symbol VARCHAR, ts TIMESTAMP, close DOUBLE, volume BIGINT)');
    const rows = Array.from({ length: 5000 }, (_, i) => ['SPY', null, 100 + i / 100, BigInt(i)]);
    expect(await db.appendRows('bars', rows)).toBe(5000);
    for (let i = 0; i < 3; i++)
      expect(await db.all('SELECT count(*)::INTEGER AS n FROM bars WHERE volume >= ?', [4000n])).toEqual([{ n: 1000 }]);
    expect(await db.all('SELECT round(sum(close), 2) AS s FROM bars')).toEqual([
      { s: 5000 * 100 + (4999 * 5000) / 2 / 100 },
    ]);
    await db.close();
  });

  /**
   * DuckDB's ART indexes once checked unique constraints too eagerly inside a transaction (a key deleted or moved
   * and reused in the same transaction raised a false violation). The document store relies on 1.5.x behaving;
   * these pin it so an upgrade that regresses fails here rather than in production.
   */
  it('unique ART index: keys moved, swapped and reused within one transaction are accepted', async () => {
    const db = await DuckDb.create(':memory:');
    await db.run('CREATE TABLE t (id VARCHAR PRIMARY KEY, v BIGINT, k VARCHAR NOT NULL UNIQUE)');
    await db.run("INSERT INTO t VALUES ('a', 1, 'k1'), ('b', 1, 'k2')");
    await db.transaction(async (s) => {
      await s.run("UPDATE t SET k = 'tmp' WHERE id = 'a'");
      await s.run("UPDATE t SET k = 'k1' WHERE id = 'b'");
      await s.run("UPDATE t SET k = 'k2' WHERE id = 'a'");
    });
    await db.transaction(async (s) => {
      await s.run("DELETE FROM t WHERE id = 'a'");
      await s.run("INSERT INTO t VALUES ('c', 1, 'k2')");
      await s.run("UPDATE t SET k = 'k2', v = v + 1 WHERE id = 'c'");
      await s.run("UPDATE t SET k = 'k2', v = v + 1 WHERE id = 'c'");
    });
    for (let i = 0; i < 20; i++) await db.run("UPDATE t SET k = 'k1', v = v + 1 WHERE id = 'b'");
    expect(await db.all('SELECT id, v::INTEGER AS v, k FROM t ORDER BY id')).toEqual([
      { id: 'b', v: 21, k: 'k1' },
      { id: 'c', v: 3, k: 'k2' },
    ]);
    await expect(db.run("UPDATE t SET k = 'k1' WHERE id = 'c'")).rejects.toThrow(/Duplicate key/);
    await db.close();
  });
});
