/**
 * Gateway forwarding on real NATS and FerretDB: a gateway and the four route owners of GATEWAY_ROUTES run as separate
 * startServiceApp instances (each with its own JetStreamEventBus connection and MongoDB connection) in this process.
 * Each owner serves probe routes under each of its prefixes; everything is called through the gateway's HTTP app.
 */
import { Body, Controller, Get, Module, Param, Post, Req } from '@nestjs/common';
import { GATEWAY_ROUTES, ROUTE_OWNERS } from '@strata/catalog-contracts';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import {
  createLogger,
  FORWARDED_PRINCIPAL_HEADER,
  INTERNAL_TOKEN_HEADER,
  Roles,
  StaticApiKeyResolver,
  type AuthenticatedRequest,
} from '@strata/platform-http';
import type { ServiceDefinition } from '@strata/platform-messaging';
import { serviceConfigShape } from '@strata/shared-util';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { mongoTarget, natsTarget, uniqueName } from '../../../../test/infra';
import { ForwardError, httpSubject, NatsHttpBusTransport } from './http-over-bus';
import { serviceRun, startServiceApp, type ServiceApp } from './service-app';

jest.setTimeout(120_000);

const nats = natsTarget();
const mongo = mongoTarget();
const describeIf = nats.url && mongo.url ? describe : describe.skip;

const VIEWER = 'viewer-key-gw-0001';
const OPERATOR = 'operator-key-gw-0001';
const ADMIN = 'admin-key-gw-0001';
const FORWARD_TIMEOUT_MS = 1500;
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** Requests the hung route is holding, released at the end so nothing dangles. */
const hung: Array<() => void> = [];

/** A probe controller for one prefix of one owner. */
function probeController(prefix: string, service: string, replica: number) {
  @Controller(prefix.slice(1))
  class ProbeController {
    @Get('probe')
    probe(@Req() req: AuthenticatedRequest) {
      return { service, replica, prefix, principal: req.principal, query: req.query, requestId: req.id };
    }

    @Post('probe')
    @Roles('operator')
    echo(@Body() body: { text: string }) {
      // Returns the text back, so a large request also gives a large response (staged both ways).
      return { service, bytes: body.text.length, sha256: sha(body.text), text: body.text };
    }

    @Post('admin-only')
    @Roles('admin')
    adminOnly(@Req() req: AuthenticatedRequest) {
      return { service, principal: req.principal };
    }

    @Post('upload')
    @Roles('operator')
    async upload(@Req() req: AuthenticatedRequest) {
      const fields: Record<string, string> = {};
      let file: Buffer | undefined;
      for await (const part of req.parts()) {
        if (part.type === 'file') file = await part.toBuffer();
        else fields[part.fieldname] = String(part.value);
      }
      return { service, fields, bytes: file?.length ?? 0, sha256: file ? sha(file) : null };
    }

    @Get('hang/:id')
    hang(@Param('id') id: string) {
      return new Promise((resolve) => hung.push(() => resolve({ id })));
    }
  }
  return ProbeController;
}

function ownerDefinition(service: string, replica: number): ServiceDefinition<object> {
  const controllers = GATEWAY_ROUTES.filter((r) => r.service === service).map((r) =>
    probeController(r.prefix, service, replica),
  );
  @Module({ controllers })
  class OwnerApiModule {}
  return {
    name: service,
    description: `test owner ${service}`,
    config: z.object({}),
    owns: { duckdbTables: [], collections: [], streams: [], consumers: [] },
    api: () => [OwnerApiModule],
  };
}

describeIf('gateway forwarding over real NATS (owners as separate service apps)', () => {
  const namespace = `${uniqueName('gw').replace(/_/g, '')}.`;
  const dbName = uniqueName('strata_gwfwd');
  // A database of its own, dropped afterwards.
  const mongoUri = (mongo.url ?? '').replace(/\/[^/?]*(\?|$)/, `/${dbName}$1`);
  let dataDir: string;
  let staging: ObjectStoreArtifactStore;
  let stagingBus: JetStreamEventBus;
  const staged = { put: 0, get: 0 };
  let gateway: ServiceApp;
  const owners: Record<string, ServiceApp | undefined> = {};
  const logger = createLogger({ service: 'gw-int', level: 'silent' });

  const config = () =>
    z.object(serviceConfigShape).parse({
      STRATA_DATA_DIR: dataDir,
      NATS_URL: nats.url,
      MONGODB_URI: mongoUri,
      LOG_LEVEL: 'silent',
    });

  const startOwner = async (service: string, replica = 1): Promise<ServiceApp> => {
    const app = await startServiceApp({
      name: service,
      config: config(),
      logger,
      embeddedStore: { file: `${service}.duckdb` },
      http: { name: service, kind: 'service', busNamespace: namespace },
      staging: () => countingStaging,
      services: () => [serviceRun(ownerDefinition(service, replica), { api: true, adapters: {} })],
    });
    if (replica === 1) owners[service] = app;
    return app;
  };
  const stopOwner = async (service: string): Promise<void> => {
    await owners[service]?.close();
    owners[service] = undefined;
  };

  const call = (method: string, url: string, key?: string, init: { payload?: unknown; headers?: object } = {}) =>
    gateway.http.inject({
      method: method as 'GET',
      url,
      headers: { ...(key ? { 'x-api-key': key } : {}), ...(init.headers ?? {}) },
      ...(init.payload === undefined ? {} : { payload: init.payload as string }),
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-gwfwd-'));
    // The staging store every side shares: a JetStream Object Store bucket of its own (production: strata-staging).
    stagingBus = await JetStreamEventBus.connect({ servers: nats.url!, service: 'gw-int-staging' });
    staging = await ObjectStoreArtifactStore.open(stagingBus.connection(), {
      bucket: uniqueName('gw-staging').replace(/_/g, '-'),
      ttlMs: 10 * 60_000,
    });
    for (const s of ROUTE_OWNERS) await startOwner(s);
    gateway = await startGateway();
  });

  const startGateway = () =>
    startServiceApp({
      name: 'gateway',
      config: config(),
      logger,
      embeddedStore: { file: 'gateway.duckdb' },
      http: {
        name: 'gateway',
        kind: 'api',
        busNamespace: namespace,
        apiKeys: new StaticApiKeyResolver([
          { role: 'viewer', key: VIEWER },
          { role: 'operator', key: OPERATOR },
          { role: 'admin', key: ADMIN },
        ]),
        gateway: {
          asyncApi: () => ({ asyncapi: '3.0.0', info: { title: 'test', version: '0' } }),
          forward: { routes: GATEWAY_ROUTES, timeoutMs: FORWARD_TIMEOUT_MS },
        },
      },
      staging: () => countingStaging,
      services: () => [],
    });

  afterAll(async () => {
    hung.splice(0).forEach((release) => release());
    await gateway?.close();
    for (const s of ROUTE_OWNERS) await stopOwner(s);
    const { MongoClient } = await import('mongodb');
    const client = await MongoClient.connect(mongoUri);
    await client.db(dbName).dropDatabase();
    await client.close();
    await staging?.destroy();
    await stagingBus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The shared staging store, counting what goes through it. */
  const countingStaging = {
    put: (bytes: Uint8Array, opts?: { extension?: string }) => (staged.put++, staging.put(bytes, opts)),
    get: (key: string) => (staged.get++, staging.get(key)),
  };

  it('answers a route under every prefix from the owning service, with the principal the gateway authenticated', async () => {
    for (const route of GATEWAY_ROUTES) {
      const res = await call('GET', `${route.prefix}/probe?symbol=SPY&limit=100`, VIEWER, {
        headers: { 'x-request-id': `req-${route.service}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/application\/json/);
      expect(res.headers['x-request-id']).toBe(`req-${route.service}`);
      const body = res.json();
      expect(body).toMatchObject({
        service: route.service,
        prefix: route.prefix,
        query: { symbol: 'SPY', limit: '100' },
      });
      expect(body.principal).toEqual({ role: 'viewer', keyId: expect.stringMatching(/^key_[0-9a-f]{12}$/) });
      expect(body.requestId).toBe(`req-${route.service}`);
    }
  });

  it('401 without or with an unknown key (at the gateway); 403 from the owner when the role is too low', async () => {
    const none = await call('GET', '/market-data/probe');
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.headers['www-authenticate']).toMatch(/Bearer/);
    expect((await call('GET', '/signals/probe', 'not-a-known-key')).statusCode).toBe(401);
    const low = await call('POST', '/strategies/probe', VIEWER, { payload: { text: 'x' } });
    expect(low.statusCode).toBe(403);
    expect(low.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(low.json()).toMatchObject({ status: 403, requiredRole: 'operator' });
    const ok = await call('POST', '/strategies/probe', OPERATOR, { payload: { text: 'abc' } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ service: 'backtests', bytes: 3 });
    // An unknown path under an owned prefix is the owner's 404 problem.
    const missing = await call('GET', '/webhooks/none/such/path', VIEWER);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('rejects a spoofed principal: through the gateway the header is replaced, on the owner it needs the internal token', async () => {
    const spoof = {
      [FORWARDED_PRINCIPAL_HEADER]: JSON.stringify({ role: 'admin', keyId: 'key_000000000000' }),
      [INTERNAL_TOKEN_HEADER]: 'guessed-token',
    };
    const viaGateway = await call('POST', '/data-quality/admin-only', VIEWER, { headers: spoof });
    expect(viaGateway.statusCode).toBe(403);
    expect(viaGateway.json().detail).toMatch(/has viewer/);
    expect((await call('POST', '/data-quality/admin-only', ADMIN)).statusCode).toBe(201);
    // Straight at an owner's HTTP app (as if its port were reached): API routes are not served there at all.
    const owner = owners.sentinel!.http;
    const direct = await owner.inject({ method: 'POST', url: '/data-quality/admin-only', headers: spoof });
    expect(direct.statusCode).toBe(404);
    expect(direct.json().detail).toMatch(/through the gateway only/);
    expect((await owner.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    expect((await owner.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(404);
  });

  it('forwards bodies above 1 MiB through the staging store in both directions (JSON and multipart)', async () => {
    const text = randomBytes(900 * 1024).toString('base64'); // 1.2 MB of text
    const res = await call('POST', '/market-data/probe', OPERATOR, {
      payload: JSON.stringify({ text }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ service: 'marketdata', bytes: text.length, sha256: sha(text) });
    expect(body.text).toBe(text);
    // Both the request and the response went through staging (each body is above the inline limit).
    expect(staged).toEqual({ put: 2, get: 2 });

    const file = randomBytes(1536 * 1024);
    const boundary = '----strata-gw-test';
    const multipart = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="symbol"\r\n\r\nSPY\r\n`),
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="SPY_1h.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = await call('POST', '/features/upload', OPERATOR, {
      payload: multipart,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(up.statusCode).toBe(201);
    expect(up.json()).toEqual({
      service: 'marketdata',
      fields: { symbol: 'SPY' },
      bytes: file.length,
      sha256: sha(file),
    });
    expect(staged).toEqual({ put: 3, get: 3 });
    // A small body stays inline.
    expect((await call('POST', '/market-data/probe', OPERATOR, { payload: { text: 'small' } })).statusCode).toBe(201);
    expect(staged).toEqual({ put: 3, get: 3 });
  });

  it('503 naming the service when the owner is stopped, and answers again once it is back', async () => {
    await stopOwner('signals');
    const t0 = Date.now();
    const down = await call('GET', '/signals/probe', VIEWER);
    expect(Date.now() - t0).toBeLessThan(FORWARD_TIMEOUT_MS);
    expect(down.statusCode).toBe(503);
    expect(down.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(down.json()).toMatchObject({ status: 503, service: 'signals' });
    expect(down.json().detail).toMatch(/signals service is not available/);
    // Other owners are unaffected.
    expect((await call('GET', '/backtests/probe', VIEWER)).statusCode).toBe(200);
    // A gateway (replica) that starts while signals is down documents the others and says which owner is missing;
    // the document it cached from the others is kept, the missing one is fetched again on the next request.
    const second = await startGateway();
    try {
      const openapi = async () => (await second.http.inject({ method: 'GET', url: '/openapi.json' })).json();
      const partial = await openapi();
      expect(partial['x-strata-unavailable']).toEqual(['signals']);
      expect(Object.keys(partial.paths)).not.toContain('/signals/probe');
      expect(Object.keys(partial.paths)).toContain('/backtests/probe');

      await startOwner('signals');
      const up = await call('GET', '/signals/probe', VIEWER);
      expect(up.statusCode).toBe(200);
      expect(up.json().service).toBe('signals');
      const full = await openapi();
      expect(full['x-strata-unavailable']).toBeUndefined();
      expect(Object.keys(full.paths)).toEqual(expect.arrayContaining(['/signals/probe', '/admin/api-keys']));
    } finally {
      await second.close();
    }
  });

  it('a message above the NATS max payload fails as too_large (413), never as unavailable', async () => {
    const transport = new NatsHttpBusTransport(stagingBus.connection());
    const body = new Uint8Array(transport.maxPayloadBytes + 1);
    const err = await transport
      .request(httpSubject('marketdata', namespace), { meta: '{}', body }, 1000)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForwardError);
    expect((err as ForwardError).code).toBe('too_large');
    expect((err as ForwardError).message).toMatch(/max payload/);
  });

  it("an owner's replicas share its requests (queue group)", async () => {
    const second = await startOwner('backtests', 2);
    try {
      const seen = new Set<number>();
      for (let i = 0; i < 40 && seen.size < 2; i++) {
        const res = await call('GET', '/backtests/probe', VIEWER);
        expect(res.statusCode).toBe(200);
        seen.add(res.json().replica);
      }
      expect([...seen].sort()).toEqual([1, 2]);
    } finally {
      await second.close();
    }
    // With the replica gone, the first one answers everything.
    for (let i = 0; i < 5; i++) expect((await call('GET', '/backtests/probe', VIEWER)).json().replica).toBe(1);
  });

  it('forwards a 100 MB multipart upload through the staging store', async () => {
    const file = Buffer.alloc(100 * 1024 * 1024);
    for (let i = 0; i < file.length; i += 4096) file[i] = (i * 2654435761) >>> 24;
    const boundary = '----strata-gw-big';
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const before = staged.put;
    const res = await call('POST', '/market-data/upload', OPERATOR, {
      payload,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ service: 'marketdata', bytes: file.length, sha256: sha(file) });
    expect(staged.put).toBe(before + 1);
  });

  it('503 within the configured timeout when the owner hangs', async () => {
    const t0 = Date.now();
    const res = await call('GET', '/webhooks/hang/1', VIEWER);
    const elapsed = Date.now() - t0;
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ service: 'sentinel' });
    expect(res.json().detail).toMatch(new RegExp(`within ${FORWARD_TIMEOUT_MS} ms`));
    expect(elapsed).toBeGreaterThanOrEqual(FORWARD_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(FORWARD_TIMEOUT_MS + 1000);
  });

  it("/openapi.json merges every owner's routes with the gateway's own, and /docs serves it", async () => {
    const doc = (await call('GET', '/openapi.json')).json();
    const paths = Object.keys(doc.paths);
    for (const r of GATEWAY_ROUTES) expect(paths).toContain(`${r.prefix}/probe`);
    expect(paths).toEqual(expect.arrayContaining(['/admin/api-keys', '/asyncapi.json', '/health']));
    expect((await call('GET', '/docs')).statusCode).toBe(200);
    expect(existsSync(join(dataDir, 'bootstrap-admin.key'))).toBe(false);
  });
});
