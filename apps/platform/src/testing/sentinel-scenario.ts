/**
 * The data-quality sentinel end to end, shared by the embedded e2e test (in-process bus, DuckDB documents) and the
 * integration test (NATS JetStream + FerretDB): a real SPY sample slice with planted bad ticks is ingested through
 * REST; DataQualityEvents are stored and listed; webhook deliveries reach a REAL local HTTP receiver that checks the
 * signature itself and fails the first two attempts; the summary reflects the events; ack / resolve obey roles.
 */
import { AnomalyDetectedV1 } from '@strata/dataquality-contracts';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type EventBus, type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { FeaturesService } from '@strata/features-feature';
import { SentinelEventsHandler } from '@strata/dataquality-feature';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from '../config';
import { startPlatform, type Platform } from '../platform';
import { waitFor } from './wait-for';

/** API keys of the scenario, one per role. */
export const SENTINEL_KEYS = {
  admin: 'admin-key-sentinel-1',
  operator: 'operator-key-sentinel-1',
  viewer: 'viewer-key-sentinel-1',
};

/** A real SPY slice (2015–2016, 504 daily bars) with bad ticks planted at `ticks` (row indices): close +35 % for one bar. */
export function plantedSpyCsv(ticks: readonly number[]): { csv: string; planted: string[]; rows: number } {
  const lines = readFileSync(resolve(__dirname, '../../../../data/sample/SPY_1d.csv'), 'utf8').trim().split('\n');
  const body = lines.slice(1).filter((l) => l >= '2015-01-01' && l < '2017-01-01');
  const planted: string[] = [];
  for (const i of ticks) {
    const [ts, open, high, low, close, volume] = body[i].split(',');
    const bad = Math.round(Number(close) * 1.35 * 100) / 100;
    body[i] = [ts, open, Math.max(Number(high), bad), low, bad, volume].join(',');
    planted.push(`${ts}T00:00:00.000Z`);
  }
  return { csv: [lines[0], ...body].join('\n'), planted, rows: body.length };
}

/** One request the receiver got, with its own signature check. */
export interface ReceivedHook {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Checked here, independently of the service's code: HMAC-SHA256(secret, "<t>.<body>") and |now − t| ≤ 300 s. */
  signatureValid: boolean;
  answered: number;
}

/**
 * A local HTTP receiver on 127.0.0.1:0 that verifies signatures and answers `status(n)` to the n-th request carrying
 * the same `Strata-Idempotency-Key` (so every delivery sees its own attempt count).
 */
export async function startReceiver(
  secret: string,
  status: (attemptOfKey: number) => number,
): Promise<{ url: string; received: ReceivedHook[]; close(): Promise<void> }> {
  const received: ReceivedHook[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const sig = String(req.headers['strata-signature'] ?? '');
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
      const valid =
        !!m &&
        Math.abs(Number(m[1]) - Date.now() / 1000) <= 300 &&
        createHmac('sha256', secret).update(`${m[1]}.${body}`).digest('hex') === m[2];
      const key = req.headers['strata-idempotency-key'];
      const answered = valid
        ? status(received.filter((h) => h.headers['strata-idempotency-key'] === key).length + 1)
        : 401;
      received.push({ headers: req.headers, body, signatureValid: valid, answered });
      res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered < 300 ? 'ok' : 'try again');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/strata`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** What differs between the embedded and the integration run. */
export interface SentinelScenarioOptions {
  /** The bus the platform uses (in-process, or JetStream with a unique stream prefix). */
  bus: () => Promise<EventBus>;
  /** Extra configuration (e.g. `MONGODB_URI` with a unique database). */
  env: () => Record<string, string>;
  /** Runs after close (drop the database, delete the streams). */
  cleanup?: () => Promise<void>;
}

/** Registers the scenario's tests in the current `describe`. */
export function sentinelScenario(opts: SentinelScenarioOptions): void {
  const SECRET = 'receiver-secret-0123456789';
  const SYMBOL = 'SPYDQ';
  const TICKS = [300, 420];
  let platform: Platform;
  let bus: EventBus;
  let dataDir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let subId: string;
  let ingestionId: string;
  const ingested: Envelope<PayloadOf<typeof BarsIngestedV1>>[] = [];
  const detected: Envelope<PayloadOf<typeof AnomalyDetectedV1>>[] = [];
  const data = plantedSpyCsv(TICKS);

  /** The symbol's events once scoring has settled (same count over 500 ms). */
  const settledEvents = async () => {
    let last = -1;
    for (;;) {
      const items = (await call('GET', `/data-quality/events?symbol=${SYMBOL}&limit=1000`, SENTINEL_KEYS.viewer)).json()
        .items;
      if (items.length === last) return items;
      last = items.length;
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const call = (method: string, url: string, key: string, payload?: unknown) =>
    platform.gateway.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-sentinel-'));
    bus = await opts.bus();
    await bus.subscribe(BarsIngestedV1, (_d, ctx) => void ingested.push(ctx.envelope), {
      consumer: 'scenario__bars_ingested',
    });
    await bus.subscribe(AnomalyDetectedV1, (_d, ctx) => void detected.push(ctx.envelope), {
      consumer: 'scenario__anomaly_detected',
    });
    // Fails the first two attempts of every delivery (500), then accepts.
    receiver = await startReceiver(SECRET, (n) => (n <= 2 ? 500 : 200));
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...opts.env() }),
      logger: createLogger({ service: 'sentinel-scenario', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(
        Object.entries(SENTINEL_KEYS).map(([role, key]) => ({ role: role as 'admin', key })),
      ),
      sentinel: { webhooks: { maxAttempts: 4, baseDelayMs: 40, maxDelayMs: 400, timeoutMs: 2000, pollIntervalMs: 25 } },
    });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await opts.cleanup?.();
  });

  it('manages webhook subscriptions as admin; the secret is write-only; bad input is problem+json', async () => {
    expect(
      (await call('POST', '/webhooks', SENTINEL_KEYS.operator, { url: receiver.url, secret: SECRET })).statusCode,
    ).toBe(403);
    const bad = await call('POST', '/webhooks', SENTINEL_KEYS.admin, { url: 'ftp://x', secret: 'short' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    expect(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['body.secret', 'body.url']);
    const created = await call('POST', '/webhooks', SENTINEL_KEYS.admin, {
      url: receiver.url,
      secret: SECRET,
      symbols: [SYMBOL.toLowerCase()],
    });
    expect(created.statusCode).toBe(201);
    const sub = created.json();
    expect(sub).toMatchObject({ url: receiver.url, minSeverity: 'HIGH', symbols: [SYMBOL], enabled: true });
    expect(JSON.stringify(sub)).not.toContain(SECRET);
    subId = sub.id;
    const listed = (await call('GET', '/webhooks', SENTINEL_KEYS.admin)).json();
    expect(listed.items.map((s: { id: string }) => s.id)).toContain(subId);
    expect(JSON.stringify(listed)).not.toContain(SECRET);
    const patched = await call('PATCH', `/webhooks/${subId}`, SENTINEL_KEYS.admin, { description: 'on-call' });
    expect(patched.json()).toMatchObject({ description: 'on-call', minSeverity: 'HIGH' });
    const other = (
      await call('POST', '/webhooks', SENTINEL_KEYS.admin, {
        url: `${receiver.url}/other`,
        secret: SECRET,
        enabled: false,
      })
    ).json();
    expect((await call('DELETE', `/webhooks/${other.id}`, SENTINEL_KEYS.admin)).statusCode).toBe(204);
    expect((await call('GET', `/webhooks/${other.id}`, SENTINEL_KEYS.admin)).statusCode).toBe(404);
    expect((await call('PATCH', `/webhooks/${subId}`, SENTINEL_KEYS.admin, {})).statusCode).toBe(400);
    // Documented in the OpenAPI document.
    const paths = Object.keys((await platform.gateway.inject({ method: 'GET', url: '/openapi.json' })).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/data-quality/events',
        '/data-quality/events/{id}',
        '/data-quality/events/{id}/ack',
        '/data-quality/events/{id}/resolve',
        '/dashboard/data-quality',
        '/webhooks',
        '/webhooks/{id}',
        '/webhooks/{id}/deliveries',
        '/webhooks/{id}/deliveries/{deliveryId}/redeliver',
      ]),
    );
  });

  it('ingesting a file with planted bad ticks stores DataQualityEvents for them and publishes each once', async () => {
    const r = await call('POST', '/market-data/ingest', SENTINEL_KEYS.operator, {
      symbol: SYMBOL,
      timeframe: '1d',
      csv: data.csv,
    });
    expect(r.statusCode).toBe(201);
    ingestionId = r.json().id;
    const events = await waitFor('events at the planted bars', async () => {
      const page = (await call('GET', `/data-quality/events?symbol=${SYMBOL}&limit=1000`, SENTINEL_KEYS.viewer)).json();
      const hits = data.planted.map((ts) =>
        page.items.find(
          (e: { barTs: string; severity: string }) =>
            e.barTs === ts && (e.severity === 'HIGH' || e.severity === 'CRITICAL'),
        ),
      );
      return hits.every(Boolean) ? page.items : undefined;
    });
    events.splice(0, events.length, ...(await settledEvents()));
    for (const e of events) {
      expect(e).toMatchObject({ symbol: SYMBOL, timeframe: '1d', status: 'open', ingestionId, acknowledgedBy: null });
      expect(Object.keys(e.scores).sort()).toEqual(['forecast_residual', 'isolation_forest', 'rules']);
      expect(e.combined).toBeGreaterThanOrEqual(0);
      expect(e.reason.length).toBeGreaterThan(10);
      expect(Object.keys(e.modelVersions).length).toBeGreaterThan(0);
    }
    const one = (await call('GET', `/data-quality/events/${events[0].id}`, SENTINEL_KEYS.viewer)).json();
    expect(one).toEqual(events[0]);
    expect((await call('GET', '/data-quality/events/dq_nope', SENTINEL_KEYS.viewer)).statusCode).toBe(404);
    // Each stored event was published exactly once, with the event id as envelope id.
    await waitFor(
      'published events',
      () => (events.every((e: { id: string }) => detected.some((d) => d.id === e.id)) ? true : undefined),
      20_000,
    );
    const mine = detected.filter((d) => d.data.symbol === SYMBOL);
    expect(new Set(mine.map((d) => d.id)).size).toBe(mine.length);
    expect(mine.length).toBe(events.length);
  });

  it('a redelivered bars.ingested stores and publishes nothing twice', async () => {
    const env = await waitFor('bars.ingested', () => ingested.find((e) => e.data.ingestionId === ingestionId));
    const before = (await settledEvents()).length;
    const out = await platform.services.sentinel.get(SentinelEventsHandler).onBarsIngested(env.data);
    expect(out).toMatchObject({ scoredBars: data.rows, stored: 0, published: 0 });
    expect(out!.anomalies).toBe(before);
    expect(
      (await call('GET', `/data-quality/events?symbol=${SYMBOL}&limit=1000`, SENTINEL_KEYS.viewer)).json().items.length,
    ).toBe(before);
  });

  it('delivers HIGH+ events to the real receiver: signed, retried after two 500s, same idempotency key', async () => {
    const planted = (
      await call('GET', `/data-quality/events?symbol=${SYMBOL}&minSeverity=HIGH&limit=1000`, SENTINEL_KEYS.viewer)
    ).json().items as { id: string; kind: string }[];
    const pageable = planted.filter((e) => e.kind !== 'probable_split');
    await waitFor('every delivery succeeded', async () => {
      const d = (await call('GET', `/webhooks/${subId}/deliveries?limit=1000`, SENTINEL_KEYS.admin)).json().items as {
        status: string;
      }[];
      return d.length === pageable.length && d.every((x) => x.status === 'succeeded') ? d : undefined;
    });
    expect(receiver.received.every((h) => h.signatureValid)).toBe(true);
    // Every delivery: two 500s, then a 200, all three with the same idempotency key and the same body.
    const byKey = new Map<string, ReceivedHook[]>();
    for (const h of receiver.received)
      byKey.set(String(h.headers['strata-idempotency-key']), [
        ...(byKey.get(String(h.headers['strata-idempotency-key'])) ?? []),
        h,
      ]);
    expect(byKey.size).toBe(pageable.length);
    for (const hooks of byKey.values()) {
      expect(hooks.map((h) => h.answered)).toEqual([500, 500, 200]);
      expect(new Set(hooks.map((h) => h.body)).size).toBe(1);
    }
    const first = receiver.received[0];
    const key = String(first.headers['strata-idempotency-key']);
    const deliveries = (await call('GET', `/webhooks/${subId}/deliveries?limit=1000`, SENTINEL_KEYS.admin)).json()
      .items as { idempotencyKey: string; attempts: number; lastStatusCode: number }[];
    for (const d of deliveries) expect(d).toMatchObject({ attempts: 3, lastStatusCode: 200 });
    expect(deliveries.map((d) => d.idempotencyKey).sort()).toEqual([...byKey.keys()].sort());
    expect(key).toMatch(new RegExp(`^dq_[0-9a-f]{32}:${subId}$`));
    expect(first.headers['strata-event']).toBe('dataquality.evt.anomaly.detected.v1');
    const body = JSON.parse(first.body);
    expect(body).toMatchObject({ type: 'dataquality.evt.anomaly.detected.v1', data: { symbol: SYMBOL } });
    expect(pageable.map((e) => e.id)).toContain(body.id);
    // An operator redelivers one: same idempotency key and body, a fresh set of attempts; 409 while it is queued.
    const target = (await call('GET', `/webhooks/${subId}/deliveries?limit=1`, SENTINEL_KEYS.admin)).json().items[0];
    const re = await call('POST', `/webhooks/${subId}/deliveries/${target.id}/redeliver`, SENTINEL_KEYS.admin);
    expect(re.statusCode).toBe(202);
    expect(re.json()).toMatchObject({ id: target.id, maxAttempts: 3 + 4 });
    const again = await call('POST', `/webhooks/${subId}/deliveries/${target.id}/redeliver`, SENTINEL_KEYS.admin);
    expect([202, 409]).toContain(again.statusCode); // 202 only if the first redelivery already went out
    const redone = await waitFor('redelivery', async () => {
      const d = (await call('GET', `/webhooks/${subId}/deliveries?limit=1000`, SENTINEL_KEYS.admin))
        .json()
        .items.find((x: { id: string }) => x.id === target.id);
      return d.status === 'succeeded' && d.attempts >= 4 ? d : undefined;
    });
    expect(redone.lastStatusCode).toBe(200);
    const resent = receiver.received.filter((h) => h.headers['strata-idempotency-key'] === target.idempotencyKey);
    expect(resent.length).toBe(redone.attempts);
    expect(new Set(resent.map((h) => h.body)).size).toBe(1);
    expect((await call('POST', `/webhooks/${subId}/deliveries/nope/redeliver`, SENTINEL_KEYS.admin)).statusCode).toBe(
      404,
    );
    // Every pageable event reached the receiver; nothing else did.
    const delivered = new Set(receiver.received.filter((h) => h.answered === 200).map((h) => JSON.parse(h.body).id));
    expect([...delivered].sort()).toEqual(pageable.map((e) => e.id).sort());
  });

  it('training datasets can exclude flagged bars explicitly', async () => {
    const features = platform.services.features.get(FeaturesService);
    const ds = await waitFor('materialised features', async () => {
      try {
        const r = await features.buildTrainingDataset({
          set: 'core',
          symbol: SYMBOL,
          timeframe: '1d',
          segments: [{ name: 'all', from: 0, to: 4e12 }],
          options: { horizon: 1 },
          qualityFilter: 'exclude',
        });
        return r.parts[0].ts.length + Object.values(r.dropped).reduce((a, b) => a + (b ?? 0), 0) >= data.rows
          ? r
          : undefined;
      } catch {
        return undefined;
      }
    });
    const flagged = new Set(
      (
        (await call('GET', `/data-quality/events?symbol=${SYMBOL}&limit=1000`, SENTINEL_KEYS.viewer)).json().items as {
          barTs: string;
        }[]
      ).map((e) => Date.parse(e.barTs)),
    );
    const include = await features.buildTrainingDataset({
      set: 'core',
      symbol: SYMBOL,
      timeframe: '1d',
      segments: [{ name: 'all', from: 0, to: 4e12 }],
      options: { horizon: 1 },
    });
    expect(include.dropped.qualityFlagged).toBeUndefined();
    expect(ds.dropped.qualityFlagged).toBeGreaterThanOrEqual(data.planted.length);
    // No kept row sits on a flagged bar or ends its label on one.
    const allTs = [...include.parts[0].ts, ...ds.parts[0].ts].sort((a, b) => a - b);
    for (const t of ds.parts[0].ts) expect(flagged.has(t)).toBe(false);
    for (const p of data.planted) expect(ds.parts[0].ts).not.toContain(Date.parse(p));
    expect(allTs.length).toBeGreaterThan(0);
    expect(ds.parts[0].ts.length).toBeLessThan(include.parts[0].ts.length);
    // The feature read takes the same filter: flagged bars are left out, the rest is unchanged.
    const plain = await features.read({ set: 'core', symbol: SYMBOL, timeframe: '1d' });
    const clean = await features.read({ set: 'core', symbol: SYMBOL, timeframe: '1d', qualityFilter: 'exclude' });
    const plainTs = [...plain.ts];
    const expected = plainTs.filter((t) => !flagged.has(t));
    expect([...clean.ts]).toEqual(expected);
    expect(plainTs.length - expected.length).toBeGreaterThanOrEqual(data.planted.length);
    const name = Object.keys(plain.columns)[0];
    expect([...clean.columns[name]]).toEqual(
      plainTs
        .map((t, i) => [t, plain.columns[name][i]] as const)
        .filter(([t]) => !flagged.has(t))
        .map(([, v]) => v),
    );
  });

  it('backtests can exclude flagged bars explicitly', async () => {
    const strategy = (
      await call('POST', '/strategies/from-template', SENTINEL_KEYS.operator, {
        template: 'sma_crossover',
        symbols: [SYMBOL],
      })
    ).json();
    const run = async (qualityFilter: 'include' | 'exclude') => {
      const r = await call('POST', '/backtests', SENTINEL_KEYS.operator, {
        strategyId: strategy.id,
        qualityFilter,
        lookAheadCheck: { enabled: false },
      });
      expect(r.statusCode).toBe(202);
      return waitFor(`backtest ${qualityFilter}`, async () => {
        const dto = (await call('GET', `/backtests/${r.json().id}`, SENTINEL_KEYS.viewer)).json();
        return ['completed', 'failed'].includes(dto.status) ? dto : undefined;
      });
    };
    const [include, exclude] = [await run('include'), await run('exclude')];
    expect(include).toMatchObject({ status: 'completed', spec: { qualityFilter: 'include' } });
    expect(exclude).toMatchObject({ status: 'completed', spec: { qualityFilter: 'exclude' } });
    const unresolved = new Set(
      (
        (await call('GET', `/data-quality/events?symbol=${SYMBOL}&limit=1000`, SENTINEL_KEYS.viewer)).json().items as {
          barTs: string;
          status: string;
        }[]
      )
        .filter((e) => e.status !== 'resolved')
        .map((e) => e.barTs),
    );
    expect(include.result.data[0].bars).toBe(data.rows);
    expect(exclude.result.data[0].bars).toBe(data.rows - unresolved.size);
    // The planted bad ticks are not on the excluded run's timeline.
    const equity = (await call('GET', `/backtests/${exclude.id}/equity?limit=10000`, SENTINEL_KEYS.viewer)).json()
      .items as { ts: string }[];
    const times = new Set(equity.map((p) => p.ts));
    for (const p of data.planted) expect(times.has(new Date(Date.parse(p)).toISOString())).toBe(false);
  });

  it('acknowledge and resolve follow roles and the lifecycle (409 on illegal transitions)', async () => {
    const [e] = (
      await call('GET', `/data-quality/events?symbol=${SYMBOL}&status=open&limit=1`, SENTINEL_KEYS.viewer)
    ).json().items;
    expect((await call('POST', `/data-quality/events/${e.id}/ack`, SENTINEL_KEYS.viewer, {})).statusCode).toBe(403);
    const ack = await call('POST', `/data-quality/events/${e.id}/ack`, SENTINEL_KEYS.operator, { note: 'looking' });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({
      status: 'acknowledged',
      acknowledgeNote: 'looking',
      acknowledgedBy: { role: 'operator' },
    });
    expect(ack.json().acknowledgedBy.keyId).toMatch(/^key_[0-9a-f]{12}$/);
    const again = await call('POST', `/data-quality/events/${e.id}/ack`, SENTINEL_KEYS.operator);
    expect(again.statusCode).toBe(409);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect(again.json()).toMatchObject({ type: 'urn:strata:problem:illegal-transition', eventStatus: 'acknowledged' });
    expect((await call('POST', `/data-quality/events/${e.id}/resolve`, SENTINEL_KEYS.viewer, {})).statusCode).toBe(403);
    const res = await call('POST', `/data-quality/events/${e.id}/resolve`, SENTINEL_KEYS.operator, {
      note: 'vendor fixed the print',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'resolved',
      resolveNote: 'vendor fixed the print',
      resolvedBy: { role: 'operator' },
      acknowledgeNote: 'looking',
    });
    expect((await call('POST', `/data-quality/events/${e.id}/resolve`, SENTINEL_KEYS.operator)).statusCode).toBe(409);
    expect(
      (await call('POST', `/data-quality/events/${e.id}/ack`, SENTINEL_KEYS.operator, { note: '' })).statusCode,
    ).toBe(400);
    expect(
      (await call('GET', `/data-quality/events?symbol=${SYMBOL}&status=resolved`, SENTINEL_KEYS.viewer))
        .json()
        .items.map((x: { id: string }) => x.id),
    ).toEqual([e.id]);
  });

  it('the DataQualitySummary reflects the events', async () => {
    const all = (await call('GET', `/data-quality/events?limit=1000`, SENTINEL_KEYS.viewer)).json().items as {
      symbol: string;
      severity: string;
      status: string;
      kind: string;
    }[];
    const s = await call('GET', '/dashboard/data-quality?recent=5', SENTINEL_KEYS.viewer);
    expect(s.statusCode).toBe(200);
    const sum = s.json();
    expect(sum.total).toBe(all.length);
    expect(sum.recentAlerts).toHaveLength(Math.min(5, all.length));
    const count = (k: 'severity' | 'status' | 'kind', v: string) => all.filter((e) => e[k] === v).length;
    for (const sev of ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']) expect(sum.bySeverity[sev]).toBe(count('severity', sev));
    expect(sum.byStatus).toEqual({
      open: count('status', 'open'),
      acknowledged: count('status', 'acknowledged'),
      resolved: count('status', 'resolved'),
    });
    expect(sum.byStatus.resolved).toBe(1);
    expect(sum.bySymbol).toEqual([{ symbol: SYMBOL, count: all.length }]);
    expect(Object.values(sum.byDetector as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(all.length);
    expect(sum.acknowledgedCount).toBe(1);
    expect(sum.meanTimeToAcknowledgeMs).toBeGreaterThan(0);
    const empty = (
      await call('GET', '/dashboard/data-quality?from=2000-01-01&to=2000-01-02', SENTINEL_KEYS.viewer)
    ).json();
    expect(empty).toMatchObject({ total: 0, meanTimeToAcknowledgeMs: null, recentAlerts: [] });
  });

  it('a correction of stored history becomes a `correction` event', async () => {
    const lines = data.csv.split('\n');
    const [ts, open, high, low, close, volume] = lines[11].split(',');
    lines[11] = [ts, open, Number(high) + 5, low, Number(close) + 5, volume].join(',');
    const r = await call('POST', '/market-data/ingest', SENTINEL_KEYS.operator, {
      symbol: SYMBOL,
      timeframe: '1d',
      csv: lines.slice(0, 13).join('\n'),
    });
    expect(r.statusCode).toBe(201);
    const ev = await waitFor('correction event', async () => {
      const page = (
        await call('GET', `/data-quality/events?symbol=${SYMBOL}&kind=correction`, SENTINEL_KEYS.viewer)
      ).json();
      return page.items[0];
    });
    expect(ev).toMatchObject({ kind: 'correction', barTs: `${ts}T00:00:00.000Z`, ingestionId: r.json().id });
    expect(['HIGH', 'CRITICAL']).toContain(ev.severity);
  });
}
