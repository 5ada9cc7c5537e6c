import { type IngestResult, type Timeframe } from './marketdata.contracts';

/** One ingest as recorded: the result plus who asked and when. Times are ISO-8601 UTC. */
export interface IngestionRecord extends IngestResult {
  /** When the ingest finished. */
  recordedAt: string;
  /** Key id of the caller (`key_…`), when known. */
  requestedBy?: string;
  /** Correlation id of the command that caused it. */
  correlationId?: string;
}

/**
 * Raised by {@link IngestionLog.record} when a `completed` record with the same symbol, timeframe and content hash
 * exists already (the unique key of committed batches). `existingId` names it.
 */
export class DuplicateIngestionError extends Error {
  constructor(readonly existingId: string) {
    super(`the same batch was committed already by ingestion ${existingId}`);
    this.name = 'DuplicateIngestionError';
  }
}

/**
 * Port: the log of every ingest (completed, duplicate or failed) with its counts and rejects.
 * Guarantees every adapter must keep:
 * - at most one `completed` record per (symbol, timeframe, contentHash): `record` throws
 *   {@link DuplicateIngestionError} for a second one, atomically (two concurrent ingests of one file: one wins);
 * - `duplicate` and `failed` records are never unique-checked;
 * - records are immutable once written; `get` returns them with rejects in file order.
 */
export interface IngestionLog {
  /** Stores a record; throws {@link DuplicateIngestionError} for a second completed batch with the same key. */
  record(entry: IngestionRecord): Promise<void>;
  /** The completed record of this symbol, timeframe and content hash, if any. */
  findCompletedByContentHash(
    symbol: string,
    timeframe: Timeframe,
    contentHash: string,
  ): Promise<IngestionRecord | undefined>;
  /** A record by ingestion id. */
  get(id: string): Promise<IngestionRecord | undefined>;
}

/** Injection token of the {@link IngestionLog} port. */
export const INGESTION_LOG = Symbol('INGESTION_LOG');
