/**
 * Webhook fan-out, signing, retries with backoff, dead-lettering, redelivery, crash recovery and bounded concurrency,
 * against the embedded document store and a scripted transport (the HTTP adapter has its own spec).
 */
import {
  type AnomalyDetected,
  type WebhookRequest,
  type WebhookResponse,
  type WebhookTransport,
} from '@strata/dataquality-contracts';
import { type DocumentStore } from '@strata/platform-contracts';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retryDelayMs, WebhookDispatcher } from './webhook-dispatcher';
import { verifyWebhookSignature } from './webhook-signature';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

jest.setTimeout(30_000);

const SECRET = 'whsec-0123456789abcdef';

function anomaly(over: Partial<AnomalyDetected> = {}): AnomalyDetected {
  return {
    id: 'dq_evt1',
    symbol: 'ACME',
    timeframe: '1d',
    barTs: '2024-03-05T00:00:00.000Z',
    kind: 'spike',
    scores: { rules: 0.2, isolation_forest: 0.81, forecast_residual: 0.93 },
    combined: 0.9,
    severity: 'HIGH',
    reason: 'close 150.00 is 40.0% above the rolling median',
    modelVersions: { rules: 'r1', isolation_forest: 'if1', forecast_residual: 'ets1' },
    proposedSplit: null,
    ingestionId: 'ing1',
    detectedAt: '2024-03-05T00:00:01.000Z',
    ...over,
  };
}
const env = (data: AnomalyDetected) => ({ id: data.id, occurredAt: '2024-03-05T00:00:01.000Z', data });

/** A transport answering from a script (status codes, or 'throw'); records every request. */
class ScriptedTransport implements WebhookTransport {
  readonly requests: WebhookRequest[] = [];
  active = 0;
  maxActive = 0;
  constructor(
    private script: (n: number) => number | 'throw',
    private readonly delayMs = 0,
  ) {}
  async post(req: WebhookRequest): Promise<WebhookResponse> {
    this.requests.push(req);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const s = this.script(this.requests.length);
      if (s === 'throw') throw new Error('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9');
      return { status: s, bodyExcerpt: s >= 300 ? 'receiver says no' : 'ok' };
    } finally {
      this.active--;
    }
  }
  setScript(s: (n: number) => number | 'throw') {
    this.script = s;
  }
}

describe('webhooks: fan-out and delivery', () => {
  let dir: string;
  let store: DocumentStore;
  let repo: WebhooksRepository;
  const dispatchers: WebhookDispatcher[] = [];

  const make = (transport: WebhookTransport, o: ConstructorParameters<typeof WebhookDispatcher>[2] = {}) => {
    const d = new WebhookDispatcher(repo, transport, {
      maxAttempts: 3,
      baseDelayMs: 5,
      maxDelayMs: 50,
      timeoutMs: 1000,
      pollIntervalMs: 10,
      ...o,
    });
    dispatchers.push(d);
    return { dispatcher: d, service: new WebhooksService(repo, d) };
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-wh-'));
    store = await DuckDbDocumentStore.open(join(dir, 'docs.duckdb'));
    repo = new WebhooksRepository(store);
    await store.ready();
  });
  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues one delivery per matching subscription: severity, symbols, no probable_split, idempotent', async () => {
    const { service } = make(new ScriptedTransport(() => 200));
    const all = await service.create(
      { url: 'http://127.0.0.1:1/a', minSeverity: 'HIGH', symbols: [], secret: SECRET, enabled: true },
      'key_admin',
    );
    const acmeLow = await service.create(
      { url: 'http://127.0.0.1:1/b', minSeverity: 'LOW', symbols: ['ACME'], secret: SECRET, enabled: true },
      null,
    );
    await service.create(
      { url: 'http://127.0.0.1:1/c', minSeverity: 'LOW', symbols: ['OTHER'], secret: SECRET, enabled: true },
      null,
    );
    await service.create(
      { url: 'http://127.0.0.1:1/d', minSeverity: 'LOW', symbols: [], secret: SECRET, enabled: false },
      null,
    );
    expect(JSON.stringify(all)).not.toContain(SECRET);

    expect(await service.fanOut(env(anomaly()), 3)).toBe(2);
    expect(await service.fanOut(env(anomaly()), 3)).toBe(0); // redelivered event: nothing twice
    expect(await service.fanOut(env(anomaly({ id: 'dq_low', severity: 'MEDIUM' })), 3)).toBe(1); // only the LOW+ACME one
    expect(
      await service.fanOut(
        env(
          anomaly({
            id: 'dq_split',
            kind: 'probable_split',
            severity: 'CRITICAL',
            proposedSplit: { newShares: 4, oldShares: 1 },
          }),
        ),
        3,
      ),
    ).toBe(0);

    const a = await service.deliveries(all.id, { limit: 10 });
    expect(a.items).toHaveLength(1);
    expect(a.items[0]).toMatchObject({
      eventId: 'dq_evt1',
      status: 'pending',
      attempts: 0,
      idempotencyKey: `dq_evt1:${all.id}`,
      subject: 'dataquality.evt.anomaly.detected.v1',
    });
    expect((await service.deliveries(acmeLow.id, { limit: 10 })).items.map((d) => d.eventId).sort()).toEqual([
      'dq_evt1',
      'dq_low',
    ]);
  });

  it('signs each attempt, retries after failures with the same idempotency key, and succeeds on the third', async () => {
    const transport = new ScriptedTransport((n) => (n <= 2 ? 500 : 200));
    const { dispatcher, service } = make(transport);
    const sub = await service.create(
      { url: 'http://127.0.0.1:1/hook', minSeverity: 'HIGH', symbols: [], secret: SECRET, enabled: true },
      null,
    );
    await service.fanOut(env(anomaly()), 3);
    dispatcher.start();
    await dispatcher.drain();
    expect(transport.requests).toHaveLength(3);
    for (const r of transport.requests) {
      // Independent check: HMAC-SHA256 over "<t>.<body>" with the secret.
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.headers['Strata-Signature'])!;
      expect(m).not.toBeNull();
      expect(m[2]).toBe(createHmac('sha256', SECRET).update(`${m[1]}.${r.body}`).digest('hex'));
      expect(Math.abs(Number(m[1]) - Date.now() / 1000)).toBeLessThan(60);
      expect(r.headers['Strata-Idempotency-Key']).toBe(`dq_evt1:${sub.id}`);
      expect(r.headers['Strata-Event']).toBe('dataquality.evt.anomaly.detected.v1');
      expect(r.body).toBe(transport.requests[0].body);
      expect(verifyWebhookSignature(SECRET, r.headers['Strata-Signature'], r.body)).toMatchObject({ ok: true });
    }
    expect(JSON.parse(transport.requests[0].body)).toMatchObject({
      id: 'dq_evt1',
      type: 'dataquality.evt.anomaly.detected.v1',
      data: { symbol: 'ACME', severity: 'HIGH' },
    });
    const [d] = (await service.deliveries(sub.id, { limit: 10 })).items;
    expect(d).toMatchObject({ status: 'succeeded', attempts: 3, lastStatusCode: 200, lastError: null });
    expect(d.deliveredAt).not.toBeNull();
  });

  it('goes dead after the last attempt, keeps the error, and a redelivery re-queues it with fresh attempts', async () => {
    const transport = new ScriptedTransport(() => 'throw');
    const { dispatcher, service } = make(transport);
    const sub = await service.create(
      { url: 'http://127.0.0.1:1/hook', minSeverity: 'HIGH', symbols: [], secret: SECRET, enabled: true },
      null,
    );
    await service.fanOut(env(anomaly()), 3);
    dispatcher.start();
    await dispatcher.drain();
    let [d] = (await service.deliveries(sub.id, { limit: 10 })).items;
    expect(d).toMatchObject({ status: 'dead', attempts: 3, maxAttempts: 3, lastStatusCode: null, nextAttemptAt: null });
    expect(d.lastError).toContain('ECONNREFUSED');
    expect(transport.requests).toHaveLength(3);

    transport.setScript(() => 204);
    const re = await service.redeliver(sub.id, d.id, 3);
    expect(re).toMatchObject({ status: 'pending', maxAttempts: 6 });
    await expect(service.redeliver(sub.id, d.id, 3)).rejects.toThrow(/only dead or succeeded/);
    await dispatcher.drain();
    [d] = (await service.deliveries(sub.id, { limit: 10 })).items;
    expect(d).toMatchObject({ status: 'succeeded', attempts: 4, lastStatusCode: 204 });
    expect(transport.requests[3].headers['Strata-Idempotency-Key']).toBe(
      transport.requests[0].headers['Strata-Idempotency-Key'],
    );
    await expect(service.redeliver('nope', d.id, 3)).rejects.toThrow(/no delivery/);
  });

  it('resumes after a crash: a delivery left in flight with an expired lease is sent by the next dispatcher', async () => {
    const transport = new ScriptedTransport(() => 200);
    const { service } = make(transport, { run: false });
    const sub = await service.create(
      { url: 'http://127.0.0.1:1/hook', minSeverity: 'HIGH', symbols: [], secret: SECRET, enabled: true },
      null,
    );
    await service.fanOut(env(anomaly()), 3);
    const [queued] = (await repo.deliveries.page({ limit: 10 })).items;
    // A dispatcher claimed it, then the process died: in flight, lease already over.
    await repo.updateDelivery(queued.id, queued._version, {
      set: { status: 'in_flight', leaseUntil: new Date(Date.now() - 1000).toISOString() },
    });
    const { dispatcher } = make(transport);
    dispatcher.start();
    await dispatcher.drain();
    const [d] = (await service.deliveries(sub.id, { limit: 10 })).items;
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('never has more than `concurrency` requests in flight', async () => {
    const transport = new ScriptedTransport(() => 200, 30);
    const { dispatcher, service } = make(transport, { concurrency: 3 });
    await service.create(
      { url: 'http://127.0.0.1:1/hook', minSeverity: 'LOW', symbols: [], secret: SECRET, enabled: true },
      null,
    );
    for (let i = 0; i < 10; i++) await service.fanOut(env(anomaly({ id: `dq_${i}` })), 3);
    dispatcher.start();
    await dispatcher.drain();
    expect(transport.requests).toHaveLength(10);
    expect(transport.maxActive).toBeLessThanOrEqual(3);
    expect(transport.maxActive).toBeGreaterThan(1);
  });

  it('parks deliveries of a disabled subscription as dead', async () => {
    const transport = new ScriptedTransport(() => 200);
    const { dispatcher, service } = make(transport, { run: false });
    const sub = await service.create(
      { url: 'http://127.0.0.1:1/hook', minSeverity: 'HIGH', symbols: [], secret: SECRET, enabled: true },
      null,
    );
    await service.fanOut(env(anomaly()), 3);
    await service.update(sub.id, { enabled: false });
    dispatcher.start();
    await dispatcher.drain();
    expect((await service.deliveries(sub.id, { limit: 10 })).items[0]).toMatchObject({
      status: 'dead',
      lastError: 'subscription disabled',
    });
    expect(transport.requests).toHaveLength(0);
  });
});

describe('retryDelayMs: exponential backoff with full jitter', () => {
  it('is uniform below min(cap, base · 2^(k−1))', () => {
    expect(retryDelayMs(1, 100, 10_000, () => 0.5)).toBe(50);
    expect(retryDelayMs(3, 100, 10_000, () => 0.5)).toBe(200);
    expect(retryDelayMs(3, 100, 10_000, () => 0.999999)).toBe(399);
    expect(retryDelayMs(20, 100, 10_000, () => 0.5)).toBe(5000); // capped
    expect(retryDelayMs(2, 100, 10_000, () => 0)).toBe(0);
  });
});

describe('verifyWebhookSignature', () => {
  const body = '{"id":"x"}';
  const t = 1_700_000_000;
  const header = `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
  it('accepts a matching signature inside the tolerance and refuses the rest', () => {
    expect(verifyWebhookSignature(SECRET, header, body, { nowS: t + 299 })).toEqual({ ok: true, timestampS: t });
    expect(verifyWebhookSignature(SECRET, header, body, { nowS: t + 301 })).toEqual({
      ok: false,
      reason: 'timestamp_outside_tolerance',
    });
    expect(verifyWebhookSignature(SECRET, header, `${body} `, { nowS: t })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
    expect(verifyWebhookSignature('another-secret-000000', header, body, { nowS: t })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
    expect(verifyWebhookSignature(SECRET, 'v1=abc', body, { nowS: t })).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyWebhookSignature(SECRET, undefined, body, { nowS: t })).toEqual({ ok: false, reason: 'malformed' });
  });
});
