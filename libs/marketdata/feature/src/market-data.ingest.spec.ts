/**
 * Ingest through storage: the ingest use case of @strata/marketdata-feature committing into the DuckDB bars table
 * (in memory), over the in-process bus. Real shared market data, planted bad rows, duplicates, corrections and the
 * AAPL 7:1 split adjustment.
 */
import { Logger } from '@nestjs/common';
import { BarsCorrectedV1, BarsIngestedV1, type IngestResult } from '@strata/marketdata-contracts';
import { type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { readBarsCsv } from '@strata/marketdata-domain';
import { IngestBarsUseCase } from './ingest-bars.use-case';
import { InMemoryIngestionLog } from './in-memory-ingestion-log';
import { InProcessEventBus } from '@strata/platform-bus';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MarketDataService } from './market-data.service';
import { sharedMarketData } from '../../../../test/infra';

const REPO = resolve(__dirname, '../../../..');
const shared = sharedMarketData(REPO, 'ingest of every shared market data file');
const SHARED_MARKET = shared.dir;
const SAMPLE = resolve(REPO, 'data/sample');

jest.setTimeout(180_000);

describe('ingest into DuckDB (use case + bars repository + in-process bus)', () => {
  let db: DuckDb;
  let bus: InProcessEventBus;
  let bars: DuckDbBarsRepository;
  let log: InMemoryIngestionLog;
  let ingest: IngestBarsUseCase;
  let marketData: MarketDataService;
  const ingested: Envelope<PayloadOf<typeof BarsIngestedV1>>[] = [];
  const corrected: Envelope<PayloadOf<typeof BarsCorrectedV1>>[] = [];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await DuckDb.create(DUCKDB_MEMORY);
    bus = new InProcessEventBus({ service: 'test' });
    bars = new DuckDbBarsRepository(db);
    log = new InMemoryIngestionLog();
    ingest = new IngestBarsUseCase(bus, log, { allowedFileRoots: [] }, bars);
    marketData = new MarketDataService(bars, new DuckDbCorporateActionsRepository(db), bus);
    await bus.subscribe(BarsIngestedV1, (_d, ctx) => void ingested.push(ctx.envelope), { consumer: 'spec__ingested' });
    await bus.subscribe(BarsCorrectedV1, (_d, ctx) => void corrected.push(ctx.envelope), {
      consumer: 'spec__corrected',
    });
  });
  afterAll(async () => {
    await bus.close();
    await db.close();
  });

  const settle = () => new Promise((r) => setTimeout(r, 100));
  const waitFor = async (pred: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  };
  const eventsOf = (symbol: string) => ingested.filter((e) => e.data.symbol === symbol);
  const run = (symbol: string, timeframe: '1d' | '1h' | '1m', csv: string): Promise<IngestResult> =>
    ingest.execute({ symbol, timeframe, source: { kind: 'csv', csv } });

  shared.itIf(
    'ingests every file of the shared market data, reporting calendar gaps such as the QQQ hole',
    async () => {
      const files = readdirSync(SHARED_MARKET!)
        .filter((f) => /^[A-Z]+_(1d|1h|1m)\.csv$/.test(f))
        .sort();
      expect(files.length).toBeGreaterThanOrEqual(13);
      const before = ingested.length;
      let total = 0;
      for (const f of files) {
        const [symbol, tf] = f.replace('.csv', '').split('_') as [string, '1d' | '1h' | '1m'];
        const csv = readFileSync(join(SHARED_MARKET!, f), 'utf8');
        const rows = csv.trimEnd().split('\n').length - 1;
        const r = await run(symbol, tf, csv);
        expect({ f, status: r.status, accepted: r.accepted, rejected: r.rejected }).toEqual({
          f,
          status: 'completed',
          accepted: rows,
          rejected: 0,
        });
        expect(r.changes).toEqual({ inserted: rows, updated: 0, unchanged: 0 });
        total += rows;
        if (f === 'QQQ_1d.csv') {
          expect(r.gaps).toContainEqual({
            after: '2004-11-30T00:00:00.000Z',
            before: '2011-03-23T00:00:00.000Z',
            missingBars: 1588,
          });
        }
        if (f === 'SPY_1d.csv') expect(r.gaps).toEqual([]);
        if (f === 'BTCUSD_1d.csv') expect(r.gaps.reduce((s, g) => s + g.missingBars, 0)).toBe(34);
        // Stored exactly as parsed.
        const parsed = readBarsCsv(csv, { timeframe: tf }).bars;
        const stored = await bars.read({ symbol, timeframe: tf });
        expect(stored.length).toBe(rows);
        expect(Buffer.from(stored.close.buffer).equals(Buffer.from(parsed.close.buffer, 0, rows * 8))).toBe(true);
        expect(Buffer.from(stored.ts.buffer).equals(Buffer.from(parsed.ts.buffer, 0, rows * 8))).toBe(true);
        if (parsed.adjClose)
          expect(Array.from(stored.adjClose!)).toEqual(Array.from(parsed.adjClose.subarray(0, rows)));
      }
      await waitFor(() => ingested.length - before >= files.length);
      expect(ingested.length - before).toBe(files.length);
      expect(await bars.count()).toBe(total);
      const qqq = ingested.find((e) => e.data.symbol === 'QQQ')!;
      expect(qqq.data).toMatchObject({
        timeframe: '1d',
        from: '1999-03-10T00:00:00.000Z',
        to: '2021-03-31T00:00:00.000Z',
        inserted: 3964,
        updated: 0,
        changedFrom: '1999-03-10T00:00:00.000Z',
      });
    },
  );

  it('keeps every good row of a file with planted bad rows and rejects each bad one with its line and reason', async () => {
    const good = readFileSync(join(SAMPLE, 'SPY_1d.csv'), 'utf8').trimEnd().split('\n').slice(1, 61);
    // Plant bad rows after given good rows; each entry: [insert after good row k (0-based), text, reason].
    const plants: [number, string, string][] = [
      [4, '1998-01-09,97.31,98,-96.5,97.5,1000', 'non_positive_price'],
      [9, '1998-01-16,97.31,96,98,97.5,1000', 'high_below_low'],
      [14, '1998-01-23,99,98,96,97.5,1000', 'open_close_outside_range'],
      [19, '1998-01-30,97,98,96,97.5,-5', 'negative_volume'],
      [24, `${good[24].split(',')[0]},97,98,96,97.5,1000`, 'duplicate_timestamp'],
      [29, '1998-01-02,97,98,96,97.5,1000', 'out_of_order'],
      [34, '1998-02-30,97,98,96,97.5,1000', 'unparsable'],
      [39, '1998-03-02,97,98,96', 'unparsable'],
      [44, '1998-03-09,97,Infinity,96,97.5,1000', 'non_finite'],
      [49, '1998-03-16,abc,98,96,97.5,1000', 'unparsable'],
    ];
    const lines = ['timestamp,open,high,low,close,volume'];
    const expected: { line: number; reason: string }[] = [];
    good.forEach((row, k) => {
      lines.push(row);
      for (const [after, text, reason] of plants) {
        if (after === k) {
          lines.push(text);
          expected.push({ line: lines.length, reason });
        }
      }
    });
    const r = await run('PLANTED', '1d', lines.join('\n'));
    expect(r.status).toBe('completed');
    expect(r.accepted).toBe(good.length);
    expect(r.rejects.map(({ line, reason }) => ({ line, reason }))).toEqual(expected);
    for (const rej of r.rejects) expect(rej.message.length).toBeGreaterThan(0);
    // Every good row is stored, bit for bit.
    const stored = await bars.read({ symbol: 'PLANTED', timeframe: '1d' });
    const ref = readBarsCsv(['timestamp,open,high,low,close,volume', ...good].join('\n'), { timeframe: '1d' }).bars;
    expect(Array.from(stored.ts)).toEqual(Array.from(ref.ts.subarray(0, ref.length)));
    expect(Array.from(stored.close)).toEqual(Array.from(ref.close.subarray(0, ref.length)));
    // Rejects stay retrievable with the ingestion.
    const again = await log.get(r.id);
    expect(again?.rejects).toEqual(r.rejects);
  });

  it('re-ingesting identical data is a no-op: status duplicate, 0 changed, no event', async () => {
    const csv = readFileSync(join(SAMPLE, 'IBM_1d.csv'), 'utf8');
    const first = await run('IBMX', '1d', csv);
    expect(first.status).toBe('completed');
    await waitFor(() => eventsOf('IBMX').length === 1);
    const second = await run('IBMX', '1d', csv);
    expect(second).toMatchObject({
      status: 'duplicate',
      duplicateOf: first.id,
      changes: { inserted: 0, updated: 0, unchanged: first.accepted },
    });
    // The same bars written differently (CRLF, trailing zeros) are the same content.
    const third = await run('IBMX', '1d', csv.replace(/\n/g, '\r\n').replace(/,(\d+)\.(\d)(?=,)/g, ',$1.$20'));
    expect(third).toMatchObject({ status: 'duplicate', changes: { inserted: 0, updated: 0 } });
    // A file holding a subset of stored bars changes nothing either.
    const subset = csv.trimEnd().split('\n').slice(0, 101).join('\n');
    expect(await run('IBMX', '1d', subset)).toMatchObject({
      status: 'duplicate',
      changes: { inserted: 0, updated: 0, unchanged: 100 },
    });
    await settle();
    expect(eventsOf('IBMX').map((e) => e.data.ingestionId)).toEqual([first.id]);
  });

  it('replaces corrected bars, audits old and new values, and announces the correction', async () => {
    const base = [
      'timestamp,open,high,low,close,volume',
      '2024-01-02,100,101,99,100.5,1000',
      '2024-01-03,100.5,102,100,101.5,1200',
      '2024-01-04,101.5,103,101,102,900',
    ];
    const r1 = await run('CORR', '1d', base.join('\n'));
    const fixed = [...base];
    fixed[2] = '2024-01-03,100.5,102,100,101.25,1200';
    fixed.push('2024-01-05,102,104,101.5,103,1500');
    const r2 = await run('CORR', '1d', fixed.join('\n'));
    expect(r2).toMatchObject({ status: 'completed', changes: { inserted: 1, updated: 1, unchanged: 2 } });
    await waitFor(() => eventsOf('CORR').length === 2 && corrected.length === 1);
    expect(
      eventsOf('CORR')
        .slice(1)
        .map((e) => e.data),
    ).toEqual([
      expect.objectContaining({
        ingestionId: r2.id,
        changedFrom: '2024-01-03T00:00:00.000Z',
        inserted: 1,
        updated: 1,
        rowCount: 4,
      }),
    ]);
    expect(corrected.map((e) => e.data)).toEqual([
      {
        ingestionId: r2.id,
        symbol: 'CORR',
        timeframe: '1d',
        corrected: 1,
        from: '2024-01-03T00:00:00.000Z',
        to: '2024-01-03T00:00:00.000Z',
      },
    ]);
    const audit = await marketData.listCorrections({ symbol: 'CORR', timeframe: '1d', limit: 10 });
    expect(audit).toEqual([
      expect.objectContaining({
        ts: '2024-01-03T00:00:00.000Z',
        old: expect.objectContaining({ close: 101.5 }),
        new: expect.objectContaining({ close: 101.25 }),
        oldIngestionId: r1.id,
        ingestionId: r2.id,
      }),
    ]);
    const stored = await bars.read({ symbol: 'CORR', timeframe: '1d' });
    expect(Array.from(stored.close)).toEqual([100.5, 101.25, 102, 103]);
  });

  it('serves AAPL adjusted for its 7:1 split of 2014-06-09 (hand-computed values)', async () => {
    const csv = readFileSync(join(SAMPLE, 'AAPL_1d.csv'), 'utf8');
    await run('AAPL', '1d', csv);
    await marketData.recordCorporateActions([
      { kind: 'split', symbol: 'AAPL', exDate: '2014-06-09', newShares: 7, oldShares: 1 },
    ]);
    const from = Date.parse('2014-06-05T00:00:00Z');
    const to = Date.parse('2014-06-10T00:00:00Z');
    const raw = (await marketData.getBars({ symbol: 'AAPL', timeframe: '1d', from, to, adjust: 'raw' })).bars;
    const adj = (await marketData.getBars({ symbol: 'AAPL', timeframe: '1d', from, to, adjust: 'split' })).bars;
    // Raw file: 2014-06-06 650,651.25,644.48,645.57,12116671; 2014-06-09 92.69,93.88,91.75,93.7,72875948.
    expect(Array.from(raw.close)).toEqual([647.35, 645.57, 93.7, 94.25]);
    expect(adj.close[1]).toBeCloseTo(92.22428571428571, 12); // 645.57 / 7
    expect(adj.open[1]).toBeCloseTo(92.85714285714286, 12); // 650 / 7
    expect(adj.volume[1]).toBe(84816697); // 12116671 × 7
    expect(adj.close[2]).toBe(93.7);
    expect(adj.volume[2]).toBe(72875948);
    // The split day is a +1.6% day, not −85.5%.
    expect(adj.close[2] / adj.close[1] - 1).toBeCloseTo(93.7 / (645.57 / 7) - 1, 12);
    expect(raw.close[2] / raw.close[1] - 1).toBeLessThan(-0.85);
    // A second split (4:1, 2020-08-31) compounds: bars before 2014-06-09 ÷ 28.
    await marketData.recordCorporateActions([
      { kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 },
    ]);
    const both = (await marketData.getBars({ symbol: 'AAPL', timeframe: '1d', from, to, adjust: 'split' })).bars;
    expect(both.close[1]).toBeCloseTo(645.57 / 28, 12);
    expect(both.close[2]).toBeCloseTo(93.7 / 4, 12);
  });
});
