/**
 * The regime service end to end, shared by the embedded e2e test (in-process bus, DuckDB documents) and the
 * integration test (NATS JetStream + FerretDB): a real SPY slice is ingested through REST in parts; after each ingest
 * `GET /market-data/regime` becomes fresh through the bar events (as of the last ingested bar, not stale); served
 * history is never rewritten (as-of reads: a later ingest, a correction and a refit leave every earlier record equal);
 * the schedule refits into a new model version; an operator refit answers 202 + a version; label changes publish
 * `regime.evt.state.changed.v1`; a redelivered event changes nothing; bad input is problem+json.
 */
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type EventBus, type Envelope, type PayloadOf } from '@strata/platform-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { RegimeStateChangedV1, type RegimeCurrentDto } from '@strata/regime-contracts';
import { RegimeEventsHandler, RegimeRepository } from '@strata/regime-feature';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from '../config';
import { startPlatform, type Platform } from '../platform';
import { waitFor } from './wait-for';

/** API keys of the scenario, one per role. */
export const REGIME_KEYS = { operator: 'operator-key-regime-1', viewer: 'viewer-key-regime-1' };

/** What differs between the embedded and the integration run. */
export interface RegimeScenarioOptions {
  bus: () => Promise<EventBus>;
  env: () => Record<string, string>;
  cleanup?: () => Promise<void>;
}

/** Rows of the real SPY sample from 2014 on (header separate). */
function spyRows(): { header: string; rows: string[] } {
  const lines = readFileSync(resolve(__dirname, '../../../../data/sample/SPY_1d.csv'), 'utf8').trim().split('\n');
  return { header: lines[0], rows: lines.slice(1).filter((l) => l >= '2014-01-01') };
}

/** Registers the scenario's tests in the current `describe`. */
export function regimeScenario(opts: RegimeScenarioOptions): void {
  const SYMBOL = 'SPYRG';
  const REFIT_EVERY = 25;
  const { header, rows } = spyRows();
  let platform: Platform;
  let bus: EventBus;
  let dataDir: string;
  const changed: Envelope<PayloadOf<typeof RegimeStateChangedV1>>[] = [];
  const ingested: Envelope<PayloadOf<typeof BarsIngestedV1>>[] = [];
  /** Freshness: ms from the ingest's answer to `/market-data/regime` as of its last bar. */
  const freshMs: number[] = [];

  const call = (method: string, url: string, key: string, payload?: unknown) =>
    platform.gateway.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const iso = (row: string) => `${row.slice(0, 10)}T00:00:00.000Z`;
  const ingest = async (part: string[]) => {
    const r = await call('POST', '/market-data/ingest', REGIME_KEYS.operator, {
      symbol: SYMBOL,
      timeframe: '1d',
      csv: [header, ...part].join('\n'),
    });
    expect(r.statusCode).toBe(201);
    const t0 = performance.now();
    const want = iso(part[part.length - 1]);
    const cur = await waitFor<RegimeCurrentDto>(`regime as of ${want}`, async () => {
      const c = await call('GET', `/market-data/regime?symbol=${SYMBOL}&timeframe=1d`, REGIME_KEYS.viewer);
      return c.statusCode === 200 && c.json().asOf === want ? c.json() : undefined;
    });
    freshMs.push(performance.now() - t0);
    return cur;
  };
  const history = async (limit = 7) => {
    const items: Record<string, unknown>[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/market-data/regime/history?symbol=${SYMBOL}&timeframe=1d&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { items: Record<string, unknown>[]; nextCursor: string | null } = (
        await call('GET', q, REGIME_KEYS.viewer)
      ).json();
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items as { asOf: string; modelVersion: number; label: string; recordedAt: string }[];
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-regime-'));
    bus = await opts.bus();
    await bus.subscribe(RegimeStateChangedV1, (_d, ctx) => void changed.push(ctx.envelope), {
      consumer: 'scenario__regime_changed',
    });
    await bus.subscribe(BarsIngestedV1, (_d, ctx) => void ingested.push(ctx.envelope), {
      consumer: 'scenario__regime_bars_ingested',
    });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...opts.env() }),
      logger: createLogger({ service: 'regime-scenario', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(
        Object.entries(REGIME_KEYS).map(([role, key]) => ({ role: role as 'viewer', key })),
      ),
      regime: { refitEveryBars: REFIT_EVERY },
    });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
    await opts.cleanup?.();
  });

  it('answers 404 problem+json before any bars, 400 for bad queries', async () => {
    const none = await call('GET', `/market-data/regime?symbol=${SYMBOL}`, REGIME_KEYS.viewer);
    expect(none.statusCode).toBe(404);
    expect(none.headers['content-type']).toContain('application/problem+json');
    const bad = await call('GET', `/market-data/regime?symbol=${SYMBOL}&timeframe=2d`, REGIME_KEYS.viewer);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors.map((e: { field: string }) => e.field)).toEqual(['query.timeframe']);
    const noSym = await call('GET', '/market-data/regime/history?from=yesterday', REGIME_KEYS.viewer);
    expect(noSym.statusCode).toBe(400);
    expect(
      noSym
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['query.from', 'query.symbol']);
    const refitUnknown = await call('POST', '/market-data/regime/models', REGIME_KEYS.operator, { symbol: 'NOBARS' });
    expect(refitUnknown.statusCode).toBe(404);
  });

  it('becomes fresh through the bar events: first fit, then one filter step per new bar', async () => {
    const first = await ingest(rows.slice(0, 300));
    expect(first).toMatchObject({ symbol: SYMBOL, timeframe: '1d', modelVersion: 1, stale: false });
    expect(first.latestBar).toBe(first.asOf);
    expect(first.lastBarFitted).toBe(iso(rows[299]));
    const names = Object.keys(first.probabilities);
    expect([
      ['calm', 'turbulent'],
      ['calm', 'normal', 'turbulent'],
    ]).toContainEqual(names);
    expect(names).toContain(first.label);
    expect(Object.values(first.probabilities as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(first.transition.map((r: { from: string }) => r.from)).toEqual(names);
    for (const r of first.transition) expect(r.row.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 9);
    // States named by volatility: calm is the least volatile, turbulent the most.
    const vols = first.states.map((s: { annualisedVol: number }) => s.annualisedVol);
    expect([...vols].sort((a, b) => a - b)).toEqual(vols);
    expect(first.states.map((s: { label: string }) => s.label)).toEqual(names);
    // The first label is published with previousLabel null.
    const ev = await waitFor('first state change', () => changed.find((e) => e.data.asOf === first.asOf));
    expect(ev.data).toMatchObject({ symbol: SYMBOL, label: first.label, previousLabel: null, modelVersion: 1 });

    const second = await ingest(rows.slice(300, 320));
    expect(second).toMatchObject({ modelVersion: 1, stale: false });
    const h = await history();
    // One record per bar from the fit on: the fitted bar and the 20 filtered since, ascending, no gaps.
    expect(h.map((r) => r.asOf)).toEqual(rows.slice(299, 320).map(iso));
  });

  it('never rewrites served history: later bars, a correction and refits leave earlier records equal', async () => {
    const before = await history();
    // 30 more bars: past REFIT_EVERY filtered bars, so the schedule queues version 2.
    await ingest(rows.slice(320, 350));
    const repo = platform.services.regime.get(RegimeRepository);
    await waitFor('model version 2 ready', async () =>
      (await repo.models.findOne({ symbol: SYMBOL, modelVersion: 2 }))?.status === 'ready' ? true : undefined,
    );
    const v2 = (await repo.models.findOne({ symbol: SYMBOL, modelVersion: 2 }))!;
    expect(v2.trigger).toBe('schedule');
    // The superseded version carries its TTL instant; the current one never expires.
    expect((await repo.models.findOne({ symbol: SYMBOL, modelVersion: 1 }))?.supersededAt).toEqual(expect.any(String));
    expect(v2.supersededAt).toBeNull();
    // A correction of an already served bar (bar 330, close +3 %) together with new bars: bounded recompute.
    const fixed = rows[330].split(',');
    fixed[4] = String(Math.round(Number(fixed[4]) * 1.03 * 100) / 100);
    fixed[2] = String(Math.max(Number(fixed[2]), Number(fixed[4])));
    const afterFix = await ingest([fixed.join(','), ...rows.slice(350, 360)]);
    expect(afterFix.modelVersion).toBe(2);
    const after = await history();
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.map((r) => r.asOf)).toEqual(rows.slice(299, 360).map(iso));
    // Every record after version 2 was fitted belongs to it; none before.
    const fittedAt = v2.lastBarFitted!;
    for (const r of after) expect(r.modelVersion).toBe(r.asOf > fittedAt ? 2 : 1);
    // from/to bound the as-of bar, inclusive.
    const window = (
      await call(
        'GET',
        `/market-data/regime/history?symbol=${SYMBOL}&from=${rows[340].slice(0, 10)}&to=${rows[344].slice(0, 10)}`,
        REGIME_KEYS.viewer,
      )
    ).json();
    expect(window.items.map((r: { asOf: string }) => r.asOf)).toEqual(rows.slice(340, 345).map(iso));
    // Each published change matches the record of its bar.
    const byAsOf = new Map(after.map((r) => [r.asOf, r]));
    const mine = changed.filter((e) => e.data.symbol === SYMBOL);
    for (const e of mine) expect(byAsOf.get(e.data.asOf)?.label).toBe(e.data.label);
    // ... and every label change in the history was published.
    const changes = after.filter((r, i) => i === 0 || r.label !== after[i - 1].label).map((r) => r.asOf);
    expect(mine.map((e) => e.data.asOf).sort()).toEqual(changes);
  });

  it('a redelivered bars.ingested changes nothing (idempotent per bar)', async () => {
    const before = await history();
    const handler = platform.services.regime.get(RegimeEventsHandler);
    const last = ingested.filter((e) => e.data.symbol === SYMBOL).at(-1)!;
    await expect(handler.onBarsIngested(last.data)).resolves.toMatchObject({ appended: 0 });
    expect(await history()).toEqual(before);
  });

  it('backtests read the regime as of each bar: the regime_filter template runs on the served history', async () => {
    const strategy = await call('POST', '/strategies/from-template', REGIME_KEYS.operator, {
      template: 'regime_filter',
      symbols: [SYMBOL],
      params: { fast: 3, slow: 8, max_turbulent: 0.99, exit_turbulent: 0.995 },
    });
    expect(strategy.statusCode).toBe(201);
    const run = await call('POST', '/backtests', REGIME_KEYS.operator, { strategyId: strategy.json().id });
    expect(run.statusCode).toBe(202);
    const done = await waitFor(
      'regime_filter backtest',
      async () => {
        const g = (await call('GET', `/backtests/${run.json().id}`, REGIME_KEYS.viewer)).json();
        return ['completed', 'failed'].includes(g.status) ? g : undefined;
      },
      120_000,
    );
    expect(done.error ?? null).toBeNull();
    expect(done.status).toBe('completed');
    // The look-ahead check re-ran it on truncated data: every decision used the regime as of its bar only.
    expect(done.result.lookAhead?.passed).toBe(true);
    // Trades only where the regime history exists (the rule is false on NaN before the first fit).
    const firstRecord = (await history())[0].asOf;
    const trades = (await call('GET', `/backtests/${run.json().id}/trades?limit=1000`, REGIME_KEYS.viewer)).json();
    expect(trades.items.length).toBeGreaterThan(0);
    for (const t of trades.items) expect(t.entryTs >= firstRecord).toBe(true);
  });

  it('POST /market-data/regime/models: viewers may not; an operator gets 202 and a new model version', async () => {
    expect((await call('POST', '/market-data/regime/models', REGIME_KEYS.viewer, { symbol: SYMBOL })).statusCode).toBe(
      403,
    );
    const r = await call('POST', '/market-data/regime/models', REGIME_KEYS.operator, { symbol: SYMBOL });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ symbol: SYMBOL, timeframe: '1d', status: 'queued', trigger: 'operator' });
    const version = r.json().modelVersion;
    expect(version).toBeGreaterThanOrEqual(3);
    const next = await ingest(rows.slice(360, 362));
    await waitFor(`records under version ${version}`, async () => {
      const c = (await call('GET', `/market-data/regime?symbol=${SYMBOL}`, REGIME_KEYS.viewer)).json();
      return c.modelVersion === version ? true : undefined;
    }).catch(async () => {
      // The refit may land after the two bars were filtered: one more bar is then filtered under it.
      await ingest(rows.slice(362, 363));
      const c = (await call('GET', `/market-data/regime?symbol=${SYMBOL}`, REGIME_KEYS.viewer)).json();
      expect(c.modelVersion).toBe(version);
    });
    expect(next.stale).toBe(false);
    const bad = await call('POST', '/market-data/regime/models', REGIME_KEYS.operator, { symbol: SYMBOL, extra: 1 });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    // Freshness through the bus, ms from each ingest's answer (printed for the report).
    process.stderr.write(`${JSON.stringify({ regimeFreshMs: freshMs.map((m) => Math.round(m)) })}\n`);
  });
}
