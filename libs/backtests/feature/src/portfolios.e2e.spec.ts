import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PortfolioDtoSchema, PortfolioForecastDtoSchema } from '@strata/backtests-contracts';
import { STRATEGY_TEMPLATES } from '@strata/backtests-domain';
import { BacktestRunsRepository, queuedRun } from './backtest-runs.repository';
import {
  backtestsTestApp,
  backtestsTestEnv,
  OPERATOR_KEY,
  VIEWER_KEY,
  type BacktestsTestEnv,
} from './testing/backtests-test-app';

jest.setTimeout(120_000);

const DAY = 86_400_000;
const T0 = Date.parse('2024-01-02T21:00:00Z');

/** A member's curve: equity on the given day offsets from T0. */
function curve(days: number[], equity: number[]) {
  const ts = Float64Array.from(days, (d) => T0 + d * DAY);
  const n = ts.length;
  return {
    curve: {
      ts,
      equity: Float64Array.from(equity),
      cash: Float64Array.from(equity),
      gross: new Float64Array(n),
      net: new Float64Array(n),
      positions: new Float64Array(n),
    },
    trades: [],
    orders: [],
  };
}

describe('/portfolios (Fastify inject, embedded stores, hand-made member runs)', () => {
  let env: BacktestsTestEnv;
  let app: NestFastifyApplication;
  let runs: BacktestRunsRepository;

  const call = (method: string, url: string, payload?: unknown, key = OPERATOR_KEY) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload }),
    } as never);

  /** A completed run whose series (attempt `attempt`) is `series`: what the worker leaves behind. */
  async function completedRun(id: string, attempt: string, series: ReturnType<typeof curve>, status = 'completed') {
    await env.series.write(id, attempt, series);
    const spec = { definition: STRATEGY_TEMPLATES[0].definition } as never;
    const existing = await runs.get(id);
    if (existing)
      await runs.update(id, existing._version, { set: { seriesAttempt: attempt, status: status as 'completed' } });
    else
      await runs.insert({
        ...queuedRun(id, spec, null, new Date().toISOString()),
        status: status as 'completed',
        seriesAttempt: attempt,
      });
  }

  // A trades days 0, 1, 2; B days 1 and 3: the union calendar is days 0..3.
  const rA = [0, 0.1, -0.1, 0];
  const rB = [0, 0, 0, 0.1];

  beforeAll(async () => {
    env = await backtestsTestEnv(['SPY']);
    app = await backtestsTestApp(env, false);
    runs = app.get(BacktestRunsRepository);
    await completedRun('pa', 'a1', curve([0, 1, 2], [100, 110, 99]));
    await completedRun('pb', 'b1', curve([1, 3], [50, 55]));
    await completedRun('pq', 'q1', curve([0], [1]), 'running');
    // A longer member for the bands (300 days of alternating ±1 % / ±0.5 % moves).
    const long = Array.from({ length: 300 }, (_, i) => 100 * Math.exp(0.001 * i + 0.01 * Math.sin(i * 1.7)));
    await completedRun(
      'pl',
      'l1',
      curve(
        Array.from({ length: 300 }, (_, i) => i),
        long,
      ),
    );
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  it('CRUD: 201 + Location, list, get, patch, put, 204, 404; viewer cannot write; 400 and 422 problem+json', async () => {
    const body = {
      name: 'ab',
      members: [
        { backtestId: 'pa', weight: 1 },
        { backtestId: 'pb', weight: 1 },
      ],
      rebalance: 'daily',
    };
    expect((await call('POST', '/portfolios', body, VIEWER_KEY)).statusCode).toBe(403);
    const created = await call('POST', '/portfolios', body);
    expect(created.statusCode).toBe(201);
    const p = PortfolioDtoSchema.parse(created.json());
    expect(created.headers.location).toBe(`/portfolios/${p.id}`);
    const list = await call('GET', '/portfolios?limit=1', undefined, VIEWER_KEY);
    expect(list.json().items.map((x: { id: string }) => x.id)).toEqual([p.id]);
    const patched = await call('PATCH', `/portfolios/${p.id}`, { name: 'renamed' });
    expect(patched.json()).toMatchObject({ name: 'renamed', rebalance: 'daily' });
    const put = await call('PUT', `/portfolios/${p.id}`, { ...body, rebalance: 'none' });
    expect(put.json()).toMatchObject({ name: 'ab', rebalance: 'none' });
    const twice = await call('PATCH', `/portfolios/${p.id}`, {
      members: [
        { backtestId: 'pa', weight: 1 },
        { backtestId: 'pb', weight: 2 },
        { backtestId: 'pa', weight: 3 },
      ],
    });
    expect(twice.json().members).toEqual([
      { backtestId: 'pa', weight: 4 },
      { backtestId: 'pb', weight: 2 },
    ]);
    const bad = await call('POST', '/portfolios', { name: 'x', members: [] });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const notDone = await call('POST', '/portfolios', { name: 'x', members: [{ backtestId: 'pq', weight: 1 }] });
    expect(notDone.statusCode).toBe(422);
    expect(notDone.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(notDone.json().members).toEqual([{ backtestId: 'pq', reason: 'status running' }]);
    const notAllowed = await call('DELETE', '/portfolios');
    expect(notAllowed.statusCode).toBe(405);
    expect(notAllowed.headers.allow).toMatch(/GET/);
    expect((await call('DELETE', `/portfolios/${p.id}`)).statusCode).toBe(204);
    expect((await call('GET', `/portfolios/${p.id}`, undefined, VIEWER_KEY)).statusCode).toBe(404);
    expect((await call('DELETE', `/portfolios/${p.id}`)).statusCode).toBe(404);
  });

  it('KPIs of the union-calendar weighted sum (daily rebalancing), recomputed after a member rerun', async () => {
    const body = {
      name: 'ab',
      members: [
        { backtestId: 'pa', weight: 1 },
        { backtestId: 'pb', weight: 3 },
      ],
      rebalance: 'daily',
    };
    const id = (await call('POST', '/portfolios', body)).json().id as string;
    const first = PortfolioDtoSchema.parse((await call('GET', `/portfolios/${id}`, undefined, VIEWER_KEY)).json());
    // Independently: the weighted sum of member day returns, 0 where a member has no bar.
    const r = rA.map((x, i) => 0.25 * x + 0.75 * rB[i]);
    const total = r.reduce((g, x) => g * (1 + x), 1) - 1;
    expect(first.performance!.days).toBe(4);
    expect(first.performance!.recomputed).toBe(true);
    expect(first.performance!.kpis.totalReturn).toBeCloseTo(total, 12);
    expect(first.performance!.kpis.periods).toBe(3);
    const again = (await call('GET', `/portfolios/${id}/performance`, undefined, VIEWER_KEY)).json();
    expect(again).toEqual({ ...first.performance, recomputed: false });

    // B is rerun: a new result attempt with other figures. The cached KPIs are stale and recomputed on read.
    await completedRun('pb', 'b2', curve([1, 3], [50, 40]));
    const after = PortfolioDtoSchema.parse((await call('GET', `/portfolios/${id}`, undefined, VIEWER_KEY)).json());
    const r2 = rA.map((x, i) => 0.25 * x + 0.75 * (i === 3 ? -0.2 : rB[i]));
    expect(after.performance!.recomputed).toBe(true);
    expect(after.performance!.memberAttempts).toEqual({ pa: 'a1', pb: 'b2' });
    expect(after.performance!.kpis.totalReturn).toBeCloseTo(r2.reduce((g, x) => g * (1 + x), 1) - 1, 12);
  });

  it('forecast: the bands of the combined returns, from the store when repeated, new after a rerun', async () => {
    const body = {
      name: 'long',
      members: [
        { backtestId: 'pl', weight: 1 },
        { backtestId: 'pa', weight: 1 },
      ],
    };
    const id = (await call('POST', '/portfolios', body)).json().id as string;
    const req = { horizon: 21, paths: 500, seed: 3 };
    const first = await call('POST', `/portfolios/${id}/forecast`, req, VIEWER_KEY);
    expect(first.statusCode).toBe(200);
    const dto = PortfolioForecastDtoSchema.parse(first.json());
    expect(dto.cached).toBe(false);
    expect(dto.bands.fan).toHaveLength(21);
    expect(dto.bands.details.historyReturns).toBe(299);
    expect(dto.bands.equity.p5).toBeLessThan(dto.bands.equity.p95);
    expect((await call('POST', `/portfolios/${id}/forecast`, req, VIEWER_KEY)).json()).toEqual({
      ...dto,
      cached: true,
    });
    await completedRun('pa', 'a2', curve([0, 1, 2], [100, 90, 95]));
    const rerun = PortfolioForecastDtoSchema.parse(
      (await call('POST', `/portfolios/${id}/forecast`, req, VIEWER_KEY)).json(),
    );
    expect(rerun.cached).toBe(false);
    expect(rerun.key).not.toBe(dto.key);
    expect((await call('POST', `/portfolios/${id}/forecast`, { horizon: 22 }, VIEWER_KEY)).statusCode).toBe(400);
    const large = await call('POST', `/portfolios/${id}/forecast`, { horizon: 252, paths: 10_000 }, VIEWER_KEY);
    expect(large.statusCode).toBe(422);
    expect(large.json().reason).toBe('invalid_option');
    const short = (await call('POST', '/portfolios', { name: 's', members: [{ backtestId: 'pb', weight: 1 }] })).json();
    const refused = await call('POST', `/portfolios/${short.id}/forecast`, req, VIEWER_KEY);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().reason).toBe('too_short');
  });
});
