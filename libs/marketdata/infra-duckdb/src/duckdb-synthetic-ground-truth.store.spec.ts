import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { DuckDbSyntheticGroundTruthStore } from './duckdb-synthetic-ground-truth.store';

describe('DuckDbSyntheticGroundTruthStore', () => {
  it('stores regime and anomaly per bar, replaces the same keys, reads a range oldest first', async () => {
    const db = await DuckDb.create(DUCKDB_MEMORY);
    try {
      const store = new DuckDbSyntheticGroundTruthStore(db);
      const d = (day: number) => Date.UTC(2024, 0, day);
      await store.save('ing-1', 'SYN', '1d', [
        { ts: d(3), regime: 'bear', anomaly: 'spike' },
        { ts: d(2), regime: 'bull', anomaly: null },
        { ts: d(4), regime: 'bear', anomaly: null },
      ]);
      expect(await store.read('SYN', '1d')).toEqual([
        { ts: d(2), regime: 'bull', anomaly: null },
        { ts: d(3), regime: 'bear', anomaly: 'spike' },
        { ts: d(4), regime: 'bear', anomaly: null },
      ]);
      await store.save('ing-2', 'SYN', '1d', [{ ts: d(3), regime: 'high_vol', anomaly: null }]);
      expect(await store.read('SYN', '1d', { fromMs: d(3), toMs: d(3) })).toEqual([
        { ts: d(3), regime: 'high_vol', anomaly: null },
      ]);
      expect(await store.read('SYN', '1h')).toEqual([]);
      const ids = await db.all<{ ingestion_id: string; n: bigint }>(
        'SELECT ingestion_id, count(*) AS n FROM synthetic_ground_truth GROUP BY 1 ORDER BY 1',
      );
      expect(ids.map((r) => [r.ingestion_id, Number(r.n)])).toEqual([
        ['ing-1', 2],
        ['ing-2', 1],
      ]);
    } finally {
      await db.close();
    }
  });
});
