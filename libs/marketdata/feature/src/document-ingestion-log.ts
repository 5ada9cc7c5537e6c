import { DuplicateKeyError, type DocumentCollection, type DocumentStore } from '@strata/platform-contracts';
import {
  type IngestResult,
  type RejectedRow,
  type Timeframe,
  DuplicateIngestionError,
  type IngestionLog,
  type IngestionRecord,
} from '@strata/marketdata-contracts';

/** Rejected rows kept inside the ingestion document; more go to `ingestion_rejects` in chunks. */
export const INLINE_REJECTS = 500;
/** Rejected rows per chunk document (≈ 150 B each, far below MongoDB's 16 MiB document limit). */
export const REJECTS_PER_CHUNK = 5_000;

/** Stored shape of one ingestion. `dedupKey` is unique: `completed:<symbol>:<timeframe>:<hash>` or `<status>:<id>`. */
interface IngestionDoc extends Omit<IngestionRecord, 'id'> {
  dedupKey: string;
  /** Number of documents in `ingestion_rejects` holding the rejects after the inline ones. */
  rejectChunks: number;
}

interface RejectChunkDoc {
  ingestionId: string;
  chunk: number;
  rejects: RejectedRow[];
}

/** Filter of {@link DocumentIngestionLog.list}. */
export interface IngestionListQuery {
  symbol?: string;
  timeframe?: Timeframe;
  status?: IngestResult['status'];
  /** Only ingestions recorded at or after this ISO-8601 instant. */
  from?: string;
  /** Only ingestions recorded before this ISO-8601 instant. */
  to?: string;
  limit: number;
  cursor?: string | null;
}

function dedupKey(r: Pick<IngestionRecord, 'id' | 'status' | 'symbol' | 'timeframe' | 'contentHash'>): string {
  // Only completed batches compete for the key; duplicate and failed records get a key of their own.
  return r.status === 'completed' ? `completed:${r.symbol}:${r.timeframe}:${r.contentHash}` : `${r.status}:${r.id}`;
}

/**
 * {@link IngestionLog} on the document-store port (MongoDB in production, embedded DuckDB by default). The
 * uniqueness of completed batches is a unique index on `dedupKey`, so two concurrent ingests of one file cannot both
 * commit, on either adapter and across replicas. Rejected rows are all kept: the first {@link INLINE_REJECTS} in the
 * record, the rest in chunk documents written before the record, so a record never points at missing rows.
 */
export class DocumentIngestionLog implements IngestionLog {
  private readonly ingestions: DocumentCollection<IngestionDoc>;
  private readonly rejectChunks: DocumentCollection<RejectChunkDoc>;

  constructor(store: DocumentStore) {
    this.ingestions = store.collection<IngestionDoc>({
      name: 'ingestions',
      indexes: [
        { fields: ['dedupKey'], unique: true },
        { fields: ['symbol', 'timeframe', 'recordedAt'] },
        { fields: ['status', 'recordedAt'] },
      ],
    });
    this.rejectChunks = store.collection<RejectChunkDoc>({
      name: 'ingestion_rejects',
      indexes: [{ fields: ['ingestionId', 'chunk'], unique: true }],
    });
  }

  async record(entry: IngestionRecord): Promise<void> {
    const { id, rejects, ...rest } = entry;
    const overflow = rejects.length > INLINE_REJECTS ? rejects.slice(INLINE_REJECTS) : [];
    const written: string[] = [];
    try {
      for (let i = 0; i * REJECTS_PER_CHUNK < overflow.length; i++) {
        const chunkId = `${id}:${i}`;
        await this.rejectChunks.insert({
          id: chunkId,
          ingestionId: id,
          chunk: i,
          rejects: overflow.slice(i * REJECTS_PER_CHUNK, (i + 1) * REJECTS_PER_CHUNK),
        });
        written.push(chunkId);
      }
      await this.ingestions.insert({
        id,
        ...rest,
        rejects: rejects.slice(0, INLINE_REJECTS),
        rejectChunks: written.length,
        dedupKey: dedupKey(entry),
      });
    } catch (err) {
      for (const chunkId of written) await this.rejectChunks.delete(chunkId);
      if (err instanceof DuplicateKeyError && err.index === 'dedupKey_uniq') {
        const existing = await this.ingestions.findOne({ dedupKey: dedupKey(entry) });
        // The holder can only vanish if someone deleted it meanwhile; then report the conflict as it was seen.
        throw new DuplicateIngestionError(existing?.id ?? 'unknown');
      }
      if (err instanceof DuplicateKeyError) throw new Error(`ingestion ${id} is recorded already`);
      throw err;
    }
  }

  async findCompletedByContentHash(
    symbol: string,
    timeframe: Timeframe,
    contentHash: string,
  ): Promise<IngestionRecord | undefined> {
    const doc = await this.ingestions.findOne({
      dedupKey: dedupKey({ id: '', status: 'completed', symbol, timeframe, contentHash }),
    });
    return doc ? this.toRecord(doc) : undefined;
  }

  async get(id: string): Promise<IngestionRecord | undefined> {
    const doc = await this.ingestions.get(id);
    return doc ? this.toRecord(doc) : undefined;
  }

  /**
   * Ingestions, newest first (by `recordedAt`, then id), filtered by symbol, timeframe, status and time range.
   * Items carry only their inline rejects (`rejects` may be shorter than `rejected`); `get` returns them all.
   */
  async list(q: IngestionListQuery): Promise<{ items: IngestionRecord[]; nextCursor: string | null }> {
    const recordedAt =
      q.from || q.to ? { ...(q.from ? { $gte: q.from } : {}), ...(q.to ? { $lt: q.to } : {}) } : undefined;
    const page = await this.ingestions.page({
      filter: { symbol: q.symbol, timeframe: q.timeframe, status: q.status, recordedAt },
      sort: { field: 'recordedAt', direction: 'desc' },
      limit: q.limit,
      cursor: q.cursor,
    });
    return { items: page.items.map((d) => this.strip(d, d.rejects)), nextCursor: page.nextCursor };
  }

  private async toRecord(doc: IngestionDoc & { id: string }): Promise<IngestionRecord> {
    const rejects = [...doc.rejects];
    for (let i = 0; i < doc.rejectChunks; i++) {
      const chunk = await this.rejectChunks.get(`${doc.id}:${i}`);
      if (!chunk) throw new Error(`ingestion ${doc.id}: rejected rows chunk ${i} is missing`);
      rejects.push(...chunk.rejects);
    }
    return this.strip(doc, rejects);
  }

  private strip(doc: IngestionDoc & { id: string }, rejects: RejectedRow[]): IngestionRecord {
    const {
      dedupKey: _k,
      rejectChunks: _c,
      _version,
      ...record
    } = doc as IngestionDoc & { id: string; _version?: number };
    return { ...record, rejects } as IngestionRecord;
  }
}
