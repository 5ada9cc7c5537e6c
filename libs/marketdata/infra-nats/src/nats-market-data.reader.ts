import type { NatsConnection } from '@nats-io/nats-core';
import {
  MarketDataNotFoundError,
  ReadBarsCommandV1,
  ReadReplySchema,
  ReadCorrectionsCommandV1,
  type BarCorrection,
  ReadFeatureSetsCommandV1,
  ReadFeaturesCommandV1,
  type FeatureSetVersion,
  ReadQualityFlagsCommandV1,
  ReadSeriesCommandV1,
  ReadSnapshotCommandV1,
  type BarQualityFlag,
  type BarsRequest,
  type BarsWindow,
  type FeaturesRequest,
  type FeaturesWindow,
  type MarketDataReader,
  type QualityFlagsRequest,
  type SymbolSeries,
  type Timeframe,
} from '@strata/marketdata-contracts';
import { BinaryRequestError, BusError, requestBinary, type BinaryReply } from '@strata/platform-bus';
import type { ArtifactStore, CommandDefinition } from '@strata/platform-contracts';
import { decodeBarsWindow, decodeFeaturesWindow, decodeQualityFlags } from './arrow-windows.codec';
import type { WindowReplyMeta } from './market-data-read.responder';
import { SnapshotCache, type SnapshotSource } from './snapshot.cache';

/** What {@link NatsMarketDataReader} needs. */
export interface NatsMarketDataReaderOptions {
  /** The NATS connection (`JetStreamEventBus.connection()`). */
  connection: NatsConnection;
  /** The snapshots bucket (`openArtifactStores(...).snapshots`), where replies above the inline limit are. */
  snapshots: ArtifactStore;
  /** Directory of the local snapshot cache (e.g. `<STRATA_DATA_DIR>/snapshot-cache`). */
  cacheDir: string;
  /** Reply timeout, ms (default 10 000); a marketdata service that does not answer → `BusError('timeout')`. */
  timeoutMs?: number;
  /** Decoded windows kept in memory (default 8). */
  memoryEntries?: number;
  /** Parallel range requests when fetching a fresh snapshot from the marketdata service (default 8). */
  fetchConcurrency?: number;
  /** Subject prefix instead of `rpc` (tests on a shared server; the responder must use the same). */
  subjectPrefix?: string;
}

/**
 * The bus adapter of the {@link MarketDataReader} port, for every process but the marketdata service: request/reply
 * on `marketdata.cmd.read.*.v1`, Arrow IPC replies decoded into typed-array views (no per-row objects), large
 * windows fetched once from the snapshots store and cached locally by content hash (see {@link SnapshotCache}).
 * Errors: an unknown series / set / version → {@link MarketDataNotFoundError}; nobody serving →
 * `BusError('no_responders')`; no reply in time → `BusError('timeout')` (callers map both to 503). A repeated read
 * sends the content hash it holds and gets an empty `notModified` reply when the window has not changed (one small
 * round trip plus a lookup). A fresh snapshot is fetched from the marketdata service in parallel ranges, else from
 * the snapshots store. Windows served from the cache are shared: treat the arrays as read-only.
 */
export class NatsMarketDataReader implements MarketDataReader {
  readonly cache: SnapshotCache;
  /** Content hash of the last reply per request, so a repeated read can say which window it holds. */
  private readonly known = new Map<string, string>();
  /** Where the last snapshot read came from (`inline` when the reply carried the window). */
  lastSource: SnapshotSource | 'inline' | undefined;

  constructor(private readonly opts: NatsMarketDataReaderOptions) {
    this.cache = new SnapshotCache({
      dir: opts.cacheDir,
      snapshots: opts.snapshots,
      memoryEntries: opts.memoryEntries,
    });
  }

  /** Bars of one series, adjusted as asked (default `total`). */
  getBars(req: BarsRequest): Promise<BarsWindow> {
    return this.read(
      ReadBarsCommandV1,
      {
        symbol: req.symbol,
        timeframe: req.timeframe,
        from: req.from,
        to: req.to,
        after: req.after,
        limit: req.limit,
        adjust: req.adjust,
      },
      'bars',
      decodeBarsWindow,
    );
  }

  /** Feature values of one set version over a window or as of event times. */
  getFeatures(req: FeaturesRequest): Promise<FeaturesWindow> {
    return this.read(
      ReadFeaturesCommandV1,
      {
        symbol: req.symbol,
        timeframe: req.timeframe,
        from: req.from,
        to: req.to,
        after: req.after,
        limit: req.limit,
        set: req.set,
        version: req.version,
        qualityFilter: req.qualityFilter,
        asOf: req.asOf ? Array.from(req.asOf) : undefined,
      },
      'features',
      decodeFeaturesWindow,
    );
  }

  /** Registered feature-set versions (of one set when `name` is given), by name and version. */
  async listFeatureSetVersions(name?: string): Promise<FeatureSetVersion[]> {
    const reply = await this.request(ReadFeatureSetsCommandV1, name === undefined ? {} : { name });
    return JSON.parse(new TextDecoder().decode(reply.body)) as FeatureSetVersion[];
  }

  /** Bar-quality flags of one series, ascending by `ts`. */
  getQualityFlags(req: QualityFlagsRequest): Promise<BarQualityFlag[]> {
    return this.read(
      ReadQualityFlagsCommandV1,
      { symbol: req.symbol, timeframe: req.timeframe, from: req.from, to: req.to, statuses: req.statuses?.slice() },
      'quality-flags',
      decodeQualityFlags,
    );
  }

  /** Correction audit records of one series, newest first. */
  async listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]> {
    const reply = await this.request(ReadCorrectionsCommandV1, opts);
    return JSON.parse(new TextDecoder().decode(reply.body)) as BarCorrection[];
  }

  /** Stored series, paged by (symbol, timeframe). */
  async listSeries(opts: {
    after?: { symbol: string; timeframe: string };
    limit: number;
    symbol?: string;
  }): Promise<SymbolSeries[]> {
    const reply = await this.request(ReadSeriesCommandV1, opts);
    return JSON.parse(new TextDecoder().decode(reply.body)) as SymbolSeries[];
  }

  private async read<T, R>(
    def: CommandDefinition<string, T, unknown>,
    req: T,
    kind: string,
    decode: (bytes: Uint8Array) => R,
  ): Promise<R> {
    const requestKey = `${kind}\u0000${JSON.stringify(req)}`;
    const have = this.known.get(requestKey);
    const held = have !== undefined && this.cache.has(kind, have);
    const reply = await this.request(def, req, held ? { have } : undefined);
    const parsed = ReadReplySchema.safeParse(reply.meta);
    if (!parsed.success)
      throw new BusError(
        'invalid_reply',
        `invalid ${def.subject} reply metadata: ${parsed.error.message}`,
        def.subject,
      );
    const meta: WindowReplyMeta = parsed.data;
    if (meta.notModified) {
      const value = this.cache.peek<R>(kind, meta.sha256);
      if (value !== undefined) {
        this.lastSource = 'memory';
        return value;
      }
      return this.read(def, req, kind, decode); // evicted in the meantime: ask for the bytes
    }
    this.known.delete(requestKey);
    this.known.set(requestKey, meta.sha256);
    while (this.known.size > 1024) this.known.delete(this.known.keys().next().value as string);
    if (typeof meta.snapshot !== 'string') {
      this.lastSource = 'inline';
      const value = decode(reply.body);
      this.cache.remember(kind, meta.sha256, value, reply.body.byteLength);
      return value;
    }
    const { value, source } = await this.cache.get(meta.snapshot, kind, decode, (key) =>
      this.fetchFromService(key, meta),
    );
    this.lastSource = source;
    return value;
  }

  /**
   * A fresh snapshot straight from the marketdata service, in parallel ranges (`read.snapshot`); null when the
   * service no longer holds it (the cache then reads the store). The cache verifies the hash.
   */
  private async fetchFromService(key: string, meta: WindowReplyMeta): Promise<Uint8Array | null> {
    const chunk = meta.chunkBytes;
    if (!chunk) return null;
    const out = new Uint8Array(meta.bytes);
    let next = 0;
    let missing = false;
    const worker = async (): Promise<void> => {
      while (!missing && next < meta.bytes) {
        const offset = next;
        next += chunk;
        const length = Math.min(chunk, meta.bytes - offset);
        try {
          const r = await this.request(ReadSnapshotCommandV1, { key, offset, length });
          if (r.body.byteLength !== length) throw new Error(`snapshot ${key}: short range at ${offset}`);
          out.set(r.body, offset);
        } catch (e) {
          if (e instanceof MarketDataNotFoundError) missing = true;
          else throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: this.opts.fetchConcurrency ?? 8 }, worker));
    return missing ? null : out;
  }

  private async request<T>(
    def: CommandDefinition<string, T, unknown>,
    data: T,
    meta?: Record<string, unknown>,
  ): Promise<BinaryReply> {
    try {
      return await requestBinary(this.opts.connection, def, stripUndefined(data), {
        timeoutMs: this.opts.timeoutMs ?? 10_000,
        subjectPrefix: this.opts.subjectPrefix,
        meta,
      });
    } catch (e) {
      if (e instanceof BinaryRequestError && e.remoteCode === 'not_found') throw new MarketDataNotFoundError(e.message);
      throw e;
    }
  }
}

function stripUndefined<T>(v: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = x;
  return out as T;
}
