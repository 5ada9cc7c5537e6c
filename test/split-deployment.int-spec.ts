/**
 * The split deployment's document sharing (issue 3): the standalone gateway and the standalone marketdata service,
 * each with its own connection to the same MongoDB (FerretDB in .ci/run), as separate processes would be. The
 * ingestion service records an ingest; the gateway serves it from the shared store; a second post of the same CSV
 * is a duplicate with no second event; keys issued on the gateway live in MongoDB. (Their bus is the in-process one,
 * one view per service, so this needs no NATS; apps/platform/src/services.int-spec.ts covers JetStream.)
 */
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import mongoose from 'mongoose';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema as GatewayConfigSchema } from '../apps/gateway/src/config';
import { startGateway, type Gateway } from '../apps/gateway/src/gateway';
import { ConfigSchema as MarketDataConfigSchema } from '../apps/marketdata/src/config';
import { MARKETDATA_DUCKDB_FILE, startMarketData, type MarketDataApp } from '../apps/marketdata/src/marketdata';
import { mongoTarget, uniqueName } from './infra';

const mongo = mongoTarget();

mongo.describeIf('split deployment: gateway and marketdata share MongoDB', () => {
  jest.setTimeout(120_000);
  // describe.skip still runs this body to collect tests, so it must not throw when MONGODB_URI is unset.
  const u = new URL(mongo.url ?? 'mongodb://127.0.0.1:27017/unset');
  u.pathname = `/${uniqueName('strata_split').toLowerCase()}`;
  const uri = u.toString();
  const ADMIN = 'split-admin-key-0001';
  let bus: InProcessEventBus;
  let gateway: Gateway;
  let ingestion: MarketDataApp;
  const dirs: string[] = [];
  const events: string[] = [];
  const logger = createLogger({ service: 'int', level: 'silent' });

  beforeAll(async () => {
    bus = new InProcessEventBus({ service: 'test' });
    await bus.subscribe(BarsIngestedV1, (d) => void events.push(d.ingestionId), { consumer: 'int__bars_ingested' });
    const dir = () => {
      const d = mkdtempSync(join(tmpdir(), 'strata-split-'));
      dirs.push(d);
      return d;
    };
    ingestion = await startMarketData({
      config: MarketDataConfigSchema.parse({ STRATA_DATA_DIR: dir(), MONGODB_URI: uri, LOG_LEVEL: 'silent' }),
      logger,
      bus,
    });
    gateway = await startGateway({
      config: GatewayConfigSchema.parse({
        STRATA_DATA_DIR: dir(),
        MONGODB_URI: uri,
        STRATA_API_KEYS: `admin:${ADMIN}`,
        LOG_LEVEL: 'silent',
      }),
      logger,
      bus,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await ingestion?.close();
    await bus?.close();
    const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
    await conn.db!.dropDatabase();
    await conn.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const call = (method: string, url: string, key: string, payload?: unknown) =>
    gateway.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload }),
    } as never);

  it('both name MongoDB in /health; only marketdata keeps a DuckDB file (its bars), the gateway none', async () => {
    const g = (await gateway.app.inject({ method: 'GET', url: '/health' })).json();
    const i = (await ingestion.http.inject({ method: 'GET', url: '/health' })).json();
    for (const h of [g, i])
      expect(h.readiness.dependencies.store).toEqual({
        status: 'up',
        adapter: 'mongodb',
        detail: `database ${u.pathname.slice(1)}`,
      });
    expect(readdirSync(dirs[0]).filter((f) => f.endsWith('.duckdb'))).toEqual([MARKETDATA_DUCKDB_FILE]);
    expect(readdirSync(dirs[1]).filter((f) => f.endsWith('.duckdb'))).toEqual([]);
    expect(existsSync(dirs[0])).toBe(true);
  });

  it('an ingest recorded by the marketdata service is served by the gateway; the same CSV again is a duplicate', async () => {
    const op = (await call('POST', '/admin/api-keys', ADMIN, { name: 'ops', role: 'operator' })).json();
    const csv = 'timestamp,open,high,low,close,volume\n2024-06-03,5,6,4,5.5,10\n2024-06-04,5.5,6,5,5.8,12\n';
    const first = await call('POST', '/market-data/ingest', op.key, { symbol: 'SPLIT', timeframe: '1d', csv });
    expect(first.statusCode).toBe(201);
    const id = first.json().id;
    const got = await call('GET', `/market-data/ingestions/${id}`, op.key);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id, status: 'completed', accepted: 2, requestedBy: op.id });
    const again = await call('POST', '/market-data/ingest', op.key, { symbol: 'SPLIT', timeframe: '1d', csv });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', duplicateOf: id });
    await new Promise((r) => setTimeout(r, 300));
    expect(events).toEqual([id]);
    // The key lives in MongoDB: revoke it and it stops working.
    expect((await call('DELETE', `/admin/api-keys/${op.id}`, ADMIN)).statusCode).toBe(200);
    expect((await call('GET', `/market-data/ingestions/${id}`, op.key)).statusCode).toBe(401);
  });
});
