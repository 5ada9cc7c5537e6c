import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  BacktestRunCompletedV1,
  BacktestRunFailedV1,
  BacktestRunProgressedV1,
  BacktestRunDtoSchema,
  RunBacktestCommandV1,
  type BacktestRunDto,
} from '@strata/backtests-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { runBacktest, STRATEGY_TEMPLATES } from '@strata/backtests-domain';
import { buildOpenApiDocument } from '@strata/platform-service-kit';
import { MarketDataService } from '@strata/marketdata-feature';
import { MarketDataBacktestData } from './market-data.backtest-data';
import {
  backtestsTestApp,
  backtestsTestEnv,
  OPERATOR_KEY,
  VIEWER_KEY,
  type BacktestsTestEnv,
} from './testing/backtests-test-app';

jest.setTimeout(120_000);

describe('strategies and backtests over REST (Fastify inject, in-process bus, embedded DuckDB)', () => {
  let env: BacktestsTestEnv;
  let app: NestFastifyApplication;
  const completed: PayloadOf<typeof BacktestRunCompletedV1>[] = [];
  const failed: PayloadOf<typeof BacktestRunFailedV1>[] = [];
  const progressed: PayloadOf<typeof BacktestRunProgressedV1>[] = [];

  beforeAll(async () => {
    env = await backtestsTestEnv();
    app = await backtestsTestApp(env, { sliceSteps: 500 });
    await env.bus.subscribe(BacktestRunCompletedV1, (e) => void completed.push(e), { consumer: 'test__completed' });
    await env.bus.subscribe(BacktestRunFailedV1, (e) => void failed.push(e), { consumer: 'test__failed' });
    await env.bus.subscribe(BacktestRunProgressedV1, (e) => void progressed.push(e), { consumer: 'test__progressed' });
  });
  afterAll(async () => {
    await app.close();
    await env.close();
  });

  const call = (method: string, url: string, payload?: unknown, key = OPERATOR_KEY) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload }),
    } as never);

  async function until(
    id: string,
    status: Array<BacktestRunDto['status']> = ['completed', 'failed'],
  ): Promise<BacktestRunDto> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const r = await call('GET', `/backtests/${id}`, undefined, VIEWER_KEY);
      expect(r.statusCode).toBe(200);
      const dto = r.json() as BacktestRunDto;
      if (status.includes(dto.status)) return dto;
      if (Date.now() > deadline) throw new Error(`backtest ${id} still ${dto.status}`);
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  async function allPages<T>(url: string, limit: number): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const r = await call('GET', `${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, undefined, VIEWER_KEY);
      expect(r.statusCode).toBe(200);
      const body = r.json() as { items: T[]; nextCursor: string | null };
      out.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor);
    return out;
  }

  describe('/strategies', () => {
    const def = {
      universe: { symbols: ['SPY'] },
      params: { fast: 10, slow: 30 },
      entry: {
        long: {
          cross: 'above',
          left: { indicator: 'sma', period: { param: 'fast' } },
          right: { indicator: 'sma', period: { param: 'slow' } },
        },
      },
      exit: {
        long: {
          cross: 'below',
          left: { indicator: 'sma', period: { param: 'fast' } },
          right: { indicator: 'sma', period: { param: 'slow' } },
        },
      },
      sizing: { kind: 'fixed_fraction', fraction: 0.5 },
    };

    it('creates, versions, reads, conflicts and deletes', async () => {
      const created = await call('POST', '/strategies', { name: 'my sma', definition: def });
      expect(created.statusCode).toBe(201);
      const s = created.json();
      expect(s).toMatchObject({
        name: 'my sma',
        latestVersion: 1,
        latest: { version: 1, definition: { direction: 'long', universe: { adjust: 'total' } } },
      });
      const v2 = await call('PUT', `/strategies/${s.id}`, {
        definition: { ...def, params: { fast: 5, slow: 30 } },
        baseVersion: 1,
        note: 'faster',
      });
      expect(v2.statusCode).toBe(200);
      expect(v2.json()).toMatchObject({
        latestVersion: 2,
        latest: { version: 2, note: 'faster', definition: { params: { fast: 5 } } },
      });
      expect(v2.json().latest.definitionHash).not.toBe(s.latest.definitionHash);
      // A stale baseVersion is a conflict; the old version stays readable.
      const stale = await call('PUT', `/strategies/${s.id}`, { definition: def, baseVersion: 1 });
      expect(stale.statusCode).toBe(409);
      expect(stale.json()).toMatchObject({ type: 'urn:strata:problem:version-conflict', latestVersion: 2 });
      expect((await call('GET', `/strategies/${s.id}/versions/1`, undefined, VIEWER_KEY)).json()).toMatchObject({
        version: 1,
        definition: { params: { fast: 10 } },
      });
      const versions = await call('GET', `/strategies/${s.id}/versions?limit=1`, undefined, VIEWER_KEY);
      expect(versions.json().items.map((v: { version: number }) => v.version)).toEqual([2]);
      expect(versions.json().nextCursor).not.toBeNull();
      expect(
        (await call('GET', '/strategies?limit=10', undefined, VIEWER_KEY))
          .json()
          .items.map((x: { id: string }) => x.id),
      ).toContain(s.id);
      // Viewers cannot write.
      expect((await call('POST', '/strategies', { name: 'x', definition: def }, VIEWER_KEY)).statusCode).toBe(403);
      expect((await call('DELETE', `/strategies/${s.id}`)).statusCode).toBe(204);
      expect((await call('GET', `/strategies/${s.id}`, undefined, VIEWER_KEY)).statusCode).toBe(404);
    });

    it('refuses a definition that reads the future or an unknown feature, with the path and reason', async () => {
      const leak = {
        ...def,
        entry: {
          long: {
            all: [
              { cmp: 'gt', left: { ref: { bar: 'close' }, bars: -1 }, right: { bar: 'close' } },
              { cmp: 'lt', left: { feature: 'rsi_99' }, right: { const: 30 } },
            ],
          },
        },
      };
      const r = await call('POST', '/strategies', { name: 'leaky', definition: leak });
      expect(r.statusCode).toBe(422);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(r.json()).toMatchObject({ type: 'urn:strata:problem:invalid-strategy', status: 422 });
      expect(r.json().errors).toEqual([
        {
          field: 'body.definition.entry.long.all.0.left.bars',
          reason: 'future_reference',
          message: expect.stringMatching(/future/),
        },
        {
          field: 'body.definition.entry.long.all.1.left.feature',
          reason: 'unknown_feature',
          message: 'feature set core has no feature rsi_99',
        },
      ]);
      // Schema errors stay 400 with zod's reasons.
      const bad = await call('POST', '/strategies', {
        name: 'bad',
        definition: { ...def, sizing: { kind: 'martingale' } },
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().errors[0].field).toBe('body.definition.sizing.kind');
      // The same checks guard inline definitions of backtests.
      const bt = await call('POST', '/backtests', { definition: leak });
      expect(bt.statusCode).toBe(422);
      expect(bt.json().errors[0]).toMatchObject({
        field: 'body.definition.entry.long.all.0.left.bars',
        reason: 'future_reference',
      });
    });

    it('lists the templates', async () => {
      const r = await call('GET', '/strategies/templates', undefined, VIEWER_KEY);
      expect(r.json().items.map((t: { name: string }) => t.name)).toEqual([
        'sma_crossover',
        'rsi_mean_reversion',
        'donchian_breakout',
        'vol_target_trend',
        'ml_signal',
        'regime_filter',
      ]);
    });
  });

  it('publishes the strategy definition schema in the OpenAPI document, recursion resolved through components', () => {
    const doc = buildOpenApiDocument(app) as unknown as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/#\/(\$defs|definitions)\//);
    for (const name of ['StrategyDefinitionV1', 'StrategyCondition', 'StrategyValue'])
      expect(doc.components.schemas[name]).toBeDefined();
    for (const ref of text.match(/"#\/components\/schemas\/[^"]+"/g) ?? [])
      expect(doc.components.schemas[ref.slice(22, -1)]).toBeDefined();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/strategies',
        '/strategies/{id}',
        '/strategies/{id}/versions/{version}',
        '/backtests',
        '/backtests/{id}',
        '/backtests/{id}/trades',
        '/backtests/{id}/equity',
      ]),
    );
    // The body of POST /strategies refers to the definition schema.
    expect(JSON.stringify((doc.paths['/strategies'] as { post: unknown }).post)).toContain(
      '#/components/schemas/StrategyDefinitionV1',
    );
  });

  describe('/backtests', () => {
    const execution = {
      commission: { bps: 1, fixed: 1 },
      slippage: { model: 'volume_impact', bps: 1, impact: 0.1, volLookback: 20 },
      borrow: { annualBps: 50 },
      maxParticipation: 0.05,
    };

    // ml_signal needs a champion model: apps/platform's signals e2e trains and promotes one, then runs it;
    // regime_filter needs the regime service: apps/platform's regime scenario runs it.
    it.each(
      STRATEGY_TEMPLATES.filter((t) => t.name !== 'ml_signal' && t.name !== 'regime_filter').map((t) => [t.name]),
    )('runs the %s template on the bundled sample through REST', async (name) => {
      // Templates on a multi-symbol universe of split-adjusted sample data (AAPL has 4 splits, QQQ one).
      const symbols = name === 'rsi_mean_reversion' ? ['SPY'] : ['SPY', 'QQQ', 'AAPL'];
      const strategy = (await call('POST', '/strategies/from-template', { template: name, symbols })).json();
      expect(strategy.template).toBe(name);
      const submitted = await call('POST', '/backtests', {
        strategyId: strategy.id,
        execution,
        lookAheadCheck: { samples: 8 },
      });
      expect(submitted.statusCode).toBe(202);
      const { id } = submitted.json();
      expect(submitted.json()).toMatchObject({ status: 'queued', strategy: { id: strategy.id, version: 1 } });
      const dto = await until(id);
      expect(BacktestRunDtoSchema.parse(dto)).toBeTruthy();
      expect(dto.error).toBeNull();
      expect(dto).toMatchObject({
        status: 'completed',
        attempts: 1,
        result: { resultSchemaVersion: 1, lookAhead: { passed: true, decisionPointsChecked: 8 } },
      });
      const result = dto.result!;
      expect(result.counts.trades).toBeGreaterThan(0);
      expect(result.kpis.sharpe).not.toBeNull();
      expect(result.data.map((d) => d.symbol)).toEqual(symbols);
      expect(result.data.every((d) => d.adjust === 'total')).toBe(true);

      const equity = await allPages<{ seq: number; equity: number }>(`/backtests/${id}/equity`, 2000);
      expect(equity).toHaveLength(result.periods + 1);
      expect(equity.map((p) => p.seq)).toEqual(equity.map((_, i) => i));
      expect(equity.at(-1)!.equity).toBe(result.finalEquity);
      const trades = await allPages<{ pnl: number }>(`/backtests/${id}/trades`, 37);
      expect(trades).toHaveLength(result.counts.trades);
      const orders = await allPages<{ filledQty: number }>(`/backtests/${id}/orders`, 1000);
      expect(orders).toHaveLength(result.counts.orders);

      // The worker's result is bit-identical to a direct run of the engine on the same adjusted bars.
      const md = new MarketDataBacktestData(app.get(MarketDataService));
      const data = {
        timeframe: '1d' as const,
        symbols: await Promise.all(
          symbols.map(async (s) => (await md.bars({ symbol: s, timeframe: '1d', adjust: 'total' }))!),
        ),
      };
      const direct = runBacktest({
        definition: dto.spec.definition,
        params: dto.spec.params,
        data,
        initialCapital: dto.spec.initialCapital,
        execution: dto.spec.execution,
        benchmark: { symbol: 'SPY', ts: data.symbols[0].ts, close: data.symbols[0].close },
      });
      expect(result.fingerprint).toBe(direct.fingerprint);
      expect(result.kpis).toEqual(JSON.parse(JSON.stringify(direct.kpis)));

      // Exactly one completion event, with the result's headline.
      const events = completed.filter((e) => e.runId === id);
      expect(events).toEqual([
        expect.objectContaining({
          runId: id,
          strategyId: strategy.id,
          strategyVersion: 1,
          resultSchemaVersion: 1,
          fingerprint: result.fingerprint,
          lookAheadPassed: true,
        }),
      ]);
      expect(progressed.some((p) => p.runId === id && p.phase === 'simulating')).toBe(true);
    });

    it('a redelivered command for a completed run never yields a second result', async () => {
      const r = await call('POST', '/backtests', {
        definition: STRATEGY_TEMPLATES[0].definition,
        lookAheadCheck: { enabled: false },
      });
      const { id } = r.json();
      const first = await until(id);
      expect(first.result!.lookAhead).toBeNull();
      // Another service (or a sweep) sends the command again, with a new envelope id.
      await env.bus.publish(RunBacktestCommandV1, { runId: id, spec: first.spec, requestedAt: first.createdAt });
      await new Promise((res) => setTimeout(res, 500));
      const again = (await call('GET', `/backtests/${id}`, undefined, VIEWER_KEY)).json() as BacktestRunDto;
      expect(again).toEqual(first);
      expect(completed.filter((e) => e.runId === id)).toHaveLength(1);
    });

    it('fails a run whose universe has no data, once, with the reason', async () => {
      const definition = {
        ...STRATEGY_TEMPLATES[0].definition,
        universe: { ...STRATEGY_TEMPLATES[0].definition.universe, symbols: ['NOPE'], benchmark: undefined },
      };
      const r = await call('POST', '/backtests', { definition });
      const dto = await until(r.json().id);
      expect(dto).toMatchObject({
        status: 'failed',
        result: null,
        error: { reason: 'no_data', detail: 'no 1d bars stored for NOPE' },
      });
      expect(failed.filter((e) => e.runId === dto.id)).toEqual([
        { runId: dto.id, reason: 'no_data', detail: 'no 1d bars stored for NOPE' },
      ]);
      const series = await call('GET', `/backtests/${dto.id}/equity`, undefined, VIEWER_KEY);
      expect(series.statusCode).toBe(409);
      expect(series.json()).toMatchObject({
        type: 'urn:strata:problem:backtest-not-completed',
        backtestStatus: 'failed',
      });
    });

    it('fails an ML-signal run clearly when no model registry is wired in', async () => {
      const strategy = (await call('POST', '/strategies/from-template', { template: 'ml_signal' })).json();
      const dto = await until((await call('POST', '/backtests', { strategyId: strategy.id })).json().id);
      expect(dto).toMatchObject({ status: 'failed', error: { reason: 'invalid_strategy' } });
      expect(dto.error!.detail).toMatch(/signal:champion: ML signals are not available/);
    });

    it('answers problem+json for unknown runs, strategies and bad cursors', async () => {
      expect((await call('GET', '/backtests/nope', undefined, VIEWER_KEY)).statusCode).toBe(404);
      expect((await call('POST', '/backtests', { strategyId: 'nope' })).statusCode).toBe(404);
      const both = await call('POST', '/backtests', { strategyId: 'x', definition: STRATEGY_TEMPLATES[0].definition });
      expect(both.statusCode).toBe(400);
      const done = (await call('GET', '/backtests?status=completed&limit=1', undefined, VIEWER_KEY)).json().items[0];
      const badCursor = await call('GET', `/backtests/${done.id}/trades?cursor=garbage`, undefined, VIEWER_KEY);
      expect(badCursor.statusCode).toBe(404);
      expect(badCursor.json().type).toBe('urn:strata:problem:invalid-cursor');
      const malformed = await call(
        'GET',
        `/backtests/${done.id}/trades?cursor=not%20a%20cursor`,
        undefined,
        VIEWER_KEY,
      );
      expect(malformed.statusCode).toBe(400);
    });
  });
});
