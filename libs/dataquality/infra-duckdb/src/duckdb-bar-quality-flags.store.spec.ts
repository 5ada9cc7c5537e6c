import { DuckDb } from '@strata/platform-duckdb';
import { type BarQualityFlag } from '@strata/dataquality-contracts';
import { DuckDbBarQualityFlagsStore } from './duckdb-bar-quality-flags.store';

const D = Date.UTC(2024, 0, 2);
const flag = (over: Partial<BarQualityFlag>): BarQualityFlag => ({
  symbol: 'ACME',
  timeframe: '1d',
  ts: D,
  kind: 'spike',
  eventId: 'e1',
  severity: 'HIGH',
  status: 'open',
  ...over,
});

describe('DuckDbBarQualityFlagsStore', () => {
  let db: DuckDb;
  let store: DuckDbBarQualityFlagsStore;
  beforeEach(async () => {
    db = await DuckDb.create(':memory:');
    store = new DuckDbBarQualityFlagsStore(db);
  });
  afterEach(() => db.close());

  it('upserts by (symbol, timeframe, ts, kind): a second upsert replaces, never duplicates', async () => {
    await store.upsert([
      flag({}),
      flag({ kind: 'bad_tick', eventId: 'e2' }),
      flag({ ts: D + 86_400_000, eventId: 'e3' }),
    ]);
    await store.upsert([flag({ severity: 'CRITICAL', status: 'acknowledged' })]);
    const all = await store.read({ symbol: 'ACME', timeframe: '1d' });
    expect(all.map((f) => [f.ts, f.kind, f.eventId, f.severity, f.status])).toEqual([
      [D, 'bad_tick', 'e2', 'HIGH', 'open'],
      [D, 'spike', 'e1', 'CRITICAL', 'acknowledged'],
      [D + 86_400_000, 'spike', 'e3', 'HIGH', 'open'],
    ]);
  });

  it('filters by time range (inclusive), status and series; setStatus follows the event', async () => {
    await store.upsert([
      flag({}),
      flag({ ts: D + 86_400_000, eventId: 'e3' }),
      flag({ symbol: 'OTHER', eventId: 'e4' }),
      flag({ timeframe: '1h', eventId: 'e5' }),
    ]);
    expect(await store.setStatus('e1', 'resolved')).toBe(1);
    expect(
      (await store.read({ symbol: 'ACME', timeframe: '1d', statuses: ['open', 'acknowledged'] })).map((f) => f.eventId),
    ).toEqual(['e3']);
    expect(
      (await store.read({ symbol: 'ACME', timeframe: '1d', statuses: ['resolved'] })).map((f) => f.eventId),
    ).toEqual(['e1']);
    expect(
      (await store.read({ symbol: 'ACME', timeframe: '1d', from: D + 1, to: D + 86_400_000 })).map((f) => f.eventId),
    ).toEqual(['e3']);
    expect((await store.read({ symbol: 'ACME', timeframe: '1d', to: D })).map((f) => f.eventId)).toEqual(['e1']);
    expect(await store.read({ symbol: 'ACME', timeframe: '1d', statuses: [] })).toEqual([]);
  });
});
