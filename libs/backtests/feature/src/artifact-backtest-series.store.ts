import type {
  BacktestEquityPointDto,
  BacktestOrderDto,
  BacktestSeries,
  BacktestSeriesPage,
  BacktestSeriesStore,
  BacktestTradeDto,
} from '@strata/backtests-contracts';
import { orderDto, tradeDto } from '@strata/backtests-domain';
import {
  DuplicateKeyError,
  type ArtifactStore,
  type DocumentCollection,
  type DocumentStore,
} from '@strata/platform-contracts';

/** Collection of the series index documents: one per (run, attempt), naming the blob. */
export const BACKTEST_SERIES_COLLECTION = 'backtest_series';

/** Index document of one attempt's series. */
export interface BacktestSeriesDoc {
  runId: string;
  attempt: string;
  /** Artifact key of the blob (content-addressed). */
  key: string;
  /** Rows per series. */
  equity: number;
  trades: number;
  orders: number;
  /** Blob size, bytes. */
  bytes: number;
  /** When the blob was written (ISO-8601 UTC). */
  writtenAt: string;
}

/** A decoded blob: equity columns (drawdown derived once) and the trades and orders as served. */
interface DecodedSeries {
  n: number;
  ts: Float64Array;
  equity: Float64Array;
  cash: Float64Array;
  gross: Float64Array;
  net: Float64Array;
  positions: Float64Array;
  drawdown: Float64Array;
  trades: BacktestTradeDto[];
  orders: BacktestOrderDto[];
  bytes: number;
}

const MAGIC = 0x53425453; // 'STBS' little-endian
const VERSION = 1;
const HEADER_BYTES = 16;
const COLUMNS = 6;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Blob layout (little-endian): `u32 magic 'STBS'`, `u32 version`, `u32 n` (equity points), `u32 json bytes`; the JSON
 * `{ runId, attempt, trades, orders }` (trades and orders exactly as served); zero padding to 8 bytes; then six Float64
 * columns of `n`: ts (epoch ms UTC), equity, cash, gross, net, positions. Run id and attempt are inside, so two
 * attempts never share a blob (pruning one never removes the other's).
 */
export function encodeBacktestSeries(runId: string, attempt: string, series: BacktestSeries): Uint8Array {
  const c = series.curve;
  const n = c.ts.length;
  const json = utf8.encode(
    JSON.stringify({ runId, attempt, trades: series.trades.map(tradeDto), orders: series.orders.map(orderDto) }),
  );
  const colsAt = Math.ceil((HEADER_BYTES + json.length) / 8) * 8;
  const out = new Uint8Array(colsAt + COLUMNS * n * 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, n, true);
  view.setUint32(12, json.length, true);
  out.set(json, HEADER_BYTES);
  const cols = new Float64Array(out.buffer, colsAt, COLUMNS * n);
  [c.ts, c.equity, c.cash, c.gross, c.net, c.positions].forEach((col, j) => cols.set(col.subarray(0, n), j * n));
  return out;
}

/** Decodes {@link encodeBacktestSeries}; throws on a blob of another format. */
function decode(bytes: Uint8Array, what: string): DecodedSeries {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < HEADER_BYTES || view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== VERSION)
    throw new Error(`${what} is not a backtest series blob (version ${VERSION})`);
  const n = view.getUint32(8, true);
  const jsonBytes = view.getUint32(12, true);
  const colsAt = Math.ceil((HEADER_BYTES + jsonBytes) / 8) * 8;
  if (bytes.byteLength !== colsAt + COLUMNS * n * 8) throw new Error(`${what} is truncated`);
  const meta = JSON.parse(fromUtf8.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + jsonBytes))) as {
    trades: BacktestTradeDto[];
    orders: BacktestOrderDto[];
  };
  // One copy into an aligned buffer (the bytes may sit at any offset of a pooled Buffer).
  const cols = new Float64Array(COLUMNS * n);
  new Uint8Array(cols.buffer).set(bytes.subarray(colsAt));
  const col = (j: number) => cols.subarray(j * n, (j + 1) * n);
  const equity = col(1);
  const drawdown = new Float64Array(n);
  let peak = -Infinity;
  for (let i = 0; i < n; i++) {
    if (equity[i] > peak) peak = equity[i];
    drawdown[i] = 1 - equity[i] / peak;
  }
  return {
    n,
    ts: col(0),
    equity,
    cash: col(2),
    gross: col(3),
    net: col(4),
    positions: col(5),
    drawdown,
    trades: meta.trades,
    orders: meta.orders,
    bytes: bytes.byteLength,
  };
}

/** Index of the first row with `seq > after` in rows sorted by `seq`. */
function firstAfter(rows: readonly { seq: number }[], after: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid].seq > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Options of {@link ArtifactBacktestSeriesStore}. */
export interface ArtifactBacktestSeriesStoreOptions {
  /** Decoded blobs kept in memory for paging (least recently used dropped first; default 16). */
  cacheEntries?: number;
}

/**
 * Backtest series on the shared stores, usable by every replica of the split deployment and by the all-in-one alike:
 * one immutable blob per (run, attempt) in the artifact store ({@link encodeBacktestSeries}: Float64 equity columns,
 * trades and orders as JSON), and one index document per (run, attempt) in the document store (`backtest_series`:
 * the blob's key and the row counts). `write` puts the blob, then points the document at it (one atomic document
 * write, so a retried write never duplicates rows and readers see the old or the new series, never a mix). Reads
 * page from a small LRU of decoded blobs, so paging a run costs one blob fetch. `prune(runId, keep)` removes the
 * other attempts' documents and blobs.
 */
export class ArtifactBacktestSeriesStore implements BacktestSeriesStore {
  private readonly docs: DocumentCollection<BacktestSeriesDoc>;
  private readonly cache = new Map<string, DecodedSeries>();
  private readonly cacheEntries: number;

  constructor(
    private readonly artifacts: ArtifactStore,
    store: DocumentStore,
    opts: ArtifactBacktestSeriesStoreOptions = {},
  ) {
    this.docs = store.collection<BacktestSeriesDoc>({
      name: BACKTEST_SERIES_COLLECTION,
      indexes: [{ fields: ['runId', 'attempt'], unique: true }],
    });
    this.cacheEntries = Math.max(1, opts.cacheEntries ?? 16);
  }

  /** Replaces the series of (runId, attempt). Returns the rows written per series. */
  async write(
    runId: string,
    attempt: string,
    series: BacktestSeries,
  ): Promise<{ equity: number; trades: number; orders: number }> {
    const blob = encodeBacktestSeries(runId, attempt, series);
    const stored = await this.artifacts.put(blob, { extension: '.btseries' });
    const doc: BacktestSeriesDoc = {
      runId,
      attempt,
      key: stored.key,
      equity: series.curve.ts.length,
      trades: series.trades.length,
      orders: series.orders.length,
      bytes: stored.bytes,
      writtenAt: new Date().toISOString(),
    };
    const id = docId(runId, attempt);
    let previous: string | undefined;
    const replace = () =>
      this.docs.updateWithRetry(id, (cur) => {
        previous = cur.key;
        return { replace: doc };
      });
    if (await this.docs.get(id)) await replace();
    else {
      try {
        await this.docs.insert({ id, ...doc });
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
        await replace(); // a concurrent write of the same attempt got there first
      }
    }
    if (previous && previous !== stored.key) await this.dropBlob(previous);
    return { equity: doc.equity, trades: doc.trades, orders: doc.orders };
  }

  /** One page of the equity curve. */
  async readEquity(p: BacktestSeriesPage): Promise<BacktestEquityPointDto[]> {
    const s = await this.load(p.runId, p.attempt);
    if (!s) return [];
    const from = Math.max(0, Math.floor(p.after ?? -1) + 1);
    const to = Math.min(s.n, from + p.limit);
    const out: BacktestEquityPointDto[] = [];
    for (let i = from; i < to; i++) {
      out.push({
        seq: i,
        ts: new Date(s.ts[i]).toISOString(),
        equity: s.equity[i],
        cash: s.cash[i],
        grossExposure: s.gross[i],
        netExposure: s.net[i],
        drawdown: s.drawdown[i],
        positions: s.positions[i],
      });
    }
    return out;
  }

  /** One page of the closed trades. */
  async readTrades(p: BacktestSeriesPage): Promise<BacktestTradeDto[]> {
    const s = await this.load(p.runId, p.attempt);
    if (!s) return [];
    const from = firstAfter(s.trades, p.after ?? -Infinity);
    return s.trades.slice(from, from + p.limit);
  }

  /** One page of the orders (each with its fill). */
  async readOrders(p: BacktestSeriesPage): Promise<BacktestOrderDto[]> {
    const s = await this.load(p.runId, p.attempt);
    if (!s) return [];
    const from = firstAfter(s.orders, p.after ?? -Infinity);
    return s.orders.slice(from, from + p.limit);
  }

  /** Rows per series of one attempt, or summed over every attempt of the run (tests and checks). */
  async count(runId: string, attempt?: string): Promise<{ equity: number; trades: number; orders: number }> {
    const out = { equity: 0, trades: 0, orders: 0 };
    for (const d of await this.attempts(runId)) {
      if (attempt !== undefined && d.attempt !== attempt) continue;
      out.equity += d.equity;
      out.trades += d.trades;
      out.orders += d.orders;
    }
    return out;
  }

  /** Removes every attempt of `runId` except `keep` (all when undefined): documents and blobs. Returns rows removed. */
  async prune(runId: string, keep?: string): Promise<number> {
    let n = 0;
    for (const d of await this.attempts(runId)) {
      if (d.attempt === keep) continue;
      if (await this.docs.delete(d.id)) n += d.equity + d.trades + d.orders;
      await this.dropBlob(d.key);
    }
    return n;
  }

  private async attempts(runId: string) {
    const all = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof this.docs.page>> = await this.docs.page({
        filter: { runId },
        limit: 1000,
        cursor,
      });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all;
  }

  private async dropBlob(key: string): Promise<void> {
    this.cache.delete(key);
    await this.artifacts.delete(key);
  }

  /** The decoded series of an attempt, or null when it has none. */
  private async load(runId: string, attempt: string): Promise<DecodedSeries | null> {
    const doc = await this.docs.get(docId(runId, attempt));
    if (!doc) return null;
    const hit = this.cache.get(doc.key);
    if (hit) {
      // Refresh its place: Map iteration order is insertion order, the first entry is the least recently used.
      this.cache.delete(doc.key);
      this.cache.set(doc.key, hit);
      return hit;
    }
    const bytes = await this.artifacts.get(doc.key);
    if (!bytes) throw new Error(`backtest series of run ${runId} attempt ${attempt} is missing (${doc.key})`);
    const decoded = decode(bytes, doc.key);
    this.cache.set(doc.key, decoded);
    while (this.cache.size > this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    return decoded;
  }
}

const docId = (runId: string, attempt: string) => `${runId}~${attempt}`;
