/**
 * The standalone gateway without MONGODB_URI: documents in its own embedded file under STRATA_DATA_DIR, API keys
 * issued through /admin/api-keys (admin role) authenticating until revoked and surviving a restart, and /health
 * naming the bus and the store. It holds no data: an authenticated request under /market-data is forwarded to the
 * marketdata service, which does not run here, so it answers 503 naming it (an unauthenticated one 401).
 */
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { GATEWAY_DUCKDB_FILE, startGateway, type Gateway } from './gateway';

jest.setTimeout(60_000);

const ADMIN = 'gateway-admin-key-01';
const VIEWER = 'gateway-viewer-key-01';

describe('standalone gateway with the embedded document store', () => {
  let dataDir: string;
  let bus: InProcessEventBus;
  let gw: Gateway | undefined;

  const start = async () => {
    gw = await startGateway({
      config: ConfigSchema.parse({
        STRATA_DATA_DIR: dataDir,
        STRATA_API_KEYS: `admin:${ADMIN},viewer:${VIEWER}`,
        LOG_LEVEL: 'silent',
      }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
    });
  };
  const call = (method: string, url: string, key?: string, payload?: unknown) =>
    gw!.app.inject({
      method,
      url,
      headers: key ? { 'x-api-key': key } : {},
      ...(payload === undefined ? {} : { payload }),
    } as never);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-gw-'));
    bus = new InProcessEventBus({ service: 'gateway' });
    await start();
  });

  afterAll(async () => {
    await gw?.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps its documents in its own DuckDB file and names bus and store in /health', async () => {
    expect(existsSync(join(dataDir, GATEWAY_DUCKDB_FILE))).toBe(true);
    expect(existsSync(join(dataDir, 'strata.duckdb'))).toBe(false);
    const h = await call('GET', '/health');
    expect(h.statusCode).toBe(200);
    expect(h.json().readiness.dependencies).toEqual({
      bus: { status: 'up', adapter: 'in-process', detail: 'memory only' },
      store: { status: 'up', adapter: 'duckdb', detail: 'embedded' },
    });
    const openapi = (await call('GET', '/openapi.json')).json();
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/admin/api-keys', '/admin/api-keys/{id}']));
  });

  it('/admin/api-keys is admin-only; an issued key works, survives a restart, and gets 401 once revoked', async () => {
    expect((await call('POST', '/admin/api-keys', VIEWER, { name: 'x', role: 'viewer' })).statusCode).toBe(403);
    const issued = await call('POST', '/admin/api-keys', ADMIN, { name: 'reader', role: 'viewer' });
    expect(issued.statusCode).toBe(201);
    const { id, key } = issued.json();
    // Authenticated, then forwarded: the owner is not running, so 503 naming it (not 401).
    const forwarded = async (k: string) => {
      const r = await call('GET', '/market-data/ingestions/none-such', k);
      return { status: r.statusCode, namesOwner: JSON.stringify(r.json()).includes('marketdata') };
    };
    expect(await forwarded(key)).toEqual({ status: 503, namesOwner: true });
    await gw!.close();
    await start();
    expect(await forwarded(key)).toEqual({ status: 503, namesOwner: true });
    expect((await call('DELETE', `/admin/api-keys/${id}`, ADMIN)).statusCode).toBe(200);
    const denied = await call('GET', '/market-data/ingestions/none-such', key);
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    // Config keys keep working next to the stored ones.
    expect(await forwarded(VIEWER)).toEqual({ status: 503, namesOwner: true });
  });
});
