/**
 * The standalone ingestion service without MONGODB_URI: its ingestion log in its own embedded file under
 * STRATA_DATA_DIR, so a batch sent again after a restart is still recognised as a duplicate (no second event), and
 * /health naming the bus and the store.
 */
import { BarsIngestedV1, IngestCommandV1 } from '@strata/marketdata-contracts';
import { type EventBus } from '@strata/platform-contracts';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { INGESTION_DUCKDB_FILE, startIngestion, type IngestionService } from './ingestion';

jest.setTimeout(60_000);

const CSV = 'timestamp,open,high,low,close,volume\n2024-05-01,10,11,9,10.5,100\n2024-05-02,10.5,12,10,11,120\n';

describe('standalone ingestion service with the embedded document store', () => {
  let dataDir: string;
  let bus: InProcessEventBus;
  let svc: IngestionService | undefined;
  const events: string[] = [];

  const start = async () => {
    svc = await startIngestion({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus: bus.forService('ingestion'),
    });
  };
  const ingest = (client: EventBus) =>
    client.request(
      IngestCommandV1,
      { symbol: 'SOLO', timeframe: '1d', source: { kind: 'csv', csv: CSV } },
      { timeoutMs: 10_000 },
    );

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-ing-'));
    bus = new InProcessEventBus({ service: 'test' });
    await bus.subscribe(BarsIngestedV1, (d) => void events.push(d.ingestionId), { consumer: 'e2e__bars_ingested' });
    await start();
  });

  afterAll(async () => {
    await svc?.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('/health names the bus and the embedded store; the log has its own file', async () => {
    const h = await svc!.health.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({
      service: 'ingestion',
      readiness: {
        status: 'up',
        dependencies: { bus: { status: 'up' }, store: { status: 'up', adapter: 'duckdb', detail: 'embedded' } },
      },
    });
    expect(existsSync(join(dataDir, INGESTION_DUCKDB_FILE))).toBe(true);
  });

  it('a batch sent again after a restart is a duplicate, with no second event', async () => {
    const client = bus.forService('gateway');
    const first = await ingest(client);
    expect(first).toMatchObject({ status: 'completed', accepted: 2 });
    await svc!.close();
    await start();
    const again = await ingest(client);
    expect(again).toMatchObject({ status: 'duplicate', duplicateOf: first.id });
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([first.id]);
  });
});
