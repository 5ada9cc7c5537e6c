/**
 * The standalone sentinel (webhook side) without MONGODB_URI: its own embedded file, /health naming the bus and the
 * store, and an anomaly published on the bus delivered, signed, to a real local receiver, across a restart.
 */
import { AnomalyDetectedV1, type AnomalyDetected } from '@strata/dataquality-contracts';
import { WebhooksService } from '@strata/dataquality-feature';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { parseConfig, webhookDeliveryOptions } from '@strata/shared-util';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { SENTINEL_DUCKDB_FILE, startSentinel, type SentinelService } from './sentinel';

jest.setTimeout(60_000);

const SECRET = 'standalone-secret-000001';
const event = (id: string): AnomalyDetected => ({
  id,
  symbol: 'ACME',
  timeframe: '1d',
  barTs: '2024-03-05T00:00:00.000Z',
  kind: 'bad_tick',
  scores: { rules: 0.85, isolation_forest: null, forecast_residual: 0.9 },
  combined: 0.9,
  severity: 'CRITICAL',
  reason: 'close 150.00 is 40.0% above its neighbours and reverts next bar',
  modelVersions: { rules: 'rules-v1' },
  proposedSplit: null,
  ingestionId: 'ing1',
  detectedAt: '2024-03-05T00:00:01.000Z',
});

describe('standalone sentinel service', () => {
  let dataDir: string;
  let bus: InProcessEventBus;
  let svc: SentinelService | undefined;
  let server: Server;
  let url: string;
  const got: { key: string; valid: boolean }[] = [];

  const start = async () => {
    svc = await startSentinel({
      config: ConfigSchema.parse({
        STRATA_DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        SENTINEL_WEBHOOK_BASE_DELAY_MS: '20',
      }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus: bus.forService('sentinel'),
    });
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-sent-'));
    bus = new InProcessEventBus({ service: 'test' });
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const [, t, v1] = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(req.headers['strata-signature'])) ?? [];
        got.push({
          key: String(req.headers['strata-idempotency-key']),
          valid: createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex') === v1,
        });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await start();
  });

  afterAll(async () => {
    await svc?.close();
    await bus.close();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('parses its webhook settings and refuses bad ones by name', () => {
    const c = ConfigSchema.parse({ SENTINEL_WEBHOOK_MAX_ATTEMPTS: '9', SENTINEL_WEBHOOK_TIMEOUT_MS: '' });
    expect(webhookDeliveryOptions(c)).toEqual({ maxAttempts: 9, baseDelayMs: 1000, timeoutMs: 10_000, concurrency: 8 });
    expect(() => parseConfig(ConfigSchema, { SENTINEL_WEBHOOK_CONCURRENCY: '0' })).toThrow(
      /SENTINEL_WEBHOOK_CONCURRENCY/,
    );
  });

  it('/health names the bus and the embedded store', async () => {
    const h = await svc!.health.inject({ method: 'GET', url: '/health' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({
      service: 'sentinel',
      readiness: { status: 'up', dependencies: { bus: { status: 'up' }, store: { status: 'up', adapter: 'duckdb' } } },
    });
    expect(existsSync(join(dataDir, SENTINEL_DUCKDB_FILE))).toBe(true);
  });

  it('delivers a published anomaly, signed; after a restart, a new one too and the old one not again', async () => {
    const sub = await svc!.service
      .get(WebhooksService)
      .create({ url, minSeverity: 'HIGH', symbols: [], secret: SECRET, enabled: true }, null);
    const publisher = bus.forService('platform');
    await publisher.publish(AnomalyDetectedV1, event('dq_a'), { id: 'dq_a' });
    const wait = async (n: number) => {
      const end = Date.now() + 15_000;
      while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    };
    await wait(1);
    expect(got).toEqual([{ key: `dq_a:${sub.id}`, valid: true }]);
    await svc!.close();
    await start();
    await publisher.publish(AnomalyDetectedV1, event('dq_b'), { id: 'dq_b' });
    await wait(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual([
      { key: `dq_a:${sub.id}`, valid: true },
      { key: `dq_b:${sub.id}`, valid: true },
    ]);
  });
});
