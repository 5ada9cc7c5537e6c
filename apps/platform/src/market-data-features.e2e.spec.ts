/**
 * REST end to end for market data and the feature store, in one process: the platform on first boot loads the
 * bundled sample into DuckDB, the feature refresher materialises `core` v1, and Fastify's inject drives every route
 * (JSON, CSV and Arrow answers, cursors, roles, problem+json errors, corporate actions, ingest → features).
 */
import { FeatureSetRefreshedV1 } from '@strata/features-contracts';
import { type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { CORE_V1_FEATURE_NAMES, CORE_V2_FEATURE_NAMES } from '@strata/shared-indicators';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { tableFromIPC } from 'apache-arrow';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

jest.setTimeout(180_000);

const KEYS = { admin: 'admin-key-0001', operator: 'operator-key-0001', viewer: 'viewer-key-0001' };
const SAMPLE = resolve(__dirname, '../../../data/sample');

describe('market data and features REST (platform, first boot with the bundled sample)', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  const refreshed: Envelope<PayloadOf<typeof FeatureSetRefreshedV1>>[] = [];

  const waitFor = async (pred: () => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!pred() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return pred();
  };
  const get = (url: string, headers: Record<string, string> = {}) =>
    platform.gateway.inject({ method: 'GET', url, headers: { 'x-api-key': KEYS.viewer, ...headers } });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-md-e2e-'));
    bus = new InProcessEventBus({ service: 'platform' });
    await bus.subscribe(FeatureSetRefreshedV1, (_d, ctx) => void refreshed.push(ctx.envelope), {
      consumer: 'e2e__features_refreshed',
    });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(Object.entries(KEYS).map(([role, key]) => ({ role: role as 'admin', key }))),
      sampleDataDir: SAMPLE,
    });
    // The six sample series get their features materialised from the bars.ingested events.
    // Both `core` versions (v1, then v2 for each series) materialised for the six sample series.
    await waitFor(() => new Set(refreshed.filter((e) => e.data.version === 2).map((e) => e.data.symbol)).size >= 6);
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loaded the sample on first boot and lists the stored series, paginated', async () => {
    const p1 = await get('/market-data/symbols?limit=4');
    expect(p1.statusCode).toBe(200);
    const b1 = p1.json();
    expect(b1.items.map((s: { symbol: string }) => s.symbol)).toEqual(['AAPL', 'BAC', 'BTCUSD', 'IBM']);
    expect(b1.items[0]).toEqual({
      symbol: 'AAPL',
      timeframe: '1d',
      bars: 5849,
      from: '1998-01-02T00:00:00.000Z',
      to: '2021-03-31T00:00:00.000Z',
    });
    const p2 = (await get(`/market-data/symbols?limit=4&cursor=${b1.nextCursor}`)).json();
    expect(p2.items.map((s: { symbol: string }) => s.symbol)).toEqual(['QQQ', 'SPY']);
    expect(p2.nextCursor).toBeNull();
  });

  it('serves split-adjusted bars as JSON (AAPL 7:1 and 4:1 from the bundled corporate actions)', async () => {
    const r = await get('/market-data/bars?symbol=aapl&timeframe=1d&from=2014-06-05&to=2014-06-10&adjust=split');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ symbol: 'AAPL', timeframe: '1d', adjust: 'split', nextCursor: null });
    expect(body.items.map((b: { ts: string }) => b.ts)).toEqual([
      '2014-06-05T00:00:00.000Z',
      '2014-06-06T00:00:00.000Z',
      '2014-06-09T00:00:00.000Z',
      '2014-06-10T00:00:00.000Z',
    ]);
    expect(body.items[1].close).toBeCloseTo(645.57 / 28, 10);
    expect(body.items[1].volume).toBe(12116671 * 28);
    expect(body.items[2].close).toBeCloseTo(93.7 / 4, 10);
    const raw = (await get('/market-data/bars?symbol=AAPL&timeframe=1d&from=2014-06-06&to=2014-06-06')).json();
    expect(raw.items).toEqual([
      {
        ts: '2014-06-06T00:00:00.000Z',
        open: 650,
        high: 651.25,
        low: 644.48,
        close: 645.57,
        volume: 12116671,
        adjClose: null,
      },
    ]);
  });

  it('pages through a whole series with cursors: every bar once, in order', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/market-data/bars?symbol=SPY&timeframe=1d&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
      const body = (await get(url)).json();
      seen.push(...body.items.map((b: { ts: string }) => b.ts));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(6);
    expect(seen.length).toBe(5849);
    expect(new Set(seen).size).toBe(5849);
    expect([...seen].sort()).toEqual(seen);
  });

  it('answers CSV and Arrow IPC by Accept, with the next cursor in headers', async () => {
    const csv = await get('/market-data/bars?symbol=SPY&timeframe=1d&limit=3', { accept: 'text/csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.trimEnd().split('\n')).toEqual([
      'timestamp,open,high,low,close,volume',
      '1998-01-02T00:00:00.000Z,97.31,97.53,96.53,97.36,2150000',
      expect.stringMatching(/^1998-01-05T00:00:00.000Z,/),
      expect.stringMatching(/^1998-01-06T00:00:00.000Z,/),
    ]);
    expect(csv.headers['x-next-cursor']).toEqual(expect.any(String));
    expect(csv.headers.link).toMatch(/rel="next"/);
    const arrow = await get('/market-data/bars?symbol=AAPL&timeframe=1d&from=2014-06-06&to=2014-06-09&adjust=split', {
      accept: 'application/vnd.apache.arrow.stream',
    });
    expect(arrow.statusCode).toBe(200);
    expect(arrow.headers['content-type']).toBe('application/vnd.apache.arrow.stream');
    const table = tableFromIPC(arrow.rawPayload);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'timestamp:Timestamp<MILLISECOND, UTC>',
      'open:Float64',
      'high:Float64',
      'low:Float64',
      'close:Float64',
      'volume:Float64',
    ]);
    expect(table.numRows).toBe(2);
    expect(Number(table.getChild('timestamp')!.get(0))).toBe(Date.parse('2014-06-06T00:00:00Z'));
    expect(table.getChild('close')!.get(0)).toBeCloseTo(645.57 / 28, 10);
    expect(table.schema.metadata.get('adjust')).toBe('split');
  });

  it('answers bad requests with application/problem+json naming the field', async () => {
    const noKey = await platform.gateway.inject({ method: 'GET', url: '/market-data/bars?symbol=SPY&timeframe=1d' });
    expect(noKey.statusCode).toBe(401);
    expect(noKey.headers['content-type']).toMatch(/^application\/problem\+json/);
    const bad = await get('/market-data/bars?symbol=SPY&timeframe=2d&from=yesterday&limit=0');
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(
      bad
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['query.from', 'query.limit', 'query.timeframe']);
    const cursor = await get('/market-data/bars?symbol=SPY&timeframe=1d&cursor=garbage');
    expect(cursor.statusCode).toBe(404);
    expect(cursor.json()).toMatchObject({ type: 'urn:strata:problem:invalid-cursor' });
    expect(cursor.json().errors[0]).toMatchObject({ field: 'query.cursor', reason: 'invalid_cursor' });
    const malformed = await get('/market-data/bars?symbol=SPY&timeframe=1d&cursor=garbage!');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors[0]).toMatchObject({ field: 'query.cursor', reason: 'invalid_format' });
    const accept = await get('/market-data/bars?symbol=SPY&timeframe=1d', { accept: 'image/png' });
    expect(accept.statusCode).toBe(406);
    expect(accept.headers['content-type']).toMatch(/^application\/problem\+json/);
    const limit = await get('/features?set=core&symbol=SPY&limit=10001');
    expect(limit.statusCode).toBe(400);
    expect(limit.json().errors[0].field).toBe('query.limit');
    const missing = await get('/features/sets/nope/versions');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('lists feature sets and versions, and serves point-in-time features with null warm-up, paginated', async () => {
    expect((await get('/features/sets')).json()).toEqual({
      items: [{ name: 'core', versions: [1, 2], latestVersion: 2 }],
    });
    const versions = (await get('/features/sets/core/versions')).json();
    expect(versions.items[0]).toMatchObject({ name: 'core', version: 1, view: 'features.core_v1', adjust: 'total' });
    expect(versions.items[0].features.map((f: { name: string }) => f.name)).toEqual([...CORE_V1_FEATURE_NAMES]);
    // v2 (scale-free, the default for new models) is materialised next to v1.
    expect(versions.items[1]).toMatchObject({ name: 'core', version: 2, view: 'features.core_v2', adjust: 'total' });
    expect(versions.items[1].features.map((f: { name: string }) => f.name)).toEqual([...CORE_V2_FEATURE_NAMES]);
    const page = (await get('/features?set=core&version=1&symbol=SPY&timeframe=1d&limit=40')).json();
    expect(page.items).toHaveLength(40);
    expect(Object.keys(page.items[0])).toEqual(['symbol', 'ts', ...CORE_V1_FEATURE_NAMES]);
    expect(page.items[0]).toMatchObject({
      symbol: 'SPY',
      ts: '1998-01-02T00:00:00.000Z',
      ret_1: null,
      macd: null,
      obv: 2150000,
    });
    expect(page.items[39].macd).toEqual(expect.any(Number));
    const next = (await get(`/features?set=core&version=1&symbol=SPY&limit=40&cursor=${page.nextCursor}`)).json();
    expect(next.items[0].ts > page.items[39].ts).toBe(true);
    const ranged = (await get('/features?set=core&symbol=SPY&from=2020-03-16&to=2020-03-20')).json();
    expect(ranged.items.map((r: { ts: string }) => r.ts.slice(0, 10))).toEqual([
      '2020-03-16',
      '2020-03-17',
      '2020-03-18',
      '2020-03-19',
      '2020-03-20',
    ]);
    expect(ranged.nextCursor).toBeNull();
    const lineage = (await get('/features/lineage?set=core&symbol=SPY&limit=1')).json();
    expect(lineage.items[0]).toMatchObject({
      set: 'core',
      version: 2,
      symbol: 'SPY',
      timeframe: '1d',
      rows: 5849,
      barsCount: 5849,
      from: '1998-01-02T00:00:00.000Z',
      to: '2021-03-31T00:00:00.000Z',
    });
    expect(lineage.items[0].barsContentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('records corporate actions (operator only), serves them, and recomputes the features of the symbol', async () => {
    const body = { actions: [{ kind: 'dividend', symbol: 'SPY', exDate: '2020-03-20', amount: 1.4 }] };
    const viewer = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/corporate-actions',
      headers: { 'x-api-key': KEYS.viewer },
      payload: body,
    });
    expect(viewer.statusCode).toBe(403);
    const bad = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/corporate-actions',
      headers: { 'x-api-key': KEYS.operator },
      payload: { actions: [{ kind: 'split', symbol: 'SPY', exDate: '2020-02-30', newShares: 0 }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['body.actions.0.exDate', 'body.actions.0.newShares', 'body.actions.0.oldShares']),
    );
    const before = refreshed.length;
    const ok = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/corporate-actions',
      headers: { 'x-api-key': KEYS.operator },
      payload: body,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ inserted: 1, updated: 0, unchanged: 0, symbolsChanged: ['SPY'] });
    const again = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/corporate-actions',
      headers: { 'x-api-key': KEYS.operator },
      payload: body,
    });
    expect(again.json()).toEqual({ inserted: 0, updated: 0, unchanged: 1, symbolsChanged: [] });
    expect((await get('/market-data/corporate-actions?symbol=SPY')).json()).toEqual({ items: body.actions });
    expect(
      await waitFor(() =>
        refreshed.slice(before).some((e) => e.data.symbol === 'SPY' && e.data.reason === 'corporate_actions'),
      ),
    ).toBe(true);
    // Total adjustment: the bar before the ex-date × (1 − 1.4 / its close).
    const total = (
      await get('/market-data/bars?symbol=SPY&timeframe=1d&from=2020-03-19&to=2020-03-20&adjust=total')
    ).json().items;
    const raw = (await get('/market-data/bars?symbol=SPY&timeframe=1d&from=2020-03-19&to=2020-03-20')).json().items;
    expect(total[0].close).toBeCloseTo(raw[0].close * (1 - 1.4 / raw[0].close), 10);
    expect(total[1].close).toBe(raw[1].close);
  });

  it('ingests a new series over REST and serves its bars and features; re-posting it is a duplicate', async () => {
    const csv = [
      'timestamp,open,high,low,close,volume',
      ...Array.from({ length: 60 }, (_, i) => {
        const d = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
        const c = 100 + Math.sin(i / 3) * 5;
        return `${d},${c.toFixed(2)},${(c + 1).toFixed(2)},${(c - 1).toFixed(2)},${c.toFixed(2)},${1000 + i}`;
      }),
    ].join('\n');
    const post = () =>
      platform.gateway.inject({
        method: 'POST',
        url: '/market-data/ingest',
        headers: { 'x-api-key': KEYS.operator },
        payload: { symbol: 'NEWX', timeframe: '1d', csv },
      });
    const r = await post();
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({
      status: 'completed',
      accepted: 60,
      changes: { inserted: 60, updated: 0, unchanged: 0 },
    });
    expect((await get(`/market-data/ingestions/${r.json().id}`)).json()).toMatchObject({
      id: r.json().id,
      status: 'completed',
      rejects: [],
    });
    expect((await get('/market-data/bars?symbol=NEWX&timeframe=1d')).json().items).toHaveLength(60);
    expect(await waitFor(() => refreshed.some((e) => e.data.symbol === 'NEWX' && e.data.version === 2))).toBe(true);
    const f = (await get('/features?set=core&symbol=NEWX&limit=10000')).json();
    expect(f.items).toHaveLength(60);
    expect(f.items[59].rsi_14).toEqual(expect.any(Number));
    const dup = await post();
    expect(dup.statusCode).toBe(200);
    expect(dup.json()).toMatchObject({
      status: 'duplicate',
      duplicateOf: r.json().id,
      changes: { inserted: 0, updated: 0, unchanged: 60 },
    });
  });
});
