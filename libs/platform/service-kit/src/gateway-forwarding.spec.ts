/**
 * Gateway forwarding on the in-process bus (apps sharing one InProcessEventBus, as the apps' e2e specs run them): the
 * same wire as on NATS, a direct call in place of the request/reply, with the same answers for a stopped or silent
 * owner. The NATS path is covered by gateway-forwarding.int-spec.ts.
 */
import { Body, Controller, Get, Module, Post, Req } from '@nestjs/common';
import { InProcessEventBus } from '@strata/platform-bus';
import { createLogger, Roles, StaticApiKeyResolver, type AuthenticatedRequest } from '@strata/platform-http';
import { serviceConfigShape } from '@strata/shared-util';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { serviceRun, startServiceApp, type ServiceApp } from './service-app';

jest.setTimeout(60_000);

const release: Array<() => void> = [];

@Controller('strategies')
class StrategiesProbe {
  @Get('templates')
  templates(@Req() req: AuthenticatedRequest) {
    return { templates: ['sma-cross'], principal: req.principal };
  }

  @Post()
  @Roles('operator')
  create(@Body() body: { name: string; pad?: string }) {
    return { name: body.name, padBytes: body.pad?.length ?? 0 };
  }

  @Get('slow')
  slow() {
    return new Promise((resolve) => release.push(() => resolve({ late: true })));
  }
}

@Module({ controllers: [StrategiesProbe] })
class StrategiesProbeModule {}

const backtests = {
  name: 'backtests',
  description: 'test owner',
  config: z.object({}),
  owns: { duckdbTables: [], collections: [], streams: [], consumers: [] },
  api: () => [StrategiesProbeModule],
};

describe('gateway forwarding on the in-process bus', () => {
  const logger = createLogger({ service: 'gw-unit', level: 'silent' });
  let dataDir: string;
  let bus: InProcessEventBus;
  let gateway: ServiceApp;
  let owner: ServiceApp | undefined;
  const config = () => z.object(serviceConfigShape).parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const startOwner = async () => {
    owner = await startServiceApp({
      name: 'backtests',
      config: config(),
      logger,
      bus,
      embeddedStore: { file: 'backtests.duckdb' },
      http: { name: 'backtests', kind: 'service' },
      services: () => [serviceRun(backtests, { api: true, adapters: {} })],
    });
  };
  const call = (method: string, url: string, key?: string, payload?: unknown) =>
    gateway.http.inject({
      method: method as 'GET',
      url,
      headers: key ? { 'x-api-key': key } : {},
      ...(payload === undefined ? {} : { payload: payload as string }),
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-gw-unit-'));
    bus = new InProcessEventBus({ service: 'test' });
    await startOwner();
    gateway = await startServiceApp({
      name: 'gateway',
      config: config(),
      logger,
      bus,
      embeddedStore: { file: 'gateway.duckdb' },
      http: {
        name: 'gateway',
        kind: 'api',
        apiKeys: new StaticApiKeyResolver([
          { role: 'viewer', key: 'viewer-key-unit-01' },
          { role: 'operator', key: 'operator-key-unit-01' },
        ]),
        gateway: {
          asyncApi: () => ({ asyncapi: '3.0.0' }),
          forward: { routes: [{ prefix: '/strategies', service: 'backtests' }], timeoutMs: 300 },
        },
      },
      services: () => [],
    });
  });

  afterAll(async () => {
    release.splice(0).forEach((r) => r());
    await gateway?.close();
    await owner?.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('forwards with the principal, leaves role checks to the owner, and stages large bodies', async () => {
    const res = await call('GET', '/strategies/templates', 'viewer-key-unit-01');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ templates: ['sma-cross'], principal: { role: 'viewer', keyId: expect.any(String) } });
    expect((await call('POST', '/strategies', 'viewer-key-unit-01', { name: 'x' })).statusCode).toBe(403);
    expect((await call('GET', '/strategies/templates')).statusCode).toBe(401);
    const pad = 'p'.repeat(600 * 1024); // above the 256 KiB inline default: staged under <dataDir>/staging
    const big = await call('POST', '/strategies', 'operator-key-unit-01', { name: 'big', pad });
    expect(big.statusCode).toBe(201);
    expect(big.json()).toEqual({ name: 'big', padBytes: pad.length });
    const staged = readdirSync(join(dataDir, 'staging'), { recursive: true }).filter((f) =>
      String(f).endsWith('.body'),
    );
    expect(staged).toHaveLength(1);
  });

  it("relays the owner's 405 + Allow for a method its path does not declare (any method is forwarded)", async () => {
    for (const [method, url, allow] of [
      ['PATCH', '/strategies/templates', 'GET, HEAD'],
      ['TRACE', '/strategies/templates', 'GET, HEAD'],
      ['DELETE', '/strategies', 'POST'],
    ]) {
      const r = await call(method, url, 'viewer-key-unit-01');
      expect([method, url, r.statusCode, r.headers.allow]).toEqual([method, url, 405, allow]);
      expect(r.json()).toMatchObject({ type: 'urn:strata:problem:method-not-allowed' });
    }
    // The owner's port answers /health only, whatever the method.
    const direct = await owner!.http.inject({ method: 'PATCH', url: '/strategies/templates' });
    expect(direct.statusCode).toBe(404);
  });

  it('documents the 503 of an owner that is down on every forwarded operation of the merged document', async () => {
    const doc = (await call('GET', '/openapi.json')).json();
    const op = doc.paths['/strategies/templates'].get;
    expect(op.responses['503']).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
    expect(doc.paths['/strategies'].post.responses['503']).toBeDefined();
  });

  it('answers 503 naming the service for a silent owner (timeout) and a stopped one (no responder)', async () => {
    const slow = await call('GET', '/strategies/slow', 'viewer-key-unit-01');
    expect(slow.statusCode).toBe(503);
    expect(slow.json()).toMatchObject({ service: 'backtests', detail: expect.stringMatching(/within 300 ms/) });
    await owner!.close();
    owner = undefined;
    const down = await call('GET', '/strategies/templates', 'viewer-key-unit-01');
    expect(down.statusCode).toBe(503);
    expect(down.json().detail).toMatch(/backtests service is not available: no instance answers/);
    await startOwner();
    expect((await call('GET', '/strategies/templates', 'viewer-key-unit-01')).statusCode).toBe(200);
  });
});
