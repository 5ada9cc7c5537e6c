/**
 * Strategies and backtests through the all-in-one platform: the API in the gateway app, the worker in the `backtests`
 * service context (its own bus view and document-store handle on the shared DuckDB file), the bundled sample loaded
 * on first boot with its splits. A template runs end to end through REST.
 */
import { BacktestRunCompletedV1 } from '@strata/backtests-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

jest.setTimeout(180_000);

const KEYS = { operator: 'operator-key-0001', viewer: 'viewer-key-0001' };

describe('backtests on the platform (first boot with the bundled sample)', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  const completed: PayloadOf<typeof BacktestRunCompletedV1>[] = [];
  const call = (method: 'GET' | 'POST', url: string, payload?: unknown, key = KEYS.operator) =>
    platform.gateway.inject({
      method,
      url,
      headers: { 'x-api-key': key },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-bt-e2e-'));
    bus = new InProcessEventBus({ service: 'platform' });
    await bus.subscribe(BacktestRunCompletedV1, (e) => void completed.push(e), {
      consumer: 'e2e__backtests_completed',
    });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver(Object.entries(KEYS).map(([role, key]) => ({ role: role as 'operator', key }))),
      sampleDataDir: resolve(__dirname, '../../../data/sample'),
    });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the Donchian template on split-adjusted AAPL and SPY through REST', async () => {
    expect(Object.keys(platform.services)).toContain('backtests');
    const s = await call('POST', '/strategies/from-template', {
      template: 'donchian_breakout',
      symbols: ['AAPL', 'SPY'],
    });
    expect(s.statusCode).toBe(201);
    const r = await call('POST', '/backtests', {
      strategyId: s.json().id,
      execution: { commission: { bps: 2, fixed: 0 }, borrow: { annualBps: 100 } },
      lookAheadCheck: { samples: 6 },
    });
    expect(r.statusCode).toBe(202);
    const id = r.json().id as string;
    let dto = r.json();
    const end = Date.now() + 120_000;
    while (!['completed', 'failed'].includes(dto.status) && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 50));
      dto = (await call('GET', `/backtests/${id}`, undefined, KEYS.viewer)).json();
    }
    expect(dto).toMatchObject({ status: 'completed', result: { resultSchemaVersion: 1, lookAhead: { passed: true } } });
    // Bars as the strategy asked: total-adjusted (the sample's splits are recorded on first boot).
    expect(dto.result.data).toEqual([
      expect.objectContaining({ symbol: 'AAPL', adjust: 'total' }),
      expect.objectContaining({ symbol: 'SPY', adjust: 'total' }),
    ]);
    const eq = (await call('GET', `/backtests/${id}/equity?limit=5000`, undefined, KEYS.viewer)).json();
    expect(eq.items.length).toBe(5000);
    expect(eq.nextCursor).not.toBeNull();
    const trades = (await call('GET', `/backtests/${id}/trades?limit=1000`, undefined, KEYS.viewer)).json();
    expect(trades.items.length).toBe(dto.result.counts.trades);
    expect(trades.items.some((t: { direction: string }) => t.direction === 'short')).toBe(true);
    expect(completed.filter((e) => e.runId === id)).toHaveLength(1);
  });
});
