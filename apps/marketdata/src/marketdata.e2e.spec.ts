/**
 * The standalone marketdata service without MONGODB_URI: one DuckDB file under STRATA_DATA_DIR (bars, features and the
 * ingestion log); its port answers /health only, its REST goes through the gateway (HTTP over the bus); an ingest is
 * stored and its features are materialised by its own refresh worker; after a restart the bars are still there and
 * the same batch is recognised as a duplicate (no second event).
 */
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema as GatewayConfigSchema } from '../../gateway/src/config';
import { startGateway, type Gateway } from '../../gateway/src/gateway';
import { ConfigSchema } from './config';
import { MARKETDATA_DUCKDB_FILE, startMarketData, type MarketDataApp } from './marketdata';

jest.setTimeout(120_000);

const KEY = 'md-operator-key-0001';
// A real slice of the bundled SPY file (2019–2020), long enough for every core feature's warm-up.
const SPY = readFileSync(resolve(__dirname, '../../../data/sample/SPY_1d.csv'), 'utf8').trim().split('\n');
const CSV = [SPY[0], ...SPY.slice(1).filter((l) => l >= '2019-01-01' && l < '2021-01-01')].join('\n');
const ROWS = CSV.split('\n').length - 1;

describe('standalone marketdata service (embedded store)', () => {
  let dataDir: string;
  let bus: InProcessEventBus;
  let svc: MarketDataApp | undefined;
  let gateway: Gateway;
  const events: string[] = [];

  const start = async () => {
    svc = await startMarketData({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', STRATA_API_KEYS: `operator:${KEY}` }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
    });
  };
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    gateway.app.inject({ method, url, headers: { 'x-api-key': KEY }, ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-md-'));
    bus = new InProcessEventBus({ service: 'test' });
    await bus.subscribe(BarsIngestedV1, (d) => void events.push(d.ingestionId), { consumer: 'e2e__bars_ingested' });
    await start();
    gateway = await startGateway({
      config: GatewayConfigSchema.parse({
        STRATA_DATA_DIR: join(dataDir, 'gateway'),
        LOG_LEVEL: 'silent',
        STRATA_API_KEYS: `operator:${KEY}`,
      }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await svc?.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('/health names the bus and the embedded store; everything lives in one DuckDB file', async () => {
    const h = await svc!.http.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({
      service: 'marketdata',
      readiness: { status: 'up', dependencies: { bus: { status: 'up' }, store: { status: 'up', adapter: 'duckdb' } } },
    });
    expect(readdirSync(dataDir).filter((f) => f.endsWith('.duckdb'))).toEqual([MARKETDATA_DUCKDB_FILE]);
    // REST only through the gateway.
    const direct = await svc!.http.inject({
      method: 'GET',
      url: '/market-data/symbols',
      headers: { 'x-api-key': KEY },
    });
    expect(direct.statusCode).toBe(404);
  });

  let ingestionId: string;
  it('stores an ingest and materialises its features', async () => {
    const r = await call('POST', '/market-data/ingest', { symbol: 'SPY', timeframe: '1d', csv: CSV });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ status: 'completed', accepted: ROWS });
    ingestionId = r.json().id;
    const bars = (await call('GET', '/market-data/bars?symbol=SPY&timeframe=1d&limit=1000')).json();
    expect(bars.items).toHaveLength(ROWS);
    expect(bars.items.at(-1).close).toBe(Number(CSV.split('\n').at(-1)!.split(',')[4]));
    const end = Date.now() + 60_000;
    let features: { items: { ts: string }[] } = { items: [] };
    while (Date.now() < end) {
      features = (await call('GET', '/features?set=core&symbol=SPY&timeframe=1d&from=2020-12-01&limit=100')).json();
      if (features.items?.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(features.items.at(-1)?.ts).toBe(bars.items.at(-1).ts);
  });

  it('after a restart the bars are there and the same batch is a duplicate, with no second event', async () => {
    await svc!.close();
    await start();
    const bars = (await call('GET', '/market-data/bars?symbol=SPY&timeframe=1d&limit=1000')).json();
    expect(bars.items).toHaveLength(ROWS);
    const again = await call('POST', '/market-data/ingest', { symbol: 'SPY', timeframe: '1d', csv: CSV });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ status: 'duplicate', duplicateOf: ingestionId });
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([ingestionId]);
  });
});
