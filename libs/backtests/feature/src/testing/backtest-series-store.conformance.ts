/**
 * THE conformance suite of the `BacktestSeriesStore` port: every configuration of it runs exactly these tests (the
 * artifact + document adapter on a local directory and embedded documents, and on the Object Store and MongoDB).
 * Expected rows come from the engine's own outcome through the domain's DTO functions, independently of any store.
 */
import { ExecutionSettingsSchema, type BacktestSeriesStore } from '@strata/backtests-contracts';
import { equityPoints, orderDto, runBacktest, STRATEGY_TEMPLATES, tradeDto } from '@strata/backtests-domain';
import { randomWalkBars } from '@strata/shared-indicators';

/** What an adapter's spec provides to the suite. */
export interface BacktestSeriesStoreHarness {
  /** A store on empty, private storage. Called once per suite run. */
  open(): Promise<BacktestSeriesStore>;
  /** Removes the storage. */
  dispose(store: BacktestSeriesStore): Promise<void>;
}

/** Registers the conformance tests for one configuration. */
export function backtestSeriesStoreConformance(harness: BacktestSeriesStoreHarness): void {
  let store: BacktestSeriesStore;
  jest.setTimeout(60_000);
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
  const all = (runId: string, attempt: string) => ({
    equity: store.readEquity({ runId, attempt, limit: 100_000 }),
    trades: store.readTrades({ runId, attempt, limit: 100_000 }),
    orders: store.readOrders({ runId, attempt, limit: 100_000 }),
  });

  beforeAll(async () => {
    store = await harness.open();
  });
  afterAll(async () => {
    if (store) await harness.dispose(store);
  });

  it('writes and pages back exactly what the engine produced', async () => {
    expect(outcome.trades.length).toBeGreaterThan(10);
    expect(outcome.orders.some((o) => o.unfilledReason !== null)).toBe(true);
    expect(await store.write('run1', 'a1', outcome)).toMatchObject({
      equity: n,
      trades: outcome.trades.length,
      orders: outcome.orders.length,
    });
    const page1 = await store.readEquity({ runId: 'run1', attempt: 'a1', limit: 1000 });
    const page2 = await store.readEquity({ runId: 'run1', attempt: 'a1', after: page1.at(-1)!.seq, limit: 5000 });
    expect(page1).toHaveLength(1000);
    expect([...page1, ...page2]).toEqual(equityPoints(outcome));
    expect(await all('run1', 'a1').trades).toEqual(outcome.trades.map(tradeDto));
    expect(await all('run1', 'a1').orders).toEqual(outcome.orders.map(orderDto));
    const t = await store.readTrades({ runId: 'run1', attempt: 'a1', after: outcome.trades[4].seq, limit: 3 });
    expect(t).toEqual(outcome.trades.slice(5, 8).map(tradeDto));
    const o = await store.readOrders({ runId: 'run1', attempt: 'a1', after: outcome.orders[9].seq, limit: 2 });
    expect(o).toEqual(outcome.orders.slice(10, 12).map(orderDto));
    expect(await store.readEquity({ runId: 'run1', attempt: 'a1', after: n - 1, limit: 10 })).toEqual([]);
  });

  it('answers empty pages for a run or attempt it does not have', async () => {
    expect(await store.readEquity({ runId: 'nope', attempt: 'a1', limit: 10 })).toEqual([]);
    expect(await store.readTrades({ runId: 'run1', attempt: 'other', limit: 10 })).toEqual([]);
    expect(await store.readOrders({ runId: 'nope', attempt: 'x', limit: 10 })).toEqual([]);
  });

  it('a rewrite of the same attempt replaces its rows; prune keeps only the winning attempt', async () => {
    await store.write('run2', 'a1', outcome);
    await store.write('run2', 'a1', outcome);
    const c = outcome.curve;
    const head = (a: Float64Array) => a.slice(0, 10);
    const curve = {
      ts: head(c.ts),
      equity: head(c.equity),
      cash: head(c.cash),
      gross: head(c.gross),
      net: head(c.net),
      positions: head(c.positions),
    };
    const short = { curve, trades: outcome.trades, orders: outcome.orders };
    await store.write('run2', 'zombie', short);
    expect((await all('run2', 'a1').equity).length).toBe(n);
    expect((await all('run2', 'zombie').equity).length).toBe(10);
    const removed = await store.prune('run2', 'a1');
    expect(removed).toBe(10 + outcome.trades.length + outcome.orders.length);
    expect(await all('run2', 'zombie').equity).toEqual([]);
    expect(await all('run2', 'zombie').trades).toEqual([]);
    expect(await all('run2', 'a1').equity).toEqual(equityPoints(outcome));
    expect(await all('run2', 'a1').orders).toEqual(outcome.orders.map(orderDto));
    await store.prune('run2');
    expect(await all('run2', 'a1').equity).toEqual([]);
    // Other runs are untouched.
    expect((await all('run1', 'a1').equity).length).toBe(n);
  });
}
