import { type BarsRepository, type CorporateActionsRepository, type BarColumns } from '@strata/marketdata-contracts';
import { DuckDbBarsRepository } from './duckdb-bars.repository';
import { DuckDbCorporateActionsRepository } from './duckdb-corporate-actions.repository';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DAY = 86_400_000;
const T0 = Date.UTC(2021, 0, 4);

/** n daily bars from T0 + offset days; close = 100 + i, others derived. */
function bars(n: number, offset = 0, adj = false): BarColumns {
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const adjClose = adj ? new Float64Array(n) : null;
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    ts[i] = T0 + k * DAY;
    close[i] = 100 + k;
    open[i] = close[i] - 0.5;
    high[i] = close[i] + 1;
    low[i] = close[i] - 1;
    volume[i] = 1000 + k;
    if (adjClose) adjClose[i] = close[i] * 0.9;
  }
  return { length: n, ts, open, high, low, close, volume, adjClose };
}

describe('DuckDbBarsRepository (in-memory DuckDB)', () => {
  let db: DuckDb;
  let repo: DuckDbBarsRepository;

  beforeEach(async () => {
    db = await DuckDb.create(DUCKDB_MEMORY);
    repo = new DuckDbBarsRepository(db);
  });
  afterEach(() => db.close());

  it('satisfies the BarsRepository and CorporateActionsRepository ports', () => {
    const port: BarsRepository = repo;
    const actions: CorporateActionsRepository = new DuckDbCorporateActionsRepository(db);
    expect(port).toBeDefined();
    expect(actions).toBeDefined();
  });

  it('stores a batch and reads it back bit-exactly, in time order, with range, cursor and limit', async () => {
    const b = bars(5000);
    const out = await repo.commit({ ingestionId: 'i1', symbol: 'AAA', timeframe: '1d', bars: b });
    expect(out).toEqual({
      inserted: 5000,
      updated: 0,
      unchanged: 0,
      changedFrom: T0,
      changedTo: T0 + 4999 * DAY,
      correctedFrom: null,
      correctedTo: null,
    });
    const r = await repo.read({ symbol: 'AAA', timeframe: '1d' });
    expect(r.length).toBe(5000);
    expect(Array.from(r.ts)).toEqual(Array.from(b.ts));
    expect(Array.from(r.close)).toEqual(Array.from(b.close));
    expect(Array.from(r.volume)).toEqual(Array.from(b.volume));
    expect(r.adjClose).toBeNull();
    const win = await repo.read({ symbol: 'AAA', timeframe: '1d', from: T0 + 10 * DAY, to: T0 + 19 * DAY });
    expect(Array.from(win.ts)).toEqual(Array.from(b.ts.subarray(10, 20)));
    const page = await repo.read({ symbol: 'AAA', timeframe: '1d', after: T0 + 10 * DAY, limit: 3 });
    expect(Array.from(page.ts)).toEqual([T0 + 11 * DAY, T0 + 12 * DAY, T0 + 13 * DAY]);
    expect((await repo.read({ symbol: 'AAA', timeframe: '1h' })).length).toBe(0);
    expect(await repo.count()).toBe(5000);
  });

  it('keeps timestamps before 1970 exact', async () => {
    const b = bars(3);
    b.ts.set([Date.UTC(1962, 0, 2), Date.UTC(1962, 0, 3, 14, 30), Date.UTC(1969, 11, 31, 23, 59, 59, 999)]);
    await repo.commit({ ingestionId: 'i', symbol: 'OLD', timeframe: '1d', bars: b });
    expect(Array.from((await repo.read({ symbol: 'OLD', timeframe: '1d' })).ts)).toEqual(Array.from(b.ts));
  });

  it('re-committing identical bars changes nothing and reports them unchanged', async () => {
    await repo.commit({ ingestionId: 'i1', symbol: 'AAA', timeframe: '1d', bars: bars(100) });
    const again = await repo.commit({ ingestionId: 'i2', symbol: 'AAA', timeframe: '1d', bars: bars(100) });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 100, changedFrom: null });
    expect(await repo.count()).toBe(100);
    expect(await repo.listCorrections({ symbol: 'AAA', timeframe: '1d', limit: 10 })).toEqual([]);
  });

  it('inserts only new bars of an overlapping batch and never duplicates a key', async () => {
    await repo.commit({ ingestionId: 'i1', symbol: 'AAA', timeframe: '1d', bars: bars(100) });
    const out = await repo.commit({ ingestionId: 'i2', symbol: 'AAA', timeframe: '1d', bars: bars(30, 90) });
    expect(out).toMatchObject({
      inserted: 20,
      updated: 0,
      unchanged: 10,
      changedFrom: T0 + 100 * DAY,
      changedTo: T0 + 119 * DAY,
    });
    const r = await repo.read({ symbol: 'AAA', timeframe: '1d' });
    expect(r.length).toBe(120);
    const [{ dup }] = await db.all<{ dup: bigint }>(
      'SELECT count(*) AS dup FROM (SELECT ts FROM bars GROUP BY symbol, timeframe, ts HAVING count(*) > 1)',
    );
    expect(dup).toBe(0n);
  });

  it('replaces corrected bars and keeps an audit record of old and new values', async () => {
    await repo.commit({ ingestionId: 'i1', symbol: 'AAA', timeframe: '1d', bars: bars(10) });
    const fix = bars(10);
    fix.close[3] = 103.5;
    fix.high[7] = 200;
    const out = await repo.commit({ ingestionId: 'i2', symbol: 'AAA', timeframe: '1d', bars: fix });
    expect(out).toEqual({
      inserted: 0,
      updated: 2,
      unchanged: 8,
      changedFrom: T0 + 3 * DAY,
      changedTo: T0 + 7 * DAY,
      correctedFrom: T0 + 3 * DAY,
      correctedTo: T0 + 7 * DAY,
    });
    const r = await repo.read({ symbol: 'AAA', timeframe: '1d' });
    expect(r.close[3]).toBe(103.5);
    expect(r.high[7]).toBe(200);
    const audit = await repo.listCorrections({ symbol: 'AAA', timeframe: '1d', limit: 10 });
    expect(audit.map((a) => a.ts)).toEqual([
      new Date(T0 + 3 * DAY).toISOString(),
      new Date(T0 + 7 * DAY).toISOString(),
    ]);
    expect(audit[0]).toMatchObject({
      old: { close: 103, high: 104 },
      new: { close: 103.5, high: 104 },
      oldIngestionId: 'i1',
      ingestionId: 'i2',
    });
    expect(audit[1]).toMatchObject({ old: { high: 108 }, new: { high: 200 } });
    expect(Date.parse(audit[0].correctedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps adj_close: NULLs stay NULL, a batch without the column does not erase stored values', async () => {
    await repo.commit({ ingestionId: 'i1', symbol: 'ADJ', timeframe: '1d', bars: bars(5, 0, true) });
    const r1 = await repo.read({ symbol: 'ADJ', timeframe: '1d' });
    expect(Array.from(r1.adjClose!)).toEqual(Array.from(bars(5, 0, true).adjClose!));
    const noAdj = await repo.commit({ ingestionId: 'i2', symbol: 'ADJ', timeframe: '1d', bars: bars(5) });
    expect(noAdj).toMatchObject({ updated: 0, unchanged: 5 });
    const partial = bars(2, 10, true);
    partial.adjClose![1] = NaN;
    await repo.commit({ ingestionId: 'i3', symbol: 'ADJ', timeframe: '1d', bars: partial });
    const r2 = await repo.read({ symbol: 'ADJ', timeframe: '1d', from: T0 + 10 * DAY });
    expect(r2.adjClose![0]).toBeCloseTo(99, 12);
    expect(Number.isNaN(r2.adjClose![1])).toBe(true);
  });

  it('lists series with cursor paging and finds previous closes with an ASOF join', async () => {
    await repo.commit({ ingestionId: 'a', symbol: 'BBB', timeframe: '1d', bars: bars(10) });
    await repo.commit({ ingestionId: 'b', symbol: 'AAA', timeframe: '1h', bars: bars(3) });
    await repo.commit({ ingestionId: 'c', symbol: 'AAA', timeframe: '1d', bars: bars(4) });
    const all = await repo.listSeries({ limit: 10 });
    expect(all.map((s) => `${s.symbol}/${s.timeframe}/${s.bars}`)).toEqual(['AAA/1d/4', 'AAA/1h/3', 'BBB/1d/10']);
    expect(all[2]).toMatchObject({ from: new Date(T0).toISOString(), to: new Date(T0 + 9 * DAY).toISOString() });
    const next = await repo.listSeries({ after: { symbol: 'AAA', timeframe: '1d' }, limit: 1 });
    expect(next.map((s) => `${s.symbol}/${s.timeframe}`)).toEqual(['AAA/1h']);
    const prev = await repo.lastClosesBefore('BBB', '1d', [T0 + 5 * DAY, T0, T0 + 100 * DAY, T0 + 5 * DAY + 1]);
    expect(Array.from(prev)).toEqual([104, NaN, 109, 105]);
  });

  it('rolls a failed commit back completely', async () => {
    await repo.commit({ ingestionId: 'i1', symbol: 'AAA', timeframe: '1d', bars: bars(10) });
    const bad = bars(12);
    bad.close[2] = 1;
    (bad as { ts: Float64Array }).ts = bad.ts.subarray(0, 5); // shorter than length: the append refuses it
    await expect(repo.commit({ ingestionId: 'i2', symbol: 'AAA', timeframe: '1d', bars: bad })).rejects.toThrow();
    expect((await repo.read({ symbol: 'AAA', timeframe: '1d' })).close[2]).toBe(102);
    expect(await repo.listCorrections({ symbol: 'AAA', timeframe: '1d', limit: 10 })).toEqual([]);
  });
});

describe('DuckDbBarsRepository read path: series catalogue and hot-series cache', () => {
  let db: DuckDb;
  beforeEach(async () => {
    db = await DuckDb.create(DUCKDB_MEMORY);
  });
  afterEach(() => db.close());

  /** The catalogue as a scan of the tables computes it. */
  const scan = async () =>
    (
      await db.all<{ symbol: string; timeframe: string; n: bigint; f: number; t: number }>(
        `SELECT symbol, timeframe, count(*) AS n, epoch_ms(min(ts))::DOUBLE AS f, epoch_ms(max(ts))::DOUBLE AS t
         FROM bars GROUP BY ALL ORDER BY symbol, timeframe`,
      )
    ).map((r) => ({
      symbol: r.symbol,
      timeframe: r.timeframe,
      bars: Number(r.n),
      from: new Date(r.f).toISOString(),
      to: new Date(r.t).toISOString(),
    }));

  it('answers every window from a cached series exactly as a query does, through appends, corrections and rollbacks', async () => {
    const cached = new DuckDbBarsRepository(db);
    const queried = new DuckDbBarsRepository(db, { hotSeriesBytes: 0 });
    const same = async () => {
      const windows = [
        {},
        { limit: 7 },
        { from: T0 + 3 * DAY, to: T0 + 40 * DAY },
        { after: T0 + 5 * DAY, limit: 3 },
        { from: T0 + 500 * DAY },
        { from: T0 + 9 * DAY, to: T0 + 2 * DAY },
        { to: T0 - DAY },
      ];
      for (const w of windows) {
        const a = await cached.read({ symbol: 'AAA', timeframe: '1d', ...w });
        const b = await queried.read({ symbol: 'AAA', timeframe: '1d', ...w });
        expect(a.length).toBe(b.length);
        for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const)
          expect(Array.from(a[k])).toEqual(Array.from(b[k]));
        expect(a.adjClose && Array.from(a.adjClose)).toEqual(b.adjClose && Array.from(b.adjClose));
      }
      const instants = [T0, T0 + 2 * DAY + 1, T0 + 60 * DAY, T0 - DAY];
      expect(Array.from(await cached.lastClosesBefore('AAA', '1d', instants))).toEqual(
        Array.from(await queried.lastClosesBefore('AAA', '1d', instants)),
      );
    };
    await cached.commit({ ingestionId: 'i1', symbol: 'AAA', timeframe: '1d', bars: bars(30) });
    await same();
    // Appended through the other repository on the same database: the cached series is dropped, not served stale.
    await queried.commit({ ingestionId: 'i2', symbol: 'AAA', timeframe: '1d', bars: bars(20, 25, true) });
    await same();
    const fix = bars(5, 10);
    fix.close[2] = 999;
    await queried.commit({ ingestionId: 'i3', symbol: 'AAA', timeframe: '1d', bars: fix });
    expect(
      Array.from((await cached.read({ symbol: 'AAA', timeframe: '1d', from: T0 + 12 * DAY, limit: 1 })).close),
    ).toEqual([999]);
    await same();
    const bad = bars(12, 20);
    bad.close[2] = 1;
    (bad as { ts: Float64Array }).ts = bad.ts.subarray(0, 5); // shorter than length: the append refuses it
    await expect(cached.commit({ ingestionId: 'x', symbol: 'AAA', timeframe: '1d', bars: bad })).rejects.toThrow();
    await same();
    // A caller writing into what it read does not change what the next reader gets.
    const r = await cached.read({ symbol: 'AAA', timeframe: '1d', limit: 3 });
    r.close[0] = -1;
    expect((await cached.read({ symbol: 'AAA', timeframe: '1d', limit: 1 })).close[0]).toBe(100);
  });

  it('keeps the catalogue of series current on every commit, without scanning the bars', async () => {
    const a = new DuckDbBarsRepository(db);
    const b = new DuckDbBarsRepository(db);
    expect(await a.listSeries({ limit: 10 })).toEqual([]);
    await a.commit({ ingestionId: '1', symbol: 'BBB', timeframe: '1d', bars: bars(10, 5) });
    await b.commit({ ingestionId: '2', symbol: 'AAA', timeframe: '1h', bars: bars(3) });
    await a.commit({ ingestionId: '3', symbol: 'BBB', timeframe: '1d', bars: bars(10) }); // 5 new before, 5 unchanged
    await b.commit({ ingestionId: '4', symbol: 'BBB', timeframe: '1d', bars: bars(4, 20) }); // after, 4 new
    const fix = bars(2, 1);
    fix.close[0] = 1;
    await a.commit({ ingestionId: '5', symbol: 'AAA', timeframe: '1h', bars: fix }); // corrections only
    const expected = await scan();
    expect(expected.map((e) => e.bars)).toEqual([3, 19]);
    expect(await a.listSeries({ limit: 10 })).toEqual(expected);
    expect(await b.listSeries({ limit: 10 })).toEqual(expected);
    expect(await a.listSeries({ limit: 1, after: { symbol: 'AAA', timeframe: '1h' } })).toEqual([expected[1]]);
    expect(await a.listSeries({ limit: 10, symbol: 'AAA' })).toEqual([expected[0]]);
    // A fresh repository on a reopened file would load it once; rows written behind the repository's back are not
    // seen by listSeries: it answers from the catalogue, not from a scan.
    await db.run(
      `INSERT INTO bar_values SELECT series_id, ts + INTERVAL 1000 DAY, open, high, low, close, volume, adj_close, write_id FROM bar_values`,
    );
    expect(await a.listSeries({ limit: 10 })).toEqual(expected);
  });
});

describe('DuckDbBarsRepository storage layout', () => {
  it('stores only fixed-width columns per bar; the bars view joins series and writer back', async () => {
    const db = await DuckDb.create(DUCKDB_MEMORY);
    try {
      const repo = new DuckDbBarsRepository(db);
      await repo.commit({ ingestionId: 'ing-1', symbol: 'AAA', timeframe: '1d', bars: bars(3) });
      const types = await db.all<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'bar_values' ORDER BY ordinal_position`,
      );
      expect(types.filter((c) => c.data_type === 'VARCHAR')).toEqual([]);
      const view = await db.all<{ symbol: string; timeframe: string; close: number; ingestion_id: string }>(
        'SELECT symbol, timeframe, close, ingestion_id FROM bars ORDER BY ts',
      );
      expect(view).toEqual(
        [100, 101, 102].map((close) => ({ symbol: 'AAA', timeframe: '1d', close, ingestion_id: 'ing-1' })),
      );
    } finally {
      await db.close();
    }
  });

  it('migrates a file written with the single-table layout, keeping every bar and its last writer', async () => {
    const db = await DuckDb.create(DUCKDB_MEMORY);
    try {
      await db.run(`CREATE TABLE bars (
        symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
        open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL, volume DOUBLE NOT NULL,
        adj_close DOUBLE, ingestion_id VARCHAR NOT NULL)`);
      await db.run(`INSERT INTO bars VALUES
        ('AAA', '1d', epoch_ms(${T0}::BIGINT), 1, 3, 0.5, 2, 10, NULL, 'old-1'),
        ('AAA', '1d', epoch_ms(${T0 + DAY}::BIGINT), 2, 4, 1.5, 3, 20, 2.5, 'old-2'),
        ('BBB', '1h', epoch_ms(${T0}::BIGINT), 5, 6, 4, 5.5, 30, NULL, 'old-1')`);
      const repo = new DuckDbBarsRepository(db);
      expect(await repo.count()).toBe(3);
      const a = await repo.read({ symbol: 'AAA', timeframe: '1d' });
      expect({ ts: Array.from(a.ts), close: Array.from(a.close), adj: Array.from(a.adjClose!) }).toEqual({
        ts: [T0, T0 + DAY],
        close: [2, 3],
        adj: [NaN, 2.5],
      });
      expect((await repo.listSeries({ limit: 10 })).map((x) => `${x.symbol}/${x.timeframe}/${x.bars}`)).toEqual([
        'AAA/1d/2',
        'BBB/1h/1',
      ]);
      // A correction after the migration names the ingestion that wrote the bar before it.
      const fix: BarColumns = {
        length: 1,
        ts: new Float64Array([T0 + DAY]),
        open: new Float64Array([2]),
        high: new Float64Array([4]),
        low: new Float64Array([1.5]),
        close: new Float64Array([3.5]),
        volume: new Float64Array([20]),
        adjClose: null,
      };
      expect(await repo.commit({ ingestionId: 'new-1', symbol: 'AAA', timeframe: '1d', bars: fix })).toMatchObject({
        updated: 1,
        inserted: 0,
      });
      const [audit] = await repo.listCorrections({ symbol: 'AAA', timeframe: '1d', limit: 5 });
      expect(audit).toMatchObject({
        oldIngestionId: 'old-2',
        ingestionId: 'new-1',
        old: { close: 3, adjClose: 2.5 },
        new: { close: 3.5, adjClose: 2.5 },
      });
      const [{ kind }] = await db.all<{ kind: string }>(
        `SELECT table_type AS kind FROM information_schema.tables WHERE table_name = 'bars'`,
      );
      expect(kind).toBe('VIEW');
      // A second repository on the migrated file finds nothing to migrate.
      expect(await new DuckDbBarsRepository(db).count()).toBe(3);
    } finally {
      await db.close();
    }
  });

  it('does not remember a series whose first commit rolled back', async () => {
    const db = await DuckDb.create(DUCKDB_MEMORY);
    try {
      const repo = new DuckDbBarsRepository(db);
      const bad = bars(5);
      (bad as { ts: Float64Array }).ts = bad.ts.subarray(0, 2);
      await expect(repo.commit({ ingestionId: 'x', symbol: 'NEW', timeframe: '1d', bars: bad })).rejects.toThrow();
      expect(await db.all('SELECT * FROM bar_series')).toEqual([]);
      expect(await repo.commit({ ingestionId: 'y', symbol: 'NEW', timeframe: '1d', bars: bars(5) })).toMatchObject({
        inserted: 5,
      });
      expect((await repo.read({ symbol: 'NEW', timeframe: '1d' })).length).toBe(5);
      expect(await db.all<{ n: bigint }>('SELECT count(*) AS n FROM bars WHERE symbol = ?', ['NEW'])).toEqual([
        { n: 5n },
      ]);
    } finally {
      await db.close();
    }
  });

  it('keeps series and writer ids across a restart of a file database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-bars-'));
    try {
      let db = await DuckDb.create(join(dir, 'b.duckdb'));
      await new DuckDbBarsRepository(db).commit({
        ingestionId: 'first',
        symbol: 'AAA',
        timeframe: '1d',
        bars: bars(10),
      });
      await db.close();
      db = await DuckDb.create(join(dir, 'b.duckdb'));
      const repo = new DuckDbBarsRepository(db);
      await repo.commit({ ingestionId: 'second', symbol: 'BBB', timeframe: '1d', bars: bars(4) });
      const fix = bars(10);
      fix.close[9] = 109.5;
      expect(await repo.commit({ ingestionId: 'third', symbol: 'AAA', timeframe: '1d', bars: fix })).toMatchObject({
        updated: 1,
        unchanged: 9,
      });
      const [audit] = await repo.listCorrections({ symbol: 'AAA', timeframe: '1d', limit: 1 });
      expect(audit).toMatchObject({ oldIngestionId: 'first', ingestionId: 'third' });
      expect((await repo.read({ symbol: 'BBB', timeframe: '1d' })).length).toBe(4);
      expect((await repo.read({ symbol: 'AAA', timeframe: '1d' })).close[9]).toBe(109.5);
      await db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DuckDbCorporateActionsRepository (in-memory DuckDB)', () => {
  it('inserts, ignores identical records and replaces changed ones', async () => {
    const db = await DuckDb.create(DUCKDB_MEMORY);
    try {
      const repo = new DuckDbCorporateActionsRepository(db);
      const split = { kind: 'split' as const, symbol: 'AAPL', exDate: '2014-06-09', newShares: 7, oldShares: 1 };
      const div = { kind: 'dividend' as const, symbol: 'AAPL', exDate: '2014-05-08', amount: 3.29 };
      expect(await repo.upsert([split, div])).toMatchObject({ inserted: 2, updated: 0, unchanged: 0 });
      expect(await repo.upsert([split])).toMatchObject({ inserted: 0, updated: 0, unchanged: 1, changed: [] });
      expect(await repo.upsert([{ ...div, amount: 3.3 }])).toMatchObject({
        updated: 1,
        changed: [{ ...div, amount: 3.3 }],
      });
      expect(await repo.list('AAPL')).toEqual([{ ...div, amount: 3.3 }, split]);
      expect(await repo.list('MSFT')).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
