import { realizedVolatility } from '@strata/shared-indicators';
import { BacktestRun, runBacktest, type BacktestRequest } from './backtest';
import { rebalanceMask } from './engine';
import { barsOf, definition, execution, fixedSignals, sampleBars, signalsAt, type BarRow } from './testing/fixtures';
import { instantiateTemplate, strategyTemplate } from './templates';

const ROWS: BarRow[] = [
  ['2024-01-01', 100, 101, 99, 100, 1e6],
  ['2024-01-02', 102, 104, 101, 103, 1e6],
  ['2024-01-03', 104, 106, 103, 105, 1e6],
  ['2024-01-04', 106, 107, 104, 106, 1e6],
  ['2024-01-05', 107, 108, 105, 107, 1e6],
];
const AAA = barsOf('AAA', ROWS);

function req(partial: Partial<BacktestRequest> & Pick<BacktestRequest, 'signalSource'>): BacktestRequest {
  return {
    definition: definition(),
    data: { timeframe: '1d', symbols: [AAA] },
    initialCapital: 100_000,
    execution: execution(),
    ...partial,
  };
}

describe('execution without look-ahead', () => {
  it('fills a decision at the close of t at the open of t+1, with commission and slippage worked by hand', () => {
    const o = runBacktest(
      req({
        signalSource: fixedSignals(signalsAt(5, { entryLong: [0], exitLong: [2] })),
        execution: execution({ commission: { bps: 5, fixed: 1 }, slippage: { model: 'fixed', bps: 10 } }),
      }),
    );
    // Decision at close of bar 0 (100): qty = floor(10 000 / 100) = 100. Fill at open of bar 1 (102) + 10 bps.
    const buyPx = 102 * 1.001; // 102.102
    const buyComm = 100 * buyPx * 0.0005 + 1; // 6.1051
    // Exit decided at close of bar 2, filled at open of bar 3 (106) − 10 bps.
    const sellPx = 106 * 0.999; // 105.894
    const sellComm = 100 * sellPx * 0.0005 + 1; // 6.2947
    expect(o.orders).toHaveLength(2);
    const [buy, sell] = o.orders;
    expect(buy).toMatchObject({
      reason: 'entry',
      decidedTs: AAA.ts[0],
      filledTs: AAA.ts[1],
      requestedQty: 100,
      filledQty: 100,
      unfilledQty: 0,
      unfilledReason: null,
    });
    expect(buy.fillPrice).toBeCloseTo(buyPx, 12);
    expect(buy.commission).toBeCloseTo(buyComm, 12);
    expect(buy.slippageCost).toBeCloseTo(100 * 0.102, 10);
    expect(sell).toMatchObject({
      reason: 'exit',
      decidedTs: AAA.ts[2],
      filledTs: AAA.ts[3],
      requestedQty: -100,
      filledQty: -100,
    });
    expect(sell.fillPrice).toBeCloseTo(sellPx, 12);
    // Equity: bar 0 untouched; bar 1 = cash + 100 × 103; bar 2 = cash + 100 × 105; bar 3, 4 flat.
    const cash1 = 100_000 - 100 * buyPx - buyComm;
    const eq = Array.from(o.curve.equity);
    expect(eq[0]).toBe(100_000);
    expect(eq[1]).toBeCloseTo(cash1 + 100 * 103, 9);
    expect(eq[2]).toBeCloseTo(cash1 + 100 * 105, 9);
    const final = cash1 + 100 * sellPx - sellComm;
    expect(eq[3]).toBeCloseTo(final, 9);
    expect(eq[4]).toBeCloseTo(final, 9);
    expect(Array.from(o.curve.positions)).toEqual([0, 1, 1, 0, 0]);
    // The trade: pnl = price difference − both commissions; return on entry notional.
    expect(o.trades).toHaveLength(1);
    const t = o.trades[0];
    expect(t).toMatchObject({
      direction: 'long',
      entryTs: AAA.ts[1],
      exitTs: AAA.ts[3],
      quantity: 100,
      bars: 2,
      exitReason: 'exit',
    });
    expect(t.pnl).toBeCloseTo((sellPx - buyPx) * 100 - buyComm - sellComm, 9);
    expect(t.return).toBeCloseTo(t.pnl / (100 * buyPx), 12);
    expect(o.finalEquity - 100_000).toBeCloseTo(t.pnl, 9);
    expect(o.costs.commission).toBeCloseTo(buyComm + sellComm, 12);
  });

  it('fills at the close of t+1 when configured', () => {
    const o = runBacktest(
      req({
        signalSource: fixedSignals(signalsAt(5, { entryLong: [0], exitLong: [2] })),
        execution: execution({ fillAt: 'close' }),
      }),
    );
    expect(o.orders.map((x) => [x.filledTs, x.fillPrice])).toEqual([
      [AAA.ts[1], 103],
      [AAA.ts[3], 106],
    ]);
    expect(o.finalEquity).toBeCloseTo(100_000 + 100 * (106 - 103), 9);
  });

  it('records a decision at the last bar as unfilled (end_of_data), never fills it', () => {
    const o = runBacktest(req({ signalSource: fixedSignals(signalsAt(5, { entryLong: [4] })) }));
    // floor(10 000 / 107) = 93
    expect(o.orders).toEqual([
      expect.objectContaining({
        reason: 'entry',
        filledQty: 0,
        requestedQty: 93,
        unfilledQty: 93,
        unfilledReason: 'end_of_data',
        filledTs: null,
      }),
    ]);
    expect(o.finalEquity).toBe(100_000);
  });

  it('only trades inside [from, to]; earlier bars are warm-up', () => {
    const o = runBacktest(
      req({ signalSource: fixedSignals(signalsAt(5, { entryLong: [0, 2] })), from: AAA.ts[2], to: AAA.ts[3] }),
    );
    expect(Array.from(o.curve.ts)).toEqual([AAA.ts[2], AAA.ts[3]]);
    expect(o.orders[0]).toMatchObject({ decidedTs: AAA.ts[2], filledTs: AAA.ts[3], fillPrice: 106 });
  });
});

describe('costs and capacity', () => {
  it('caps a fill at maxParticipation × bar volume and records the rest as unfilled', () => {
    const rows = ROWS.map((r, i) => (i === 1 ? ([r[0], r[1], r[2], r[3], r[4], 50] as BarRow) : r));
    const o = runBacktest(
      req({
        data: { timeframe: '1d', symbols: [barsOf('AAA', rows)] },
        signalSource: fixedSignals(signalsAt(5, { entryLong: [0] })),
        execution: execution({ maxParticipation: 0.5 }),
      }),
    );
    expect(o.orders[0]).toMatchObject({
      requestedQty: 100,
      filledQty: 25,
      unfilledQty: 75,
      unfilledReason: 'volume',
      fillPrice: 102,
    });
    // The remainder is cancelled, not carried: one position of 25 shares.
    expect(o.openPositions).toEqual([expect.objectContaining({ symbol: 'AAA', quantity: 25 })]);
  });

  it('slippage scaled by volatility and participation (square-root impact)', () => {
    // A longer series so that the 5-bar volatility exists at the decision bar.
    const rows: BarRow[] = [];
    const closes = [100, 101, 99, 102, 103, 101, 104, 105];
    closes.forEach((c, i) => rows.push([`2024-01-${String(i + 1).padStart(2, '0')}`, c, c + 1, c - 1, c, 400]));
    const bars = barsOf('AAA', rows);
    const o = runBacktest(
      req({
        data: { timeframe: '1d', symbols: [bars] },
        signalSource: fixedSignals(signalsAt(8, { entryLong: [6] })),
        execution: execution({ slippage: { model: 'volume_impact', bps: 2, impact: 0.5, volLookback: 5 } }),
      }),
    );
    // σ = sample std of the 5 log returns up to the decision bar 6 (per bar, not annualised).
    const lr = [2, 3, 4, 5, 6].map((i) => Math.log(closes[i] / closes[i - 1]));
    const m = lr.reduce((a, b) => a + b, 0) / 5;
    const sigma = Math.sqrt(lr.reduce((a, b) => a + (b - m) ** 2, 0) / 4);
    const qty = Math.floor(10_000 / 104); // 96
    const slip = 2e-4 + 0.5 * sigma * Math.sqrt(qty / 400);
    expect(o.orders[0].filledQty).toBe(qty);
    expect(o.orders[0].fillPrice).toBeCloseTo(105 * (1 + slip), 10);
    expect(o.orders[0].slippageCost).toBeCloseTo(qty * 105 * slip, 8);
  });

  it('accrues short borrow fees per calendar day on the short market value', () => {
    // Thu, Fri, Mon, Tue, Wed: the Monday step covers 3 calendar days.
    const rows: BarRow[] = [
      ['2024-01-04', 100, 101, 99, 100, 1e6],
      ['2024-01-05', 100, 101, 97, 98, 1e6],
      ['2024-01-08', 98, 99, 95, 96, 1e6],
      ['2024-01-09', 96, 97, 94, 95, 1e6],
      ['2024-01-10', 95, 96, 93, 94, 1e6],
    ];
    const bars = barsOf('AAA', rows);
    const o = runBacktest(
      req({
        definition: definition({
          direction: 'short',
          entry: { short: { cmp: 'gt', left: { bar: 'close' }, right: { const: 0 } } },
        }),
        data: { timeframe: '1d', symbols: [bars] },
        signalSource: fixedSignals(signalsAt(5, { entryShort: [0], exitShort: [3] })),
        execution: execution({ borrow: { annualBps: 3650 } }),
      }),
    );
    // 100 shares short from the open of Fri (100). Rate 36.5 %/yr = 0.1 %/day on the previous close's value:
    // Mon: 3 days × 100 × 98 × 0.001; Tue: 1 day × 100 × 96 × 0.001; Wed (cover at the open): 1 day × 100 × 95 × 0.001.
    const fees = 3 * 9.8 + 9.6 + 9.5;
    expect(o.costs.borrow).toBeCloseTo(fees, 10);
    expect(o.trades[0]).toMatchObject({ direction: 'short', entryPrice: 100, exitPrice: 95 });
    expect(o.trades[0].borrow).toBeCloseTo(fees, 10);
    expect(o.trades[0].pnl).toBeCloseTo(100 * (100 - 95) - fees, 9);
    expect(o.finalEquity).toBeCloseTo(100_000 + 500 - fees, 9);
  });

  it('caps exposure-adding fills at maxGrossLeverage × equity, commission included', () => {
    const o = runBacktest(
      req({
        definition: definition({ sizing: { kind: 'fixed_fraction', fraction: 1 } }),
        signalSource: fixedSignals(signalsAt(5, { entryLong: [0] })),
        execution: execution({ commission: { bps: 10, fixed: 0 } }),
      }),
    );
    // Target 1000 shares at the decision close (100); at the fill (102): 100 000 / (102 × 1.001) = 979.4… → 979.
    expect(o.orders[0]).toMatchObject({
      requestedQty: 1000,
      filledQty: 979,
      unfilledQty: 21,
      unfilledReason: 'leverage',
    });
    expect(o.curve.cash[1]).toBeCloseTo(100_000 - 979 * 102 * 1.001, 9);
    expect(o.curve.cash[1]).toBeGreaterThanOrEqual(0);
  });
});

describe('resting stops', () => {
  const run = (rows: BarRow[], risk: Record<string, number>) =>
    runBacktest(
      req({
        definition: definition({ risk }),
        data: { timeframe: '1d', symbols: [barsOf('AAA', rows)] },
        signalSource: fixedSignals(signalsAt(rows.length, { entryLong: [0] })),
      }),
    );

  it('stop-loss fills at its level inside the bar', () => {
    const o = run(
      [
        ['2024-01-01', 100, 100, 100, 100, 1e6],
        ['2024-01-02', 100, 101, 99, 100, 1e6],
        ['2024-01-03', 98, 99, 94, 96, 1e6],
        ['2024-01-04', 96, 97, 95, 96, 1e6],
      ],
      { stopLoss: 0.05 },
    );
    expect(o.orders[1]).toMatchObject({
      reason: 'stop_loss',
      filledTs: Date.UTC(2024, 0, 3),
      fillPrice: 95,
      decidedTs: Date.UTC(2024, 0, 2),
    });
    expect(o.trades[0].exitReason).toBe('stop_loss');
  });

  it('a gap through the stop fills at the open', () => {
    const o = run(
      [
        ['2024-01-01', 100, 100, 100, 100, 1e6],
        ['2024-01-02', 100, 101, 99, 100, 1e6],
        ['2024-01-03', 90, 92, 89, 91, 1e6],
      ],
      { stopLoss: 0.05 },
    );
    expect(o.orders[1]).toMatchObject({ reason: 'stop_loss', fillPrice: 90 });
  });

  it('take-profit fills at its level; the stop wins when a bar reaches both', () => {
    const tp = run(
      [
        ['2024-01-01', 100, 100, 100, 100, 1e6],
        ['2024-01-02', 100, 101, 99, 100, 1e6],
        ['2024-01-03', 105, 111, 104, 108, 1e6],
      ],
      { stopLoss: 0.05, takeProfit: 0.1 },
    );
    expect(tp.orders[1].reason).toBe('take_profit');
    expect(tp.orders[1].fillPrice).toBeCloseTo(110, 12);
    const both = run(
      [
        ['2024-01-01', 100, 100, 100, 100, 1e6],
        ['2024-01-02', 100, 101, 99, 100, 1e6],
        ['2024-01-03', 100, 111, 94, 108, 1e6],
      ],
      { stopLoss: 0.05, takeProfit: 0.1 },
    );
    expect(both.orders[1]).toMatchObject({ reason: 'stop_loss', fillPrice: 95 });
  });

  it('trailing stop follows the best high of the bars since entry', () => {
    const o = run(
      [
        ['2024-01-01', 100, 100, 100, 100, 1e6],
        ['2024-01-02', 100, 120, 99, 118, 1e6],
        ['2024-01-03', 115, 116, 107, 110, 1e6],
      ],
      { trailingStop: 0.1 },
    );
    // Best high through bar 1 = 120 → level 108, reached by bar 2's low 107.
    expect(o.orders[1]).toMatchObject({ reason: 'trailing_stop', fillPrice: 108 });
  });
});

describe('portfolio', () => {
  it('shares cash across symbols, respects maxPositions in universe order, and keeps each symbol on its own bars', () => {
    // BBB has no bar on 01-02: its order decided on 01-01 fills at its next bar (01-03).
    const BBB = barsOf('BBB', [
      ['2024-01-01', 50, 51, 49, 50, 1e6],
      ['2024-01-03', 52, 53, 51, 52, 1e6],
      ['2024-01-04', 53, 54, 52, 53, 1e6],
    ]);
    const data = { timeframe: '1d' as const, symbols: [AAA, BBB] };
    const two = runBacktest({
      definition: definition({ symbols: ['AAA', 'BBB'] }),
      data,
      initialCapital: 100_000,
      execution: execution(),
      signalSource: fixedSignals(signalsAt(5, { entryLong: [0] }), signalsAt(3, { entryLong: [0] })),
    });
    expect(Array.from(two.curve.ts)).toEqual(Array.from(AAA.ts));
    expect(two.orders.map((x) => [x.symbol, x.filledTs, x.fillPrice, x.filledQty])).toEqual([
      ['AAA', AAA.ts[1], 102, 100],
      ['BBB', BBB.ts[1], 52, 200],
    ]);
    // Shared cash: both purchases come out of one account.
    expect(two.curve.cash[2]).toBeCloseTo(100_000 - 100 * 102 - 200 * 52, 9);
    // On 01-02 BBB has no bar: it is marked at its last close (no position yet anyway) and equity counts AAA only.
    expect(two.curve.equity[1]).toBeCloseTo(100_000 - 10_200 + 100 * 103, 9);
    const one = runBacktest({
      definition: definition({ symbols: ['AAA', 'BBB'], maxPositions: 1 }),
      data,
      initialCapital: 100_000,
      execution: execution(),
      signalSource: fixedSignals(signalsAt(5, { entryLong: [0] }), signalsAt(3, { entryLong: [0] })),
    });
    expect(one.orders.map((x) => x.symbol)).toEqual(['AAA']);
  });

  it('reverses long → short in one order when the opposite entry fires', () => {
    const o = runBacktest(
      req({
        definition: definition({
          direction: 'both',
          entry: {
            long: { cmp: 'gt', left: { bar: 'close' }, right: { const: 0 } },
            short: { cmp: 'gt', left: { bar: 'close' }, right: { const: 0 } },
          },
        }),
        signalSource: fixedSignals(signalsAt(5, { entryLong: [0], entryShort: [2] })),
      }),
    );
    // Long 100 at 102; at close 105 the short entry wants −floor(10 000/105) = −95: one sell of 195 at 106.
    expect(o.orders.map((x) => [x.reason, x.requestedQty, x.filledQty, x.fillPrice])).toEqual([
      ['entry', 100, 100, 102],
      ['reverse', -195, -195, 106],
    ]);
    expect(o.trades).toEqual([expect.objectContaining({ direction: 'long', pnl: 400 })]);
    expect(o.openPositions).toEqual([expect.objectContaining({ quantity: -95, averagePrice: 106 })]);
  });

  it('volatility-target sizing: equity × min(maxWeight, target/σ) / maxPositions', () => {
    const spy = sampleBars('SPY');
    const def = instantiateTemplate(strategyTemplate('vol_target_trend')!);
    const o = runBacktest({
      definition: def,
      data: { timeframe: '1d', symbols: [spy] },
      initialCapital: 1_000_000,
      execution: execution(),
    });
    const first = o.orders.find((x) => x.reason === 'entry')!;
    const j = Array.from(spy.ts).indexOf(first.decidedTs);
    // Independent σ: sample std of the 20 log returns up to j, × √252.
    const lr = Array.from({ length: 20 }, (_, k) => Math.log(spy.close[j - k] / spy.close[j - k - 1]));
    const m = lr.reduce((a, b) => a + b, 0) / 20;
    const sigma = Math.sqrt(lr.reduce((a, b) => a + (b - m) ** 2, 0) / 19) * Math.sqrt(252);
    const i = Array.from(o.curve.ts).indexOf(first.decidedTs);
    const eq = o.curve.equity[i];
    expect(first.requestedQty).toBe(Math.floor((eq * Math.min(1, 0.12 / sigma)) / spy.close[j]));
    expect(realizedVolatility(spy.close, 20, 252)[j]).toBeCloseTo(sigma, 10);
  });
});

describe('rebalancing calendar', () => {
  it('marks the first instant of each ISO week and month (UTC)', () => {
    const ts = Float64Array.from(
      ['2024-01-29', '2024-01-31', '2024-02-01', '2024-02-02', '2024-02-05', '2024-02-06'].map((d) =>
        Date.parse(`${d}T00:00:00Z`),
      ),
    );
    expect(Array.from(rebalanceMask(ts, 'week'))).toEqual([1, 0, 0, 0, 1, 0]);
    expect(Array.from(rebalanceMask(ts, 'month'))).toEqual([1, 0, 1, 0, 0, 0]);
    // Across a year boundary and a leap day.
    const ts2 = Float64Array.from(
      ['2023-12-29', '2024-01-02', '2024-02-29', '2024-03-01'].map((d) => Date.parse(`${d}T00:00:00Z`)),
    );
    expect(Array.from(rebalanceMask(ts2, 'month'))).toEqual([1, 1, 1, 1]);
  });
});

describe('accounting and reproducibility on the bundled sample', () => {
  const symbols = ['SPY', 'QQQ', 'IBM', 'BAC'];
  const data = { timeframe: '1d' as const, symbols: symbols.map(sampleBars) };
  const def = instantiateTemplate(strategyTemplate('donchian_breakout')!, { symbols });
  const mk = (): BacktestRequest => ({
    definition: def,
    data,
    initialCapital: 1_000_000,
    execution: execution({
      commission: { bps: 2, fixed: 1 },
      slippage: { model: 'volume_impact', bps: 1, impact: 0.2, volLookback: 20 },
      borrow: { annualBps: 75 },
      maxParticipation: 0.0002,
    }),
  });

  it('final equity − initial = Σ closed-trade pnl + open positions (realised and unrealised)', () => {
    const o = runBacktest(mk());
    expect(o.trades.length).toBeGreaterThan(20);
    expect(o.trades.some((t) => t.direction === 'short')).toBe(true);
    expect(o.costs.borrow).toBeGreaterThan(0);
    const closed = o.trades.reduce((a, t) => a + t.pnl, 0);
    // Open trades: realised part is cash already; recompute from orders of the still-open symbols.
    let open = 0;
    for (const p of o.openPositions) {
      const lastFlat = Math.max(-1, ...o.trades.filter((t) => t.symbol === p.symbol).map((t) => t.exitTs));
      const fills = o.orders.filter((x) => x.symbol === p.symbol && x.filledTs !== null && x.filledTs > lastFlat);
      const cashFlow = fills.reduce((a, x) => a - x.filledQty * x.fillPrice! - x.commission, 0);
      open += cashFlow + p.marketValue;
    }
    // Borrow fees of open shorts are in the equity too but in no closed trade.
    const openBorrow = o.costs.borrow - o.trades.reduce((a, t) => a + t.borrow, 0);
    expect(o.finalEquity - 1_000_000).toBeCloseTo(closed + open - openBorrow, 4);
    expect(o.orders.some((x) => x.unfilledReason === 'volume')).toBe(true);
  });

  it('two runs are bit-identical', () => {
    const a = runBacktest(mk());
    const b = runBacktest(mk());
    expect(a.fingerprint).toBe(b.fingerprint);
    for (const k of ['equity', 'cash', 'gross', 'net', 'positions'] as const) {
      expect(Buffer.from(a.curve[k].buffer).equals(Buffer.from(b.curve[k].buffer))).toBe(true);
    }
    expect(JSON.stringify(a.orders)).toBe(JSON.stringify(b.orders));
    expect(JSON.stringify(a.trades)).toBe(JSON.stringify(b.trades));
    expect(JSON.stringify(a.kpis)).toBe(JSON.stringify(b.kpis));
    // Slicing the run (as a worker does between heartbeats) changes nothing, single- or multi-symbol.
    for (const req of [
      mk(),
      {
        ...mk(),
        definition: instantiateTemplate(strategyTemplate('rsi_mean_reversion')!),
        data: { timeframe: '1d' as const, symbols: [sampleBars('SPY')] },
      },
    ]) {
      const whole = runBacktest(req);
      const run = new BacktestRun(req);
      while (!run.advance(97));
      const sliced = run.outcome();
      expect(sliced.fingerprint).toBe(whole.fingerprint);
      expect(JSON.stringify(sliced.kpis)).toBe(JSON.stringify(whole.kpis));
    }
    // And a different input gives a different fingerprint.
    const c = runBacktest({ ...mk(), initialCapital: 1_000_001 });
    expect(c.fingerprint).not.toBe(a.fingerprint);
  });
});
