/**
 * End to end, in one process: the platform (gateway on Fastify + the ingestion service on BusTransport) over one
 * in-process bus, driven with Fastify's inject. Proves issue 2's "Done when" for the gateway and ingestion.
 */
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { buildAsyncApiDocument } from '@strata/catalog-contracts';
import { type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

const KEYS = { admin: 'admin-key-0001', operator: 'operator-key-0001', viewer: 'viewer-key-0001' };
const CSV = [
  'timestamp,open,high,low,close,volume',
  '2024-01-02,100,101,99,100.5,1000',
  '2024-01-03,100.5,102,100,101.5,1200',
  '2024-01-04,101.5,101,102,101,900', // line 4: high below low
  '2024-01-05,101,103,100.5,102.5,1500',
  '2024-01-09,102.5,104,102,103,1100', // Mon 8th missing: a gap
].join('\n');

function multipart(
  fields: Record<string, string>,
  file?: { name: string; content: string },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----strata-test-boundary';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  if (file)
    parts.push(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: text/csv\r\n\r\n${file.content}\r\n`,
    );
  parts.push(`--${boundary}--\r\n`);
  return {
    payload: Buffer.from(parts.join('')),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

describe('platform e2e (in-process bus)', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  const received: Envelope<PayloadOf<typeof BarsIngestedV1>>[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-e2e-'));
    bus = new InProcessEventBus({ service: 'platform' });
    const config = ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    platform = await startPlatform({
      config,
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(Object.entries(KEYS).map(([role, key]) => ({ role: role as 'admin', key }))),
    });
    // A subscriber in the same process, as any downstream service would be.
    await bus.subscribe(BarsIngestedV1, (_data, ctx) => void received.push(ctx.envelope), {
      consumer: 'e2e__bars_ingested',
      deliverFrom: 'new',
    });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const inject = (opts: object) => platform.gateway.inject(opts as never);
  const waitFor = async (pred: () => boolean, ms = 2000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return pred();
  };

  it('serves /health, /openapi.json, /asyncapi.json and /docs without a key', async () => {
    const health = await inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'up',
      liveness: { status: 'up' },
      readiness: { status: 'up', dependencies: { bus: { status: 'up', adapter: 'in-process' } } },
    });
    const openapi = await inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    const doc = openapi.json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health', '/market-data/ingest', '/market-data/ingestions/{id}', '/asyncapi.json']),
    );
    expect(Object.keys(doc.paths['/market-data/ingest'].post.requestBody.content).sort()).toEqual([
      'application/json',
      'multipart/form-data',
    ]);
    const asyncapi = await inject({ method: 'GET', url: '/asyncapi.json' });
    expect(asyncapi.statusCode).toBe(200);
    expect(asyncapi.json()).toEqual(JSON.parse(JSON.stringify(buildAsyncApiDocument())));
    const docs = await inject({ method: 'GET', url: '/docs' });
    expect(docs.statusCode).toBe(200);
    expect(docs.headers['content-type']).toMatch(/text\/html/);
  });

  it('401 without a key, 403 with a viewer key (problem+json)', async () => {
    const form = multipart({ symbol: 'TEST', timeframe: '1d' }, { name: 'bars.csv', content: CSV });
    const none = await inject({ method: 'POST', url: '/market-data/ingest', ...form });
    expect(none.statusCode).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    const viewer = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload: form.payload,
      headers: { ...form.headers, 'x-api-key': KEYS.viewer },
    });
    expect(viewer.statusCode).toBe(403);
    expect(viewer.json()).toMatchObject({ status: 403, type: 'urn:strata:problem:forbidden' });
    expect(received).toHaveLength(0);
  });

  let ingestionId = '';

  it('a CSV posted as multipart with an operator key produces one bars.ingested event received in process', async () => {
    const form = multipart({ symbol: 'test', timeframe: '1d' }, { name: 'bars.csv', content: CSV });
    const r = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload: form.payload,
      headers: { ...form.headers, authorization: `Bearer ${KEYS.operator}` },
    });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({
      status: 'completed',
      symbol: 'TEST',
      timeframe: '1d',
      accepted: 4,
      rejected: 1,
      rejects: [{ line: 4, reason: 'high_below_low' }],
      // The rejected row leaves a hole too: gaps are measured on the accepted bars.
      gaps: [
        { after: '2024-01-03T00:00:00.000Z', before: '2024-01-05T00:00:00.000Z', missingBars: 1 },
        { after: '2024-01-05T00:00:00.000Z', before: '2024-01-09T00:00:00.000Z', missingBars: 1 },
      ],
      from: '2024-01-02T00:00:00.000Z',
      to: '2024-01-09T00:00:00.000Z',
    });
    expect(r.headers.location).toBe(`/market-data/ingestions/${body.id}`);
    ingestionId = body.id;
    expect(await waitFor(() => received.length === 1)).toBe(true);
    expect(received[0].data).toMatchObject({
      ingestionId: body.id,
      symbol: 'TEST',
      timeframe: '1d',
      from: '2024-01-02T00:00:00.000Z',
      to: '2024-01-09T00:00:00.000Z',
      rowCount: 4,
      contentHash: body.contentHash,
      rejectedCount: 1,
    });
    expect(received[0].producer).toBe('ingestion');
  });

  it('the same bars posted again as JSON are a duplicate: 200, no second event', async () => {
    const r = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': KEYS.admin },
      payload: { symbol: 'TEST', timeframe: '1d', csv: CSV.replace(/\n/g, '\r\n') },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ status: 'duplicate', duplicateOf: ingestionId, accepted: 4 });
    await new Promise((res) => setTimeout(res, 50));
    expect(received).toHaveLength(1);
  });

  it('a malformed CSV gets 422 problem+json naming the line', async () => {
    const form = multipart(
      { symbol: 'TEST', timeframe: '1h' },
      { name: 'bad.csv', content: 'time,open,high,low,close\n2024-01-02,1,1,1,1\n' },
    );
    const r = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload: form.payload,
      headers: { ...form.headers, 'x-api-key': KEYS.operator },
    });
    expect(r.statusCode).toBe(422);
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    const p = r.json();
    expect(p).toMatchObject({
      type: 'urn:strata:problem:invalid-csv',
      status: 422,
      instance: '/market-data/ingest',
      errors: [{ line: 1, reason: 'unparsable' }],
    });
    expect(p.detail).toMatch(/^line 1: malformed header/);
    expect(p.detail).toMatch(/missing columns timestamp, volume/);

    const allBad = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': KEYS.operator },
      payload: {
        symbol: 'TEST',
        timeframe: '1d',
        csv: 'timestamp,open,high,low,close,volume\n2024-01-02,x,1,1,1,1\n2024-01-03,1,1,1,1,-5\n',
      },
    });
    expect(allBad.statusCode).toBe(422);
    expect(allBad.json().errors).toEqual([
      { line: 2, reason: 'unparsable', message: 'open "x" is not a finite number' },
      { line: 3, reason: 'negative_volume', message: 'volume -5 is negative' },
    ]);
    expect(received).toHaveLength(1);
  });

  it('invalid form fields get 400 problem+json naming the field', async () => {
    const noFile = multipart({ symbol: 'TEST', timeframe: '2h' });
    const r = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload: noFile.payload,
      headers: { ...noFile.headers, 'x-api-key': KEYS.operator },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().errors).toEqual([expect.objectContaining({ field: 'form.timeframe' })]);
    const json = await inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': KEYS.operator },
      payload: { symbol: 'TEST', timeframe: '1d' },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json().errors).toEqual([expect.objectContaining({ field: 'body.csv' })]);
  });

  it('GET /market-data/ingestions/{id} returns the result with its rejects (viewer), 404 for an unknown id', async () => {
    const r = await inject({
      method: 'GET',
      url: `/market-data/ingestions/${ingestionId}`,
      headers: { 'x-api-key': KEYS.viewer },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      id: ingestionId,
      status: 'completed',
      rejects: [{ line: 4, reason: 'high_below_low' }],
    });
    const missing = await inject({
      method: 'GET',
      url: '/market-data/ingestions/0000-none',
      headers: { 'x-api-key': KEYS.viewer },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((await inject({ method: 'GET', url: `/market-data/ingestions/${ingestionId}` })).statusCode).toBe(401);
  });
});
