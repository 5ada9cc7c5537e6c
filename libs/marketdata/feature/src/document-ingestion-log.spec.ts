import { DuckDb } from '@strata/platform-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { DocumentIngestionLog } from './document-ingestion-log';
import { InMemoryIngestionLog } from './in-memory-ingestion-log';
import { ingestionLogConformance } from './testing/ingestion-log.conformance';

const stores: DuckDbDocumentStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
});

describe('IngestionLog contract: InMemoryIngestionLog', () => {
  ingestionLogConformance(async () => new InMemoryIngestionLog());
});

describe('IngestionLog contract: DocumentIngestionLog on the embedded DuckDB store', () => {
  ingestionLogConformance(async () => {
    const store = new DuckDbDocumentStore(await DuckDb.create(':memory:'));
    stores.push(store);
    return new DocumentIngestionLog(store);
  });
});

describe('DocumentIngestionLog.list', () => {
  it('pages newest first with filters', async () => {
    const store = new DuckDbDocumentStore(await DuckDb.create(':memory:'));
    stores.push(store);
    const log = new DocumentIngestionLog(store);
    const base = {
      timeframe: '1d' as const,
      contentHash: '',
      accepted: 0,
      rejected: 0,
      rejects: [],
      gaps: [],
      from: null,
      to: null,
    };
    for (let i = 0; i < 7; i++) {
      await log.record({
        ...base,
        id: `i${i}`,
        status: i % 2 ? 'failed' : 'completed',
        symbol: i < 4 ? 'SPY' : 'QQQ',
        contentHash: `h${i}`,
        recordedAt: `2024-03-0${i + 1}T00:00:00.000Z`,
      });
    }
    const p1 = await log.list({ symbol: 'SPY', limit: 3 });
    expect(p1.items.map((r) => r.id)).toEqual(['i3', 'i2', 'i1']);
    const p2 = await log.list({ symbol: 'SPY', limit: 3, cursor: p1.nextCursor });
    expect(p2).toMatchObject({ nextCursor: null });
    expect(p2.items.map((r) => r.id)).toEqual(['i0']);
    expect(
      (
        await log.list({
          status: 'completed',
          from: '2024-03-03T00:00:00.000Z',
          to: '2024-03-07T00:00:00.000Z',
          limit: 10,
        })
      ).items.map((r) => r.id),
    ).toEqual(['i4', 'i2']);
  });
});
