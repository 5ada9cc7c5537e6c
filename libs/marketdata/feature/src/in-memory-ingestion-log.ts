import {
  type Timeframe,
  DuplicateIngestionError,
  type IngestionLog,
  type IngestionRecord,
} from '@strata/marketdata-contracts';

/**
 * {@link IngestionLog} in process memory, for tests (the apps use `DocumentIngestionLog` on the document store).
 * Lost on restart. Records are deep-copied in and out so callers cannot mutate stored state.
 */
export class InMemoryIngestionLog implements IngestionLog {
  private readonly byId = new Map<string, IngestionRecord>();
  private readonly completed = new Map<string, string>();

  private static key(symbol: string, timeframe: Timeframe, contentHash: string): string {
    return `${symbol}\u0000${timeframe}\u0000${contentHash}`;
  }

  async record(entry: IngestionRecord): Promise<void> {
    if (this.byId.has(entry.id)) throw new Error(`ingestion ${entry.id} is recorded already`);
    if (entry.status === 'completed') {
      const k = InMemoryIngestionLog.key(entry.symbol, entry.timeframe, entry.contentHash);
      const existing = this.completed.get(k);
      if (existing) throw new DuplicateIngestionError(existing);
      this.completed.set(k, entry.id);
    }
    this.byId.set(entry.id, structuredClone(entry));
  }

  async findCompletedByContentHash(
    symbol: string,
    timeframe: Timeframe,
    contentHash: string,
  ): Promise<IngestionRecord | undefined> {
    const id = this.completed.get(InMemoryIngestionLog.key(symbol, timeframe, contentHash));
    return id ? this.get(id) : undefined;
  }

  async get(id: string): Promise<IngestionRecord | undefined> {
    const r = this.byId.get(id);
    return r ? structuredClone(r) : undefined;
  }
}
