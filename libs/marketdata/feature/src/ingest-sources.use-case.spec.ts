import {
  BarsIngestedV1,
  type CorporateAction,
  type Timeframe,
  type AlphaVantageBarsSource,
  type SyntheticGroundTruthRow,
  type SyntheticGroundTruthStore,
} from '@strata/marketdata-contracts';
import { type Envelope } from '@strata/platform-contracts';
import { decodeBarsCsv, generateSyntheticSeries } from '@strata/marketdata-domain';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryIngestionLog } from './in-memory-ingestion-log';
import { IngestBarsUseCase, SOURCE_FAILED, SOURCE_INVALID, SOURCE_NOT_CONFIGURED } from './ingest-bars.use-case';

class MemoryGroundTruth implements SyntheticGroundTruthStore {
  readonly saved: {
    ingestionId: string;
    symbol: string;
    timeframe: Timeframe;
    rows: readonly SyntheticGroundTruthRow[];
  }[] = [];
  async save(
    ingestionId: string,
    symbol: string,
    timeframe: Timeframe,
    rows: readonly SyntheticGroundTruthRow[],
  ): Promise<void> {
    this.saved.push({ ingestionId, symbol, timeframe, rows });
  }
  async read(): Promise<SyntheticGroundTruthRow[]> {
    return this.saved.at(-1)?.rows.slice() ?? [];
  }
}

const AV_CSV =
  'timestamp,open,high,low,close,volume,adj_close\n2020-08-28,504.05,505.77,498.31,499.23,46907479,122.7364\n2020-08-31,127.58,131,126,129.04,225702700,126.8995\n';

describe('IngestBarsUseCase sources (parquet, alphavantage, synthetic)', () => {
  let bus: InProcessEventBus;
  let log: InMemoryIngestionLog;
  let dir: string;
  const events: Envelope[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-ingest-src-'));
    mkdirSync(join(dir, 'uploads'));
    bus = new InProcessEventBus({ service: 'ingestion' });
    log = new InMemoryIngestionLog();
    events.length = 0;
    await bus.subscribe(BarsIngestedV1, (_d, ctx) => void events.push(ctx.envelope), {
      consumer: 'spec__bars',
      deliverFrom: 'new',
    });
  });
  afterEach(async () => {
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const settle = () => new Promise((r) => setTimeout(r, 30));
  const opts = () => ({ allowedFileRoots: [join(dir, 'uploads')] });

  it('synthetic: generates the seeded series, ingests it through the validator and stores its ground truth per bar', async () => {
    const truth = new MemoryGroundTruth();
    const uc = new IngestBarsUseCase(bus, log, opts(), undefined, undefined, undefined, undefined, truth);
    const source = {
      kind: 'synthetic' as const,
      seed: 42,
      bars: 300,
      start: '2020-01-02',
      config: { anomalyRates: { spike: 0.02, bad_tick: 0.02, volume_burst: 0.02 } },
    };
    const r = await uc.execute({ symbol: 'SYN', timeframe: '1d', source });
    // Independent expectation: the same generator config run here.
    const series = generateSyntheticSeries({
      seed: 42,
      bars: 300,
      timeframe: '1d',
      start: '2020-01-02',
      anomalies: { rates: { spike: 0.02, bad_tick: 0.02, volume_burst: 0.02 } },
    });
    const invalid = series.truth.events.filter((e) => e.invalidRow);
    expect(r.status).toBe('completed');
    expect(r.accepted + r.rejected).toBe(series.length);
    expect(r.rejects.map((x) => [x.line, x.reason])).toEqual(invalid.map((e) => [e.line, e.expectedReject]));
    expect(truth.saved).toHaveLength(1);
    const saved = truth.saved[0];
    expect(saved).toMatchObject({ ingestionId: r.id, symbol: 'SYN', timeframe: '1d' });
    expect(saved.rows).toHaveLength(series.length);
    expect(saved.rows.map((x) => x.ts)).toEqual(Array.from(series.ts));
    expect(saved.rows.map((x) => x.regime)).toEqual(
      Array.from(series.truth.regime, (c) => series.truth.regimeNames[c]),
    );
    const labelled = saved.rows.filter((x) => x.anomaly !== null).length;
    expect(labelled).toBe(series.truth.anomaly.filter((c) => c !== 0).length);
    expect(labelled).toBeGreaterThan(0);
    // Same seed again: the same bars, a duplicate, no second event.
    expect((await uc.execute({ symbol: 'SYN', timeframe: '1d', source })).status).toBe('duplicate');
    await settle();
    expect(events).toHaveLength(1);
  });

  it('synthetic: not configured without a ground-truth store; an invalid config is an invalid source', async () => {
    const none = new IngestBarsUseCase(bus, log, opts());
    const r = await none.execute({ symbol: 'SYN', timeframe: '1d', source: { kind: 'synthetic', seed: 1, bars: 10 } });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(new RegExp(`^${SOURCE_NOT_CONFIGURED}`));
    const uc = new IngestBarsUseCase(
      bus,
      log,
      opts(),
      undefined,
      undefined,
      undefined,
      undefined,
      new MemoryGroundTruth(),
    );
    const bad = await uc.execute({
      symbol: 'SYN',
      timeframe: '1d',
      source: { kind: 'synthetic', seed: 1, bars: 10, config: { transitionMatrix: [[1]] } },
    });
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatch(new RegExp(`^${SOURCE_INVALID}`));
    await settle();
    expect(events).toHaveLength(0);
  });

  it('alphavantage: not configured without the source (names ALPHAVANTAGE_API_KEY)', async () => {
    const uc = new IngestBarsUseCase(bus, log, opts());
    const r = await uc.execute({
      symbol: 'AAPL',
      timeframe: '1d',
      source: { kind: 'alphavantage', function: 'daily_adjusted' },
    });
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(new RegExp(`^${SOURCE_NOT_CONFIGURED}.*ALPHAVANTAGE_API_KEY`));
    expect(await log.get(r.id)).toMatchObject({ status: 'failed' });
  });

  it('alphavantage: ingests the fetched series and records its corporate actions after the commit; provider errors are source failures', async () => {
    const actions: CorporateAction[] = [
      { kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 },
    ];
    const calls: unknown[] = [];
    const av: AlphaVantageBarsSource = {
      fetch: async (symbol, timeframe, spec) => {
        calls.push({ symbol, timeframe, spec });
        if (symbol === 'FAIL') throw new Error('rate limited after 5 attempts');
        return { rows: decodeBarsCsv(AV_CSV), corporateActions: actions };
      },
    };
    const recorded: CorporateAction[][] = [];
    const uc = new IngestBarsUseCase(bus, log, opts(), undefined, undefined, av, {
      recordCorporateActions: async (a) => void recorded.push([...a]),
    });
    const r = await uc.execute({
      symbol: 'AAPL',
      timeframe: '1d',
      source: { kind: 'alphavantage', function: 'daily_adjusted', outputsize: 'full' },
    });
    expect(r).toMatchObject({
      status: 'completed',
      accepted: 2,
      rejected: 0,
      from: '2020-08-28T00:00:00.000Z',
      to: '2020-08-31T00:00:00.000Z',
    });
    expect(calls).toEqual([
      {
        symbol: 'AAPL',
        timeframe: '1d',
        spec: { kind: 'alphavantage', function: 'daily_adjusted', outputsize: 'full' },
      },
    ]);
    expect(recorded).toEqual([actions]);
    const f = await uc.execute({
      symbol: 'FAIL',
      timeframe: '1d',
      source: { kind: 'alphavantage', function: 'daily_adjusted' },
    });
    expect(f.error).toBe(`${SOURCE_FAILED} Alpha Vantage: rate limited after 5 attempts`);
    expect(f.errorKind).toBe('source_failed');
    expect(recorded).toHaveLength(1);
  });

  it('parquet file: by extension or PAR1 magic, read through the file reader; refused as not configured without one', async () => {
    const path = join(dir, 'uploads', 'bars.parquet');
    writeFileSync(path, Buffer.from('PAR1....PAR1'));
    const noMagicName = join(dir, 'uploads', 'upload.bin');
    writeFileSync(noMagicName, Buffer.from('PAR1....PAR1'));
    const none = new IngestBarsUseCase(bus, log, opts());
    expect((await none.execute({ symbol: 'PQ', timeframe: '1d', source: { kind: 'file', path } })).error).toMatch(
      new RegExp(`^${SOURCE_NOT_CONFIGURED}`),
    );
    const read: string[] = [];
    const reader = {
      readParquet: async (p: string) => (
        read.push(p),
        decodeBarsCsv('timestamp,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1,0.5,2,1.5,10\n')
      ),
    };
    const uc = new IngestBarsUseCase(bus, log, opts(), undefined, reader);
    const r = await uc.execute({ symbol: 'PQ', timeframe: '1d', source: { kind: 'file', path } });
    expect(r).toMatchObject({
      status: 'completed',
      accepted: 1,
      rejected: 1,
      rejects: [{ line: 3, reason: 'high_below_low' }],
    });
    const r2 = await uc.execute({ symbol: 'PQ2', timeframe: '1d', source: { kind: 'file', path: noMagicName } });
    expect(r2.status).toBe('completed');
    expect(read).toEqual([path, noMagicName]);
    // A .parquet name without the magic bytes is not Parquet.
    writeFileSync(path, 'timestamp,open\n');
    expect((await uc.execute({ symbol: 'PQ', timeframe: '1d', source: { kind: 'file', path } })).error).toMatch(
      new RegExp(`^${SOURCE_INVALID}.*PAR1`),
    );
  });
});
