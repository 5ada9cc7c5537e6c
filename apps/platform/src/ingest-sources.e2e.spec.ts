/**
 * End to end, in one process: `POST /market-data/ingest` with a source spec (synthetic, Alpha Vantage against a local
 * replay server speaking Alpha Vantage's JSON) and a Parquet upload (written by DuckDB from the bundled sample, with a
 * planted bad row). Each goes through the same validator, lands in DuckDB and fires one bars.ingested event.
 */
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { generateSyntheticSeries } from '@strata/marketdata-domain';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import {
  AlphaVantageReplayServer,
  fixture as alphaVantageFixture,
} from '@strata/marketdata-infra-alphavantage/testing';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

jest.setTimeout(120_000);

const KEYS = { admin: 'admin-key-0001', operator: 'operator-key-0001', viewer: 'viewer-key-0001' };
const IBM = resolve(__dirname, '../../../data/sample/IBM_1d.csv');
const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

function multipart(
  fields: Record<string, string>,
  file: { name: string; type: string; content: Buffer },
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----strata-test-boundary';
  const parts: Buffer[] = Object.entries(fields).map(([k, v]) =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
  );
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
    ),
    file.content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('ingest sources through REST (platform, in-process bus)', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  let replay: AlphaVantageReplayServer;
  const received: Envelope<PayloadOf<typeof BarsIngestedV1>>[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-ingest-src-e2e-'));
    replay = new AlphaVantageReplayServer();
    const baseUrl = await replay.start();
    bus = new InProcessEventBus({ service: 'platform' });
    platform = await startPlatform({
      config: ConfigSchema.parse({
        STRATA_DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        ALPHAVANTAGE_API_KEY: 'replay-key',
        ALPHAVANTAGE_BASE_URL: baseUrl,
      }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(Object.entries(KEYS).map(([role, key]) => ({ role: role as 'admin', key }))),
    });
    await bus.subscribe(BarsIngestedV1, (_d, ctx) => void received.push(ctx.envelope), {
      consumer: 'e2e__bars_ingested',
      deliverFrom: 'new',
    });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    await replay?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const post = (payload: object) =>
    platform.gateway.inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload,
      headers: { authorization: `Bearer ${KEYS.operator}` },
    } as never);
  const get = (url: string) => platform.gateway.inject({ method: 'GET', url, headers: { 'x-api-key': KEYS.viewer } });
  const waitFor = async (pred: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    return pred();
  };

  it('documents the source spec in OpenAPI', async () => {
    const doc = (await platform.gateway.inject({ method: 'GET', url: '/openapi.json' })).json();
    const text = JSON.stringify(doc.paths['/market-data/ingest'].post.requestBody.content['application/json']);
    for (const kind of ['alphavantage', 'synthetic', 'daily_adjusted', 'anomalyRates']) expect(text).toContain(kind);
  });

  it('synthetic: bars in DuckDB, one bars.ingested event, ground truth per bar retrievable', async () => {
    const source = {
      kind: 'synthetic',
      seed: 7,
      bars: 400,
      start: '2015-01-02',
      config: { anomalyRates: { spike: 0.01, volume_burst: 0.01 } },
    };
    const r = await post({ symbol: 'syn', timeframe: '1d', source });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    const series = generateSyntheticSeries({
      seed: 7,
      bars: 400,
      timeframe: '1d',
      start: '2015-01-02',
      anomalies: { rates: { spike: 0.01, volume_burst: 0.01 } },
    });
    expect(body).toMatchObject({ status: 'completed', symbol: 'SYN', accepted: series.length, rejected: 0 });
    expect(await waitFor(() => received.some((e) => e.data.ingestionId === body.id))).toBe(true);
    expect(received.filter((e) => e.data.symbol === 'SYN')).toHaveLength(1);
    const bars = (await get('/market-data/bars?symbol=SYN&timeframe=1d&limit=10000')).json();
    expect(bars.items).toHaveLength(series.length);
    expect(bars.items[0].close).toBe(series.close[0]);
    const truth = await platform.duckdb.all<{ n: bigint; anomalies: bigint; regimes: bigint; ing: string }>(
      `SELECT count(*) AS n, count(anomaly) AS anomalies, count(DISTINCT regime) AS regimes, max(ingestion_id) AS ing FROM synthetic_ground_truth WHERE symbol = 'SYN' AND timeframe = '1d'`,
    );
    expect(Number(truth[0].n)).toBe(series.length);
    expect(Number(truth[0].anomalies)).toBe(series.truth.anomaly.filter((c) => c !== 0).length);
    expect(truth[0].ing).toBe(body.id);
    const first = await platform.duckdb.all<{ ts: string; regime: string }>(
      `SELECT strftime(ts, '%Y-%m-%d') AS ts, regime FROM synthetic_ground_truth WHERE symbol = 'SYN' ORDER BY ts LIMIT 1`,
    );
    expect(first[0]).toEqual({
      ts: new Date(series.ts[0]).toISOString().slice(0, 10),
      regime: series.truth.regimeNames[series.truth.regime[0]],
    });
  });

  it('synthetic: an invalid spec is 400 (schema) or 422 (generator), nothing ingested', async () => {
    const schema = await post({ symbol: 'SYN2', timeframe: '1d', source: { kind: 'synthetic', seed: 1, bars: 0 } });
    expect(schema.statusCode).toBe(400);
    const gen = await post({
      symbol: 'SYN2',
      timeframe: '1d',
      source: { kind: 'synthetic', seed: 1, bars: 10, config: { transitionMatrix: [[1]] } },
    });
    expect(gen.statusCode).toBe(422);
    expect(gen.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(gen.json()).toMatchObject({ status: 422, type: 'urn:strata:problem:invalid-source' });
  });

  it('alphavantage daily_adjusted against the replay server: bars stored, split and dividend recorded', async () => {
    replay.enqueue({ body: alphaVantageFixture('daily-adjusted-aapl.json') });
    const r = await post({
      symbol: 'AAPL',
      timeframe: '1d',
      source: { kind: 'alphavantage', function: 'daily_adjusted', outputsize: 'compact' },
    });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({
      status: 'completed',
      symbol: 'AAPL',
      accepted: 6,
      rejected: 0,
      from: '2020-08-06T00:00:00.000Z',
      to: '2020-09-01T00:00:00.000Z',
    });
    expect(replay.received.at(-1)?.params).toMatchObject({
      function: 'TIME_SERIES_DAILY_ADJUSTED',
      symbol: 'AAPL',
      outputsize: 'compact',
      apikey: 'replay-key',
    });
    expect(await waitFor(() => received.some((e) => e.data.ingestionId === body.id))).toBe(true);
    const raw = (await get('/market-data/bars?symbol=AAPL&timeframe=1d&from=2020-08-28&to=2020-08-28')).json();
    expect(raw.items[0]).toMatchObject({ open: 504.05, high: 505.77, low: 498.31, close: 499.23, volume: 46907479 });
    const actions = (await get('/market-data/corporate-actions?symbol=AAPL')).json();
    expect(actions.items).toEqual(
      expect.arrayContaining([
        { kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 },
        expect.objectContaining({ kind: 'dividend', symbol: 'AAPL', amount: 0.82 }),
      ]),
    );
    // The split is applied when serving adjusted bars: 499.23 / 4.
    const adj = (
      await get('/market-data/bars?symbol=AAPL&timeframe=1d&from=2020-08-28&to=2020-08-28&adjust=split')
    ).json();
    expect(adj.items[0].close).toBeCloseTo(499.23 / 4, 10);
  });

  it('alphavantage: a provider error note is a 502 problem; an interval that does not match the timeframe is 422', async () => {
    replay.enqueue({ body: alphaVantageFixture<Record<string, unknown>>('errors.json').invalidApiKey });
    const bad = await post({
      symbol: 'MSFT',
      timeframe: '1d',
      source: { kind: 'alphavantage', function: 'daily_adjusted' },
    });
    expect(bad.statusCode).toBe(502);
    expect(bad.json()).toMatchObject({ status: 502, type: 'urn:strata:problem:source-failed' });
    expect(bad.json().detail).toMatch(/Alpha Vantage/);
    expect(bad.json().detail).not.toContain('replay-key');
    const mismatch = await post({
      symbol: 'IBM',
      timeframe: '1d',
      source: { kind: 'alphavantage', function: 'intraday', interval: '5min' },
    });
    expect(mismatch.statusCode).toBe(422);
    // A file path outside the allowed directories is an invalid source too.
    const outside = await post({ symbol: 'IBM', timeframe: '1d', source: { kind: 'file', path: '/etc/passwd' } });
    expect(outside.statusCode).toBe(422);
    expect(outside.json().detail).toMatch(/outside the allowed directories/);
  });

  it('parquet upload (written by DuckDB from the IBM sample, one planted bad row): same validation, row i reported at line i + 1', async () => {
    const file = join(dataDir, 'ibm.parquet');
    // Rows 1..60 of the sample; row 10 gets high below low.
    await platform.duckdb.run(
      `COPY (SELECT timestamp, open, CASE WHEN rn = 10 THEN low - 1 ELSE high END AS high, low, close, volume
               FROM (SELECT *, row_number() OVER () AS rn FROM read_csv(${q(IBM)}, header = true)) WHERE rn <= 60 ORDER BY rn)
         TO ${q(file)} (FORMAT parquet)`,
    );
    const content = readFileSync(file);
    expect(content.subarray(0, 4).toString()).toBe('PAR1');
    const form = multipart(
      { symbol: 'IBMPQ', timeframe: '1d' },
      { name: 'ibm.parquet', type: 'application/octet-stream', content },
    );
    const r = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload: form.payload,
      headers: { ...form.headers, 'x-api-key': KEYS.operator },
    });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    expect(body).toMatchObject({
      status: 'completed',
      symbol: 'IBMPQ',
      accepted: 59,
      rejected: 1,
      rejects: [{ line: 11, reason: 'high_below_low' }],
    });
    // The same bytes under a neutral name are recognised by their magic bytes: identical bars → duplicate.
    const again = multipart(
      { symbol: 'IBMPQ', timeframe: '1d' },
      { name: 'upload.bin', type: 'application/octet-stream', content },
    );
    const r2 = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/ingest',
      payload: again.payload,
      headers: { ...again.headers, 'x-api-key': KEYS.operator },
    });
    expect(r2.statusCode).toBe(200);
    expect(r2.json()).toMatchObject({ status: 'duplicate', duplicateOf: body.id });
    // And it equals the CSV path: the first 60 CSV lines of the sample, with the same planted row, give the same hash.
    const lines = readFileSync(IBM, 'utf8').trimEnd().split('\n').slice(0, 61);
    const cols = lines[10].split(',');
    cols[2] = String(Number(cols[3]) - 1);
    lines[10] = cols.join(',');
    const csv = await post({ symbol: 'IBMPQ', timeframe: '1d', csv: `${lines.join('\n')}\n` });
    expect(csv.statusCode).toBe(200);
    expect(csv.json()).toMatchObject({
      status: 'duplicate',
      contentHash: body.contentHash,
      rejects: [{ line: 11, reason: 'high_below_low' }],
    });
    expect(await waitFor(() => received.some((e) => e.data.ingestionId === body.id))).toBe(true);
    expect(received.filter((e) => e.data.symbol === 'IBMPQ')).toHaveLength(1);
  });
});

describe('ingest sources through REST without ALPHAVANTAGE_API_KEY', () => {
  it('answers 422 problem+json saying the Alpha Vantage source is not configured, and records the failed ingest', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strata-ingest-src-nokey-'));
    const bus = new InProcessEventBus({ service: 'platform' });
    const platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ALPHAVANTAGE_API_KEY: '' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: KEYS.operator }]),
    });
    try {
      const r = await platform.gateway.inject({
        method: 'POST',
        url: '/market-data/ingest',
        payload: { symbol: 'AAPL', timeframe: '1d', source: { kind: 'alphavantage', function: 'daily_adjusted' } },
        headers: { 'x-api-key': KEYS.operator },
      });
      expect(r.statusCode).toBe(422);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json()).toMatchObject({
        status: 422,
        type: 'urn:strata:problem:source-not-configured',
        title: 'Source not configured',
      });
      expect(r.json().detail).toMatch(/ALPHAVANTAGE_API_KEY/);
      expect(await platform.ingestionLog.get(r.json().ingestionId)).toMatchObject({ status: 'failed' });
    } finally {
      await platform.close();
      await bus.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
