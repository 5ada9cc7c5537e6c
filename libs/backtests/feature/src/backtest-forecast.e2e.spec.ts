import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ForecastDtoSchema, ForecastJobDtoSchema, type BacktestRunDto } from '@strata/backtests-contracts';
import { STRATEGY_TEMPLATES } from '@strata/backtests-domain';
import {
  backtestsTestApp,
  backtestsTestEnv,
  OPERATOR_KEY,
  VIEWER_KEY,
  type BacktestsTestEnv,
} from './testing/backtests-test-app';

jest.setTimeout(180_000);

describe('POST /backtests/{id}/forecast (Fastify inject, in-process bus, embedded DuckDB)', () => {
  let env: BacktestsTestEnv;
  let app: NestFastifyApplication;
  let id = '';

  const call = (method: string, url: string, payload?: unknown, key = OPERATOR_KEY) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload === undefined ? {} : { payload }),
    } as never);

  beforeAll(async () => {
    env = await backtestsTestEnv(['SPY']);
    app = await backtestsTestApp(env, { sliceSteps: 2000 });
    const r = await call('POST', '/backtests', {
      definition: STRATEGY_TEMPLATES[0].definition,
      lookAheadCheck: { enabled: false },
    });
    expect(r.statusCode).toBe(202);
    id = r.json().id;
    const deadline = Date.now() + 150_000;
    for (;;) {
      const dto = (await call('GET', `/backtests/${id}`, undefined, VIEWER_KEY)).json() as BacktestRunDto;
      if (dto.status === 'completed') break;
      if (dto.status === 'failed' || Date.now() > deadline) throw new Error(`backtest ${id} ${dto.status}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  it('answers the bands, then the same bands from the store for an identical request', async () => {
    const body = { method: 'fhs', horizon: 21, paths: 500, seed: 3 };
    const first = await call('POST', `/backtests/${id}/forecast`, body, VIEWER_KEY);
    expect(first.statusCode).toBe(200);
    const dto = ForecastDtoSchema.parse(first.json());
    expect(dto.cached).toBe(false);
    expect(dto.bands.fan).toHaveLength(21);
    expect(dto.bands.equity.p5).toBeLessThan(dto.bands.equity.p95);
    expect(dto.bands.warnings.join()).toMatch(/Sharpe/);
    expect(dto.bands.mean.treatment).toBe('shrunk');
    const second = await call('POST', `/backtests/${id}/forecast`, body, VIEWER_KEY);
    expect(second.json()).toEqual({ ...dto, cached: true });
    const other = await call('POST', `/backtests/${id}/forecast`, { ...body, seed: 4 }, VIEWER_KEY);
    expect(other.json().cached).toBe(false);
    expect(other.json().key).not.toBe(dto.key);
  });

  it('runs a large request as a job with progress, then answers it from the store', async () => {
    const body = { method: 'bootstrap', horizon: 252, paths: 2000, seed: 5 };
    const queued = await call('POST', `/backtests/${id}/forecast`, body, VIEWER_KEY);
    expect(queued.statusCode).toBe(202);
    const job = ForecastJobDtoSchema.parse(queued.json());
    expect(queued.headers.location).toBe(`/backtests/${id}/forecast/jobs/${job.id}`);
    const deadline = Date.now() + 120_000;
    let done = job;
    while (done.status !== 'completed' && done.status !== 'failed' && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 100));
      done = ForecastJobDtoSchema.parse(
        (await call('GET', queued.headers.location as string, undefined, VIEWER_KEY)).json(),
      );
    }
    expect(done).toMatchObject({ status: 'completed', progress: 1, error: null });
    expect(done.result!.bands.fan).toHaveLength(252);
    const again = await call('POST', `/backtests/${id}/forecast`, body, VIEWER_KEY);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...done.result, cached: true });
    expect((await call('GET', `/backtests/${id}/forecast/jobs/nope`, undefined, VIEWER_KEY)).statusCode).toBe(404);
  });

  it('400 on a bad body, 404 on an unknown backtest (problem+json)', async () => {
    const bad = await call('POST', `/backtests/${id}/forecast`, { horizon: 22 }, VIEWER_KEY);
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    const missing = await call('POST', '/backtests/nope/forecast', {}, VIEWER_KEY);
    expect(missing.statusCode).toBe(404);
  });
});
