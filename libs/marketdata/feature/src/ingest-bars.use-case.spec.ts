import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type Envelope } from '@strata/platform-contracts';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryIngestionLog } from './in-memory-ingestion-log';
import { IngestBarsUseCase } from './ingest-bars.use-case';

const CSV = 'timestamp,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,200\n';

describe('IngestBarsUseCase', () => {
  let bus: InProcessEventBus;
  let log: InMemoryIngestionLog;
  let useCase: IngestBarsUseCase;
  let dir: string;
  const events: Envelope[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-ingest-'));
    bus = new InProcessEventBus({ service: 'ingestion' });
    log = new InMemoryIngestionLog();
    useCase = new IngestBarsUseCase(bus, log, { allowedFileRoots: [join(dir, 'uploads')] });
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

  it('commits, records and publishes once; the event id is the ingestion id', async () => {
    const r = await useCase.execute(
      { symbol: 'ABC', timeframe: '1d', source: { kind: 'csv', csv: CSV } },
      { correlationId: 'corr-1' },
    );
    expect(r).toMatchObject({
      status: 'completed',
      accepted: 2,
      rejected: 0,
      from: '2024-01-02T00:00:00.000Z',
      to: '2024-01-03T00:00:00.000Z',
    });
    await settle();
    expect(events).toHaveLength(1);
    expect(events[0].id).toBe(r.id);
    expect(events[0].correlationId).toBe('corr-1');
    expect(await log.get(r.id)).toMatchObject({ id: r.id, status: 'completed', correlationId: 'corr-1' });
  });

  it('recognises the same batch (even reformatted) as a duplicate and publishes nothing more', async () => {
    const a = await useCase.execute({ symbol: 'ABC', timeframe: '1d', source: { kind: 'csv', csv: CSV } });
    const b = await useCase.execute({
      symbol: 'ABC',
      timeframe: '1d',
      source: { kind: 'csv', csv: CSV.replace('10.5,100', '10.50,100.0') },
    });
    expect(b).toMatchObject({ status: 'duplicate', duplicateOf: a.id });
    // Another symbol with the same bars is not a duplicate.
    expect((await useCase.execute({ symbol: 'XYZ', timeframe: '1d', source: { kind: 'csv', csv: CSV } })).status).toBe(
      'completed',
    );
    await settle();
    expect(events.map((e) => (e.data as { symbol: string }).symbol)).toEqual(['ABC', 'XYZ']);
  });

  it('lets exactly one of two concurrent identical ingests commit', async () => {
    const results = await Promise.all(
      [1, 2, 3].map(() => useCase.execute({ symbol: 'ABC', timeframe: '1d', source: { kind: 'csv', csv: CSV } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['completed', 'duplicate', 'duplicate']);
    await settle();
    expect(events).toHaveLength(1);
  });

  it('fails with line 1 for a malformed header, and when no row is valid; records both', async () => {
    const bad = await useCase.execute({
      symbol: 'ABC',
      timeframe: '1d',
      source: { kind: 'csv', csv: 'a,b,c\n1,2,3\n' },
    });
    expect(bad).toMatchObject({ status: 'failed', accepted: 0, rejects: [{ line: 1, reason: 'unparsable' }] });
    expect(bad.error).toMatch(/^line 1: malformed header/);
    const none = await useCase.execute({
      symbol: 'ABC',
      timeframe: '1d',
      source: { kind: 'csv', csv: 'timestamp,open,high,low,close,volume\n2024-01-02,0,1,1,1,1\n' },
    });
    expect(none).toMatchObject({ status: 'failed', rejected: 1, rejects: [{ line: 2, reason: 'non_positive_price' }] });
    expect((await log.get(none.id))?.status).toBe('failed');
    await settle();
    expect(events).toHaveLength(0);
  });

  it('reads file sources only inside the allowed roots', async () => {
    const inside = join(dir, 'uploads', 'a.csv');
    mkdirSync(join(dir, 'uploads'));
    writeFileSync(inside, CSV);
    expect(
      (await useCase.execute({ symbol: 'ABC', timeframe: '1d', source: { kind: 'file', path: inside } })).status,
    ).toBe('completed');
    const outside = join(dir, 'secret.csv');
    writeFileSync(outside, CSV);
    for (const path of [outside, join(dir, 'uploads', '..', 'secret.csv'), '/etc/passwd']) {
      const r = await useCase.execute({ symbol: 'ABC', timeframe: '1d', source: { kind: 'file', path } });
      expect(r.status).toBe('failed');
      expect(r.error).toMatch(/outside the allowed directories/);
    }
  });
});
