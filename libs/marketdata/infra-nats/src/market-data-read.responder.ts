import type { NatsConnection } from '@nats-io/nats-core';
import {
  MarketDataNotFoundError,
  ReadBarsCommandV1,
  ReadCorrectionsCommandV1,
  ReadFeatureSetsCommandV1,
  ReadFeaturesCommandV1,
  ReadQualityFlagsCommandV1,
  ReadSeriesCommandV1,
  ReadSnapshotCommandV1,
  SnapshotPublishedV1,
  type MarketDataReader,
  type ReadReplyMeta,
  type Timeframe,
} from '@strata/marketdata-contracts';
import { BinaryReplyError, serveBinary, type BinaryReply } from '@strata/platform-bus';
import { artifactKey, type ArtifactStore, type EventBus, type PayloadOf } from '@strata/platform-contracts';
import { DEFAULT_INLINE_MAX_BYTES } from '@strata/shared-util';
import { encodeBarsWindow, encodeFeaturesWindow, encodeQualityFlags } from './arrow-windows.codec';
import type { SeriesChangeTracker } from './series-change.tracker';
import { sha256Hex } from './snapshot.cache';

/** Queue group of the read responders (replicas of the marketdata service share requests). */
export const MARKET_DATA_READ_QUEUE = 'marketdata__read';

/** What a window read replies with in `Strata-Reply-Meta` (`ReadReplySchema` of the contracts). */
export type WindowReplyMeta = ReadReplyMeta;

type What = 'bars' | 'features' | 'quality-flags';

interface CachedReply {
  version: string;
  symbol: string;
  timeframe: Timeframe;
  what: What;
  request: string;
  meta: WindowReplyMeta;
  /** The IPC of an inline reply (empty for snapshots: their bytes are in the snapshot memory). */
  body: Uint8Array;
}

/** What {@link MarketDataReadResponder} needs. */
export interface MarketDataReadResponderOptions {
  /** The NATS connection (`JetStreamEventBus.connection()`). */
  connection: NatsConnection;
  /** Where the data is: the in-process adapter (`InProcessMarketDataReader` of `@strata/marketdata-feature`). */
  reader: MarketDataReader;
  /** The snapshots bucket (`openArtifactStores(...).snapshots`, `strata-snapshots`). */
  snapshots: ArtifactStore;
  /**
   * Versions of the series, bumped by the writes of this process (wrap the stores with it). With it, replies are
   * cached per window and series version (a warm read costs a lookup), and a changed series' snapshotted windows are
   * rewritten and announced; without it, every read is recomputed.
   */
  tracker?: SeriesChangeTracker;
  /** Publishes `marketdata.evt.snapshot.published.v1` when a changed series' window is rewritten. */
  bus?: EventBus;
  /** Largest reply body sent inline, bytes (`STRATA_INLINE_MAX_BYTES`; default 256 KiB); larger ones are snapshots. */
  inlineMaxBytes?: number;
  /** Queue group (default {@link MARKET_DATA_READ_QUEUE}). */
  queue?: string;
  /** Subject prefix instead of `rpc` (tests on a shared server; readers must use the same). */
  subjectPrefix?: string;
  /** Windows remembered (default 256). */
  cacheEntries?: number;
  /** Bytes of recent snapshots kept in memory to serve `read.snapshot` ranges (default 256 MiB). */
  snapshotMemoryBytes?: number;
  /**
   * Longest wait before a new snapshot is written to the store, ms (default 2000); it is written as soon as its
   * requester has fetched the last range from this process.
   */
  snapshotWriteDelayMs?: number;
  /** Delay before a changed series' snapshots are rewritten, ms (default 250; coalesces a burst of writes). */
  republishDelayMs?: number;
  /** Where failures of background snapshot writes go (default: ignored). */
  onError?: (e: Error) => void;
}

/** JSON with sorted keys (a cache key that does not depend on the order the client wrote the fields in). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const EMPTY = new Uint8Array(0);

/**
 * Serves the `MarketDataReader` over NATS in the marketdata process: `marketdata.cmd.read.bars|features|
 * quality-flags.v1` answered as Arrow IPC (`read.series` and `read.feature-sets` as JSON) in a queue group.
 * - A window above `inlineMaxBytes` becomes an immutable snapshot: the reply names it (`snapshot`, the SHA-256 of its
 *   bytes) and the bytes are written once to the snapshots store, right after the requester has fetched them in
 *   parallel ranges from this process (`marketdata.cmd.read.snapshot.v1`), so a cold read does not wait for the
 *   store's write and read; other processes and later reads use the store.
 * - Every reply carries the window's SHA-256; a requester that already holds it (request meta `have`) gets an empty
 *   `notModified` reply: a warm read is one small round trip plus the reader's local lookup.
 * - Unknown series / sets answer `not_found`, bad requests `invalid_payload`.
 * See {@link MarketDataReadResponderOptions.tracker} for the window cache and the `snapshot.published` events.
 */
export class MarketDataReadResponder {
  private readonly stops: { stop(): Promise<void> }[] = [];
  private readonly cache = new Map<string, CachedReply>();
  private readonly snapshotBytes = new Map<string, Uint8Array>();
  private snapshotBytesTotal = 0;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly writes = new Set<Promise<unknown>>();
  private unsubscribe?: () => void;
  /** Counters: replies computed, answered from the window cache, not modified, snapshots written, events published. */
  readonly stats = { computed: 0, cached: 0, notModified: 0, snapshots: 0, published: 0 };
  /** Size of the last computed reply's Arrow IPC, bytes. */
  lastReplyBytes: number | undefined;
  /** Time the last computed reply took (read, encode, hash), ms. */
  lastComputeMs: number | undefined;

  constructor(private readonly opts: MarketDataReadResponderOptions) {}

  /** Keys of the snapshots behind the remembered windows (operators, benches). */
  snapshotKeys(): string[] {
    const keys = new Set<string>();
    for (const e of this.cache.values()) if (e.meta.snapshot) keys.add(e.meta.snapshot);
    return [...keys];
  }

  /** Forgets the snapshot bytes kept in memory (readers then fetch from the store). */
  dropSnapshotMemory(): void {
    this.snapshotBytes.clear();
    this.snapshotBytesTotal = 0;
  }

  /** Starts every deferred snapshot write and resolves when all are done. */
  async flush(): Promise<void> {
    for (const key of [...this.deferred.keys()]) this.startPut(key);
    await Promise.all([...this.writes]);
  }

  /** Subscribes the responders; resolves once the server has them. */
  async start(): Promise<void> {
    const { connection: nc } = this.opts;
    const o = { queue: this.opts.queue ?? MARKET_DATA_READ_QUEUE, subjectPrefix: this.opts.subjectPrefix };
    const json = (items: unknown[]): BinaryReply => ({
      body: new TextEncoder().encode(JSON.stringify(items)),
      meta: { rows: items.length },
    });
    this.stops.push(
      await serveBinary(nc, ReadBarsCommandV1, (r, m) => this.read('bars', r, m), o),
      await serveBinary(nc, ReadFeaturesCommandV1, (r, m) => this.read('features', r, m), o),
      await serveBinary(nc, ReadQualityFlagsCommandV1, (r, m) => this.read('quality-flags', r, m), o),
      await serveBinary(nc, ReadSeriesCommandV1, async (r) => json(await this.opts.reader.listSeries(r)), o),
      await serveBinary(
        nc,
        ReadFeatureSetsCommandV1,
        async (r) => json(await this.opts.reader.listFeatureSetVersions(r.name)),
        o,
      ),
      await serveBinary(nc, ReadCorrectionsCommandV1, async (r) => json(await this.opts.reader.listCorrections(r)), o),
      await serveBinary(nc, ReadSnapshotCommandV1, (r) => this.snapshotRange(r), o),
    );
    this.unsubscribe = this.opts.tracker?.onChange((c) => {
      if (!c.symbol) return this.cache.clear();
      const k = `${c.symbol}\u0000${c.timeframe ?? ''}`;
      clearTimeout(this.pending.get(k));
      this.pending.set(
        k,
        setTimeout(() => {
          this.pending.delete(k);
          void this.republish(c.symbol!, c.timeframe).catch((e: Error) => this.opts.onError?.(e));
        }, this.opts.republishDelayMs ?? 250),
      );
    });
  }

  /** Stops serving (in-flight requests and snapshot writes finish). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    await Promise.all(this.stops.splice(0).map((s) => s.stop()));
    await this.flush();
  }

  private async read(what: What, req: unknown, requestMeta: Record<string, unknown>): Promise<BinaryReply> {
    const entry = await this.window(what, req);
    if (typeof requestMeta.have === 'string' && requestMeta.have === entry.meta.sha256) {
      this.stats.notModified++;
      return { body: EMPTY, meta: { ...entry.meta, notModified: true } };
    }
    return { body: entry.body, meta: { ...entry.meta } };
  }

  /** The reply of a window: from the cache when the series has not changed since, else computed. */
  private async window(what: What, req: unknown): Promise<CachedReply> {
    const r = req as { symbol: string; timeframe: Timeframe };
    const request = canonical(req);
    const key = `${what}\u0000${request}`;
    const version = this.opts.tracker?.version(r.symbol, r.timeframe);
    const hit = version !== undefined ? this.cache.get(key) : undefined;
    if (hit && hit.version === version && (!hit.meta.snapshot || this.available(hit.meta.snapshot))) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      this.stats.cached++;
      return hit;
    }
    let computed: { meta: WindowReplyMeta; body: Uint8Array };
    try {
      computed = await this.compute(what, req);
    } catch (e) {
      if (e instanceof MarketDataNotFoundError) throw new BinaryReplyError('not_found', e.message);
      if (e instanceof RangeError) throw new BinaryReplyError('invalid_payload', e.message);
      throw e;
    }
    this.stats.computed++;
    const entry: CachedReply = {
      version: version ?? '',
      symbol: r.symbol,
      timeframe: r.timeframe,
      what,
      request,
      ...computed,
    };
    if (version !== undefined && this.opts.tracker!.version(r.symbol, r.timeframe) === version) {
      this.cache.set(key, entry);
      const max = this.opts.cacheEntries ?? 256;
      while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
    }
    return entry;
  }

  /** Whether a snapshot's bytes are in memory or being / been written (a cached entry naming it can be served). */
  private available(key: string): boolean {
    return this.snapshotBytes.has(key) || this.written.has(key) || this.deferred.has(key) || this.putting.has(key);
  }

  /** Snapshots stored (put completed), being stored, and waiting to be stored. */
  private readonly written = new Set<string>();
  private readonly putting = new Set<string>();
  private readonly deferred = new Map<string, { timer: NodeJS.Timeout; bytes: Uint8Array }>();

  /** Starts the (idempotent) store write of a deferred snapshot. */
  private startPut(key: string): void {
    const d = this.deferred.get(key);
    if (!d) return;
    clearTimeout(d.timer);
    this.deferred.delete(key);
    // Idempotent: the store skips bytes it already holds under the key.
    const write = this.opts.snapshots
      .put(d.bytes, { extension: '.arrow' })
      .then(() => {
        this.written.add(key);
        this.stats.snapshots++;
      })
      .catch((e: Error) => {
        this.written.delete(key);
        this.opts.onError?.(e);
      })
      .finally(() => {
        this.putting.delete(key);
        this.writes.delete(write);
      });
    this.putting.add(key);
    this.writes.add(write);
  }

  private async compute(what: What, req: unknown): Promise<{ meta: WindowReplyMeta; body: Uint8Array }> {
    const reader = this.opts.reader;
    const t0 = performance.now();
    let bytes: Uint8Array;
    let rows: number;
    if (what === 'bars') {
      const w = await reader.getBars(req as PayloadOf<typeof ReadBarsCommandV1>);
      bytes = encodeBarsWindow(w);
      rows = w.bars.length;
    } else if (what === 'features') {
      const r = req as PayloadOf<typeof ReadFeaturesCommandV1>;
      const w = await reader.getFeatures({ ...r, asOf: r.asOf ? Float64Array.from(r.asOf) : undefined });
      bytes = encodeFeaturesWindow(w);
      rows = w.ts.length;
    } else {
      const r = req as PayloadOf<typeof ReadQualityFlagsCommandV1>;
      const flags = await reader.getQualityFlags(r);
      bytes = encodeQualityFlags(r.symbol, r.timeframe, flags);
      rows = flags.length;
    }
    this.lastReplyBytes = bytes.byteLength;
    const sha256 = sha256Hex(bytes);
    this.lastComputeMs = performance.now() - t0;
    const inlineMax = this.opts.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
    if (bytes.byteLength <= inlineMax) return { meta: { rows, bytes: bytes.byteLength, sha256 }, body: bytes };
    const key = artifactKey(sha256, '.arrow');
    this.keepSnapshot(key, bytes);
    if (!this.putting.has(key) && !this.deferred.has(key)) {
      // Written once the requester has fetched its ranges (or after `snapshotWriteDelayMs`), so the store's write
      // does not compete with the cold read it follows.
      const timer = setTimeout(() => this.startPut(key), this.opts.snapshotWriteDelayMs ?? 2000);
      this.deferred.set(key, { timer, bytes });
    }
    return {
      meta: { rows, bytes: bytes.byteLength, sha256, snapshot: key, chunkBytes: inlineMax },
      body: EMPTY,
    };
  }

  private keepSnapshot(key: string, bytes: Uint8Array): void {
    const max = this.opts.snapshotMemoryBytes ?? 256 * 1024 * 1024;
    if (bytes.byteLength > max) return;
    const old = this.snapshotBytes.get(key);
    if (old) {
      this.snapshotBytes.delete(key);
      this.snapshotBytesTotal -= old.byteLength;
    }
    this.snapshotBytes.set(key, bytes);
    this.snapshotBytesTotal += bytes.byteLength;
    while (this.snapshotBytesTotal > max) {
      const [k, b] = this.snapshotBytes.entries().next().value as [string, Uint8Array];
      this.snapshotBytes.delete(k);
      this.snapshotBytesTotal -= b.byteLength;
    }
  }

  /** A byte range of a snapshot this process holds in memory; `not_found` otherwise (read it from the store). */
  private async snapshotRange(r: PayloadOf<typeof ReadSnapshotCommandV1>): Promise<BinaryReply> {
    const bytes = this.snapshotBytes.get(r.key);
    if (!bytes) throw new BinaryReplyError('not_found', `snapshot ${r.key} is not held by this process`);
    const maxRange = this.opts.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
    if (r.length > maxRange) throw new BinaryReplyError('invalid_payload', `ranges are at most ${maxRange} bytes`);
    if (r.offset > bytes.byteLength) throw new BinaryReplyError('invalid_payload', 'offset past the snapshot');
    const end = Math.min(bytes.byteLength, r.offset + r.length);
    if (end === bytes.byteLength && this.deferred.has(r.key)) {
      const d = this.deferred.get(r.key)!;
      clearTimeout(d.timer);
      d.timer = setTimeout(() => this.startPut(r.key), 100); // the tail is out: store it right after this read
    }
    return { body: bytes.subarray(r.offset, end), meta: {} };
  }

  /** Rewrites the snapshotted windows of a changed series and announces each new snapshot. */
  private async republish(symbol: string, timeframe: Timeframe | undefined): Promise<void> {
    const affected = [...this.cache.values()]
      .filter((e) => e.symbol === symbol && (timeframe === undefined || e.timeframe === timeframe))
      .filter((e) => e.meta.snapshot !== undefined)
      .slice(-8);
    for (const e of affected) {
      const next = await this.window(e.what, JSON.parse(e.request)).catch(() => undefined);
      await this.flush();
      if (!next?.meta.snapshot || next.meta.snapshot === e.meta.snapshot || !this.opts.bus) continue;
      await this.opts.bus.publish(SnapshotPublishedV1, {
        symbol: e.symbol,
        timeframe: e.timeframe,
        what: e.what,
        request: e.request,
        key: next.meta.snapshot,
        sha256: next.meta.sha256,
        bytes: next.meta.bytes,
        rows: next.meta.rows,
      });
      this.stats.published++;
    }
  }
}
