import type { NatsConnection } from '@nats-io/nats-core';
import {
  MarketDataNotFoundError,
  ReadBarsCommandV1,
  ReadFeatureSetsCommandV1,
  ReadFeaturesCommandV1,
  ReadQualityFlagsCommandV1,
  ReadSeriesCommandV1,
  SnapshotPublishedV1,
  type MarketDataReader,
  type Timeframe,
} from '@strata/marketdata-contracts';
import { BinaryReplyError, serveBinary, type BinaryReply } from '@strata/platform-bus';
import type { ArtifactStore, CommandDefinition, EventBus, PayloadOf } from '@strata/platform-contracts';
import { encodeBarsWindow, encodeFeaturesWindow, encodeQualityFlags } from './arrow-windows.codec';
import { DEFAULT_INLINE_MAX_BYTES } from '@strata/shared-util';
import type { SeriesChangeTracker } from './series-change.tracker';

/** Queue group of the read responders (replicas of the marketdata service share requests). */
export const MARKET_DATA_READ_QUEUE = 'marketdata__read';

type What = 'bars' | 'features' | 'quality-flags';

interface CachedReply {
  version: string;
  symbol: string;
  timeframe: Timeframe;
  what: What;
  request: string;
  reply: BinaryReply;
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
  /** Delay before a changed series' snapshots are rewritten, ms (default 250; coalesces a burst of writes). */
  republishDelayMs?: number;
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

/**
 * Serves the `MarketDataReader` over NATS in the marketdata process: `marketdata.cmd.read.bars|features|
 * quality-flags.v1` answered as Arrow IPC (`marketdata.cmd.read.series.v1` as JSON) in a queue group. A reply above
 * `inlineMaxBytes` is written once to the snapshots store under the SHA-256 of its bytes and the reply names it
 * (`snapshot` in the `Strata-Reply-Meta` header). Unknown series / sets answer `not_found`, bad requests
 * `invalid_payload`. See {@link MarketDataReadResponderOptions.tracker} for the window cache and the
 * `snapshot.published` events.
 */
export class MarketDataReadResponder {
  private readonly stops: { stop(): Promise<void> }[] = [];
  private readonly cache = new Map<string, CachedReply>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private unsubscribe?: () => void;
  /** Counters: replies computed, answered from the window cache, snapshots written, events published. */
  readonly stats = { computed: 0, cached: 0, snapshots: 0, published: 0 };

  constructor(private readonly opts: MarketDataReadResponderOptions) {}

  /** Subscribes the responders; resolves once the server has them. */
  async start(): Promise<void> {
    const { connection: nc } = this.opts;
    const queue = this.opts.queue ?? MARKET_DATA_READ_QUEUE;
    const subjectPrefix = this.opts.subjectPrefix;
    this.stops.push(
      await serveBinary(nc, ReadBarsCommandV1, (r) => this.read('bars', r, ReadBarsCommandV1), {
        queue,
        subjectPrefix,
      }),
      await serveBinary(nc, ReadFeaturesCommandV1, (r) => this.read('features', r, ReadFeaturesCommandV1), {
        queue,
        subjectPrefix,
      }),
      await serveBinary(
        nc,
        ReadQualityFlagsCommandV1,
        (r) => this.read('quality-flags', r, ReadQualityFlagsCommandV1),
        { queue, subjectPrefix },
      ),
      await serveBinary(
        nc,
        ReadSeriesCommandV1,
        async (r) => {
          const items = await this.opts.reader.listSeries(r);
          return { body: new TextEncoder().encode(JSON.stringify(items)), meta: { rows: items.length } };
        },
        { queue, subjectPrefix },
      ),
      await serveBinary(
        nc,
        ReadFeatureSetsCommandV1,
        async (r) => {
          const items = await this.opts.reader.listFeatureSetVersions(r.name);
          return { body: new TextEncoder().encode(JSON.stringify(items)), meta: { rows: items.length } };
        },
        { queue, subjectPrefix },
      ),
    );
    this.unsubscribe = this.opts.tracker?.onChange((c) => {
      if (!c.symbol) return this.cache.clear();
      const k = `${c.symbol}\u0000${c.timeframe ?? ''}`;
      clearTimeout(this.pending.get(k));
      this.pending.set(
        k,
        setTimeout(() => {
          this.pending.delete(k);
          void this.republish(c.symbol!, c.timeframe).catch(() => undefined);
        }, this.opts.republishDelayMs ?? 250),
      );
    });
  }

  /** Stops serving (in-flight requests finish). */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
    await Promise.all(this.stops.splice(0).map((s) => s.stop()));
  }

  private async read<D extends CommandDefinition>(what: What, req: PayloadOf<D>, _def: D): Promise<BinaryReply> {
    const r = req as { symbol: string; timeframe: Timeframe };
    const request = canonical(req);
    const key = `${what}\u0000${request}`;
    const version = this.opts.tracker?.version(r.symbol, r.timeframe);
    const hit = version !== undefined ? this.cache.get(key) : undefined;
    if (hit && hit.version === version) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      this.stats.cached++;
      return hit.reply;
    }
    let reply: BinaryReply;
    try {
      reply = await this.compute(what, req);
    } catch (e) {
      if (e instanceof MarketDataNotFoundError) throw new BinaryReplyError('not_found', e.message);
      if (e instanceof RangeError) throw new BinaryReplyError('invalid_payload', e.message);
      throw e;
    }
    this.stats.computed++;
    if (version !== undefined && this.opts.tracker!.version(r.symbol, r.timeframe) === version) {
      this.cache.set(key, { version, symbol: r.symbol, timeframe: r.timeframe, what, request, reply });
      const max = this.opts.cacheEntries ?? 256;
      while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
    }
    return reply;
  }

  private async compute(what: What, req: unknown): Promise<BinaryReply> {
    const reader = this.opts.reader;
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
    if (bytes.byteLength <= (this.opts.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES))
      return { body: bytes, meta: { rows, bytes: bytes.byteLength } };
    const stored = await this.opts.snapshots.put(bytes, { extension: '.arrow' });
    this.stats.snapshots++;
    return {
      body: new Uint8Array(0),
      meta: { rows, bytes: bytes.byteLength, snapshot: stored.key, sha256: stored.sha256 },
    };
  }

  /** Rewrites the snapshotted windows of a changed series and announces each new snapshot. */
  private async republish(symbol: string, timeframe: Timeframe | undefined): Promise<void> {
    const affected = [...this.cache.values()]
      .filter((e) => e.symbol === symbol && (timeframe === undefined || e.timeframe === timeframe))
      .filter((e) => typeof e.reply.meta.snapshot === 'string')
      .slice(-8);
    for (const e of affected) {
      const reply = await this.read(e.what, JSON.parse(e.request) as never, ReadBarsCommandV1).catch(() => undefined);
      const meta = reply?.meta as { snapshot?: string; sha256?: string; bytes: number; rows: number } | undefined;
      if (!meta?.snapshot || meta.snapshot === e.reply.meta.snapshot || !this.opts.bus) continue;
      await this.opts.bus.publish(SnapshotPublishedV1, {
        symbol: e.symbol,
        timeframe: e.timeframe,
        what: e.what,
        request: e.request,
        key: meta.snapshot,
        sha256: meta.sha256!,
        bytes: meta.bytes,
        rows: meta.rows,
      });
      this.stats.published++;
    }
  }
}
