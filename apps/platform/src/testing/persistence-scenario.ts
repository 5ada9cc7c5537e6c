/**
 * The `npm start` persistence scenario, shared by the embedded (DuckDB) e2e test and the MongoDB (FerretDB)
 * integration test: the platform boots on a data dir with its default bus (in-process, journaled there) and no
 * configured keys (so the bootstrap admin key is used), records an ingest and issues API keys, is closed and started
 * again on the same data dir, and must still know all of it.
 */
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { BOOTSTRAP_ADMIN_KEY_FILE, createLogger } from '@strata/platform-http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../config';
import { startPlatform, type Platform } from '../platform';

type BarsEvent = Envelope<PayloadOf<typeof BarsIngestedV1>>;

/** What differs between the storage modes. */
export interface PersistenceScenarioOptions {
  /** Extra configuration (e.g. `MONGODB_URI`); read once, before the first boot. */
  env: () => Record<string, string>;
  /** `adapter` the `/health` report must name for the `store` dependency. */
  storeAdapter: 'duckdb' | 'mongodb';
  /** Checks where the documents went (shared DuckDB instance, or not in DuckDB at all). */
  expectLayout: (platform: Platform) => Promise<void>;
  /** Runs after the last close (drop the database …). */
  cleanup?: () => Promise<void>;
}

const CSV = [
  'timestamp,open,high,low,close,volume',
  '2024-03-01,50,51,49,50.5,1000',
  '2024-03-04,50.5,52,50,51.5,1200',
  '2024-03-05,51.5,51,52,51,900', // line 4: high below low
  '2024-03-06,51,53,50.5,52.5,1500',
].join('\n');

/** Registers the scenario's tests in the current `describe`. */
export function persistenceScenario(opts: PersistenceScenarioOptions): void {
  let dataDir: string;
  let env: Record<string, string>;
  let platform: Platform | undefined;
  let announcements = 0;
  let adminKey = '';
  let operatorKey = '';
  let viewer = { id: '', key: '' };
  let ingestionId = '';
  const firstBoot: BarsEvent[] = [];

  const boot = async (): Promise<Platform> => {
    // The bootstrap admin key is announced on stdout, once, when it is created.
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      if (String(chunk).includes('created an admin API key')) announcements++;
      return true;
    });
    try {
      return await startPlatform({
        config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env }),
        logger: createLogger({ service: 'e2e', level: 'silent' }),
      });
    } finally {
      spy.mockRestore();
    }
  };
  const restart = async () => {
    await platform?.close();
    platform = undefined;
    platform = await boot();
  };
  const call = (method: string, url: string, key?: string, payload?: unknown) =>
    platform!.gateway.inject({
      method,
      url,
      headers: key ? { authorization: `Bearer ${key}` } : {},
      ...(payload === undefined ? {} : { payload }),
    } as never);
  const collect = async (consumer: string, into: BarsEvent[]) => {
    await platform!.bus.subscribe(BarsIngestedV1, (_d, ctx) => void into.push(ctx.envelope), {
      consumer,
      deliverFrom: 'all',
    });
  };
  const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));
  const waitFor = async (pred: () => boolean, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await settle(20);
    return pred();
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-persist-'));
    env = opts.env();
    platform = await boot();
    adminKey = readFileSync(join(dataDir, BOOTSTRAP_ADMIN_KEY_FILE), 'utf8').trim();
  });

  afterAll(async () => {
    await platform?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await opts.cleanup?.();
  });

  it('first boot: /health names the bus and the document store, both up', async () => {
    expect(announcements).toBe(1);
    const health = await call('GET', '/health');
    expect(health.statusCode).toBe(200);
    expect(health.json().readiness).toEqual({
      status: 'up',
      // One round of checks serves readiness for at most a second; checkedAt says when it ran.
      checkedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      dependencies: {
        bus: expect.objectContaining({ status: 'up', adapter: 'in-process' }),
        store: expect.objectContaining({ status: 'up', adapter: opts.storeAdapter }),
      },
    });
    await opts.expectLayout(platform!);
  });

  it('the bootstrap admin issues an operator key, which ingests a CSV: one bars.ingested event', async () => {
    const issued = await call('POST', '/admin/api-keys', adminKey, { name: 'ingest-bot', role: 'operator' });
    expect(issued.statusCode).toBe(201);
    operatorKey = issued.json().key;
    const v = (await call('POST', '/admin/api-keys', adminKey, { name: 'dashboard', role: 'viewer' })).json();
    viewer = { id: v.id, key: v.key };
    await collect('e2e__bars_ingested', firstBoot);
    const r = await call('POST', '/market-data/ingest', operatorKey, { symbol: 'persist', timeframe: '1d', csv: CSV });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ status: 'completed', symbol: 'PERSIST', accepted: 3, rejected: 1 });
    ingestionId = r.json().id;
    expect(await waitFor(() => firstBoot.length === 1)).toBe(true);
    expect(firstBoot[0].data).toMatchObject({ ingestionId, rowCount: 3 });
  });

  it('after a restart on the same data dir: the ingestion, its bars and the issued keys are all there', async () => {
    await restart();
    expect(announcements).toBe(1); // the stored bootstrap key is reused, not replaced
    const r = await call('GET', `/market-data/ingestions/${ingestionId}`, viewer.key);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      id: ingestionId,
      status: 'completed',
      symbol: 'PERSIST',
      accepted: 3,
      rejected: 1,
      rejects: [{ line: 4, reason: 'high_below_low' }],
    });
    const bars = await call('GET', '/market-data/bars?symbol=PERSIST&timeframe=1d', viewer.key);
    expect(bars.statusCode).toBe(200);
    expect(bars.json().items.map((b: { ts: string }) => b.ts.slice(0, 10))).toEqual([
      '2024-03-01',
      '2024-03-04',
      '2024-03-06',
    ]);
    const keys = await call('GET', '/admin/api-keys', adminKey);
    expect(
      keys
        .json()
        .items.map((k: { name: string }) => k.name)
        .sort(),
    ).toEqual(['dashboard', 'ingest-bot']);
  });

  it('the same CSV posted again after the restart is a duplicate: 200, and no second event', async () => {
    const resumed: BarsEvent[] = [];
    const replay: BarsEvent[] = [];
    await collect('e2e__bars_ingested', resumed); // the durable consumer of the first boot, resumed
    await collect('e2e__bars_replay', replay); // a new consumer reading the whole retained stream
    const again = await call('POST', '/market-data/ingest', operatorKey, {
      symbol: 'PERSIST',
      timeframe: '1d',
      csv: CSV.replace(/\n/g, '\r\n'),
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', duplicateOf: ingestionId, accepted: 3 });
    await settle(500);
    expect(resumed).toHaveLength(0);
    expect(replay.map((e) => e.data.ingestionId)).toEqual([ingestionId]);
    // The duplicate is recorded too, under its own id.
    const dup = await call('GET', `/market-data/ingestions/${again.json().id}`, viewer.key);
    expect(dup.json()).toMatchObject({ status: 'duplicate', duplicateOf: ingestionId });
  });

  it('a revoked key gets 401 at once, and stays revoked across a restart', async () => {
    expect((await call('GET', `/market-data/ingestions/${ingestionId}`, viewer.key)).statusCode).toBe(200);
    const revoked = await call('DELETE', `/admin/api-keys/${viewer.id}`, adminKey);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ id: viewer.id, status: 'revoked' });
    const denied = await call('GET', `/market-data/ingestions/${ingestionId}`, viewer.key);
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    await restart();
    expect((await call('GET', `/market-data/ingestions/${ingestionId}`, viewer.key)).statusCode).toBe(401);
    expect((await call('GET', `/market-data/ingestions/${ingestionId}`, operatorKey)).statusCode).toBe(200);
    const all = (await call('GET', '/admin/api-keys?includeRevoked=true', adminKey)).json();
    expect(all.items.find((k: { id: string }) => k.id === viewer.id)).toMatchObject({ status: 'revoked' });
  });
}
