import { ExecutionSettingsSchema } from '@strata/backtests-contracts';
import { equityPoints, orderDto, runBacktest, STRATEGY_TEMPLATES, tradeDto } from '@strata/backtests-domain';
import { randomWalkBars } from '@strata/shared-indicators';
import { DuckDbBacktestSeriesStore } from './duckdb-backtest-series.store';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';

describe('DuckDbBacktestSeriesStore', () => {
  let db: DuckDb;
  let store: DuckDbBacktestSeriesStore;
  const n = 3000;
  const bars = {
    symbol: 'SPY',
    ts: Float64Array.from({ length: n }, (_, i) => Date.UTC(2000, 0, 3) + i * 86_400_000),
    ...randomWalkBars(n, 3),
  };
  const outcome = runBacktest({
    definition: STRATEGY_TEMPLATES[0].definition,
    data: { timeframe: '1d', symbols: [bars] },
    initialCapital: 100_000,
    execution: ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 1 }, maxParticipation: 0.0005 }),
  });

  beforeAll(async () => {
    db = await DuckDb.create(DUCKDB_MEMORY);
    store = new DuckDbBacktestSeriesStore(db);
  });
  afterAll(() => db.close());

  it('writes and pages back exactly what the engine produced', async () => {
    expect(outcome.trades.length).toBeGreaterThan(10);
    expect(outcome.orders.some((o) => o.unfilledReason !== null)).toBe(true);
    await store.write('run1', 'a1', outcome);
    const all = equityPoints(outcome);
    const page1 = await store.readEquity({ runId: 'run1', attempt: 'a1', limit: 1000 });
    const page2 = await store.readEquity({ runId: 'run1', attempt: 'a1', after: page1.at(-1)!.seq, limit: 5000 });
    expect([...page1, ...page2]).toEqual(all);
    expect(await store.readTrades({ runId: 'run1', attempt: 'a1', limit: 10_000 })).toEqual(
      outcome.trades.map(tradeDto),
    );
    expect(await store.readOrders({ runId: 'run1', attempt: 'a1', limit: 10_000 })).toEqual(
      outcome.orders.map(orderDto),
    );
  });

  it('a rewrite of the same attempt replaces its rows; prune keeps only the winning attempt', async () => {
    await store.write('run2', 'a1', outcome);
    await store.write('run2', 'a1', outcome);
    await store.write('run2', 'zombie', outcome);
    expect(await store.count('run2', 'a1')).toEqual({
      equity: n,
      trades: outcome.trades.length,
      orders: outcome.orders.length,
    });
    await store.prune('run2', 'a1');
    expect(await store.count('run2')).toEqual({
      equity: n,
      trades: outcome.trades.length,
      orders: outcome.orders.length,
    });
    expect(await store.count('run2', 'zombie')).toEqual({ equity: 0, trades: 0, orders: 0 });
    expect(await store.readEquity({ runId: 'run2', attempt: 'zombie', limit: 10 })).toEqual([]);
  });
});
