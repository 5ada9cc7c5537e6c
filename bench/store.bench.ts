/*
 * bench:store — the document-store port on its adapters, same workload on each:
 * - insert: N sequential inserts into a collection with a unique and a compound index (docs/s);
 * - get: N point reads by id (p50 / p99 µs);
 * - page: walking every page (100 per page) of a filtered, sorted query over the N documents (ms, docs/s);
 * - count: one filtered count (ms);
 * - contention: 50 concurrent updateWithRetry increments of one document (ms; the result is checked = 50).
 * Adapters: embedded DuckDB in memory and on a file (always); mongoose on MONGODB_URI when set (FerretDB in CI,
 * whose numbers include its lock-based compare-and-swap, see docs/ferretdb.md).
 *
 * FerretDB v1 on SQLite scans the whole table for every query (no index is used, see docs/ferretdb.md), so the
 * MongoDB run uses BENCH_MONGO_DOCS documents (default 300); compare adapters per operation, not per total.
 *
 * Env: BENCH_DOCS (default 5000), BENCH_MONGO_DOCS (default 300), MONGODB_URI. Run: npm run bench:store
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DocumentStore } from '@strata/platform-contracts';
import { DuckDb } from '@strata/platform-duckdb';
import { DuckDbDocumentStore, MongoDocumentStore } from '@strata/platform-document-store';

interface Event {
  symbol: string;
  severity: number;
  status: string;
  at: string;
  seq: number;
  payload: { note: string; values: number[] };
}

const DUCK_DOCS = Number(process.env.BENCH_DOCS ?? 5000);
const MONGO_DOCS = Number(process.env.BENCH_MONGO_DOCS ?? 300);
const SYMBOLS = ['SPY', 'QQQ', 'IWM', 'TLT', 'GLD'];

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(store: DocumentStore, N: number): Promise<Record<string, number>> {
  const col = store.collection<Event>({
    name: 'bench_events',
    indexes: [{ fields: ['seq'], unique: true }, { fields: ['symbol', 'at'] }],
  });
  await store.ready();
  const ids: string[] = [];
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    const doc = await col.insert({
      symbol: SYMBOLS[i % SYMBOLS.length],
      severity: i % 4,
      status: i % 3 ? 'open' : 'closed',
      at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
      seq: i,
      payload: { note: `event ${i}`, values: [i, i / 2, i / 3] },
    });
    ids.push(doc.id);
  }
  const insertMs = performance.now() - t;

  const lat: number[] = [];
  for (let i = 0; i < N; i++) {
    const id = ids[(i * 7919) % N];
    const t0 = performance.now();
    await col.get(id);
    lat.push((performance.now() - t0) * 1000);
  }
  lat.sort((a, b) => a - b);

  t = performance.now();
  let seen = 0;
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof col.page>> = await col.page({
      filter: { symbol: { $in: ['SPY', 'QQQ'] }, severity: { $gte: 1 } },
      sort: { field: 'at', direction: 'desc' },
      limit: 100,
      cursor,
    });
    seen += page.items.length;
    cursor = page.nextCursor;
  } while (cursor);
  const pageMs = performance.now() - t;

  t = performance.now();
  const counted = await col.count({ status: 'open', severity: { $lt: 2 } });
  const countMs = performance.now() - t;

  const counter = await col.insert({
    symbol: 'X',
    severity: 0,
    status: 'c',
    at: new Date().toISOString(),
    seq: -1,
    payload: { note: '', values: [] },
  });
  t = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, () => col.updateWithRetry(counter.id, (c) => ({ set: { severity: c.severity + 1 } }))),
  );
  const contentionMs = performance.now() - t;
  const final = await col.get(counter.id);
  if (final?.severity !== 50) throw new Error(`lost updates: ${final?.severity}`);

  return {
    docs: N,
    insertDocsPerS: Math.round(N / (insertMs / 1000)),
    getP50Us: Math.round(pct(lat, 50)),
    getP99Us: Math.round(pct(lat, 99)),
    pageWalkMs: Math.round(pageMs),
    pageDocs: seen,
    countMs: Math.round(countMs * 10) / 10,
    counted,
    contention50Ms: Math.round(contentionMs),
  };
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, number>> = {};
  const mem = new DuckDbDocumentStore(await DuckDb.create(':memory:'));
  results.duckdbMemory = await run(mem, DUCK_DOCS);
  await mem.close();

  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-store-'));
  try {
    const file = new DuckDbDocumentStore(await DuckDb.create(join(dir, 'strata.duckdb')));
    results.duckdbFile = await run(file, DUCK_DOCS);
    await file.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  if (process.env.MONGODB_URI) {
    const mongo = await MongoDocumentStore.connect({
      uri: process.env.MONGODB_URI,
      dbName: `strata_bench_${process.pid}`,
      logger: { warn: () => undefined },
    });
    try {
      results[mongo.ferretDbVersion ? 'ferretdb' : 'mongodb'] = await run(mongo, MONGO_DOCS);
    } finally {
      await mongo.connection.dropDatabase();
      await mongo.close();
    }
  }
  process.stdout.write(
    `${JSON.stringify({ bench: 'store', ...results, machine: { cpus: cpus().length, node: process.version } })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
