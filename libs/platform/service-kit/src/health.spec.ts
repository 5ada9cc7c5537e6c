import { type DocumentStore, type StoreHealth } from '@strata/platform-contracts';
import { HealthController, storeHealthIndicator, type HealthIndicator } from './health';

const reply = () => {
  const r = {
    code: 0,
    status(c: number) {
      r.code = c;
      return r;
    },
  };
  return r;
};

describe('HealthController', () => {
  it('is ready (200) when every dependency is up, and names each one', async () => {
    const c = new HealthController(
      [{ name: 'bus', check: () => ({ status: 'up', adapter: 'in-process' }) }],
      'gateway',
    );
    const r = reply();
    const body = await c.health(r as never);
    expect(r.code).toBe(200);
    expect(body).toMatchObject({
      status: 'up',
      service: 'gateway',
      liveness: { status: 'up' },
      readiness: { status: 'up', dependencies: { bus: { status: 'up', adapter: 'in-process' } } },
    });
  });

  it('is alive but not ready (503) when a dependency is down, throws, or does not answer', async () => {
    const slow: HealthIndicator = { name: 'store', check: () => new Promise(() => undefined) };
    const c = new HealthController(
      [
        { name: 'bus', check: () => ({ status: 'down', adapter: 'jetstream', detail: 'disconnected' }) },
        {
          name: 'cache',
          check: () => {
            throw new Error('boom');
          },
        },
        slow,
      ],
      'gateway',
    );
    const r = reply();
    const body = await c.health(r as never);
    expect(r.code).toBe(503);
    expect(body.liveness.status).toBe('up');
    expect(body.readiness.dependencies).toEqual({
      bus: { status: 'down', adapter: 'jetstream', detail: 'disconnected' },
      cache: { status: 'down', detail: 'boom' },
      store: { status: 'down', detail: 'no answer within 2000 ms' },
    });
    expect(c.live()).toEqual({ status: 'up' });
  }, 10_000);

  it('names the document store: embedded duckdb or mongodb, and why it is down', async () => {
    const store = (h: StoreHealth) => ({ health: async () => h }) as unknown as DocumentStore;
    expect(
      await storeHealthIndicator(store({ adapter: 'duckdb', status: 'up', detail: '/srv/data/strata.duckdb' })).check(),
    ).toEqual({ status: 'up', adapter: 'duckdb', detail: 'embedded' });
    expect(await storeHealthIndicator(store({ adapter: 'mongo', status: 'up', detail: 'strata' })).check()).toEqual({
      status: 'up',
      adapter: 'mongodb',
      detail: 'database strata',
    });
    const down = storeHealthIndicator(store({ adapter: 'mongo', status: 'down', detail: 'connection refused' }));
    expect(down.name).toBe('store');
    const c = new HealthController(
      [{ name: 'bus', check: () => ({ status: 'up', adapter: 'jetstream' }) }, down],
      'gateway',
    );
    const r = reply();
    const body = await c.health(r as never);
    expect(r.code).toBe(503);
    expect(body.readiness.dependencies.store).toEqual({
      status: 'down',
      adapter: 'mongodb',
      detail: 'connection refused',
    });
  });

  it('answers readiness from one round of checks for at most the cache age, then checks again', async () => {
    let calls = 0;
    let state: 'up' | 'down' = 'up';
    const bus: HealthIndicator = {
      name: 'bus',
      check: async () => {
        calls++;
        await new Promise((res) => setTimeout(res, 20));
        return { status: state, adapter: 'jetstream' };
      },
    };
    const c = new HealthController([bus], 'gateway', 200);
    const t0 = Date.now();
    const first = await Promise.all(Array.from({ length: 50 }, () => c.report()));
    expect(calls).toBe(1);
    expect(first.every((r) => r.readiness.status === 'up')).toBe(true);
    expect(Date.parse(first[0].readiness.checkedAt)).toBeGreaterThanOrEqual(t0 - 1);
    state = 'down';
    // Within the cache age: the same round answers (no new check), /health/ready included.
    const r = reply();
    expect((await c.ready(r as never)).status).toBe('up');
    expect(r.code).toBe(200);
    expect(calls).toBe(1);
    await new Promise((res) => setTimeout(res, 220));
    const r2 = reply();
    const body = await c.health(r2 as never);
    expect(calls).toBe(2);
    expect(r2.code).toBe(503);
    expect(body.readiness.dependencies.bus.status).toBe('down');
    expect(Date.now() - Date.parse(body.readiness.checkedAt)).toBeLessThan(200);
  });

  it('checks on every call with a cache age of 0', async () => {
    let calls = 0;
    const c = new HealthController([{ name: 'bus', check: () => (calls++, { status: 'up' }) }], 'gateway', 0);
    await c.report();
    await c.report();
    expect(calls).toBe(2);
  });
});
