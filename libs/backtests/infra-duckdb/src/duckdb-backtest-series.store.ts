import type {
  BacktestEquityPointDto,
  BacktestOrderDto,
  BacktestSeries,
  BacktestSeriesPage,
  BacktestSeriesStore,
  BacktestTradeDto,
} from '@strata/backtests-contracts';
import { appendColumns, type DuckDb } from '@strata/platform-duckdb';

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Backtest series in DuckDB, schema `backtests`: `equity`, `trades`, `orders`, each keyed by (run_id, attempt, seq).
 * Equity instants are TIMESTAMPs (UTC); trade and order times are DOUBLE epoch milliseconds UTC.
 * `attempt` is the claim token of the worker that computed them: a worker that lost its claim (crashed, then came
 * back) may still write, but only the attempt recorded on the completed run document is ever read, and
 * {@link prune} removes the others. A write replaces the attempt's rows atomically (one transaction: delete, then
 * columnar append of the equity curve and row appends of trades and orders), so a retried write never duplicates.
 */
export class DuckDbBacktestSeriesStore implements BacktestSeriesStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly db: DuckDb) {}

  /** Creates the schema and tables when missing (idempotent; called by every method). */
  init(): Promise<void> {
    this.ready ??= this.db
      .exclusive(async (s) => {
        await s.run('CREATE SCHEMA IF NOT EXISTS backtests');
        await s.run(`CREATE TABLE IF NOT EXISTS backtests.equity (
          run_id VARCHAR NOT NULL, attempt VARCHAR NOT NULL, seq DOUBLE NOT NULL, ts TIMESTAMP NOT NULL,
          equity DOUBLE NOT NULL, cash DOUBLE NOT NULL, gross DOUBLE NOT NULL, net DOUBLE NOT NULL, drawdown DOUBLE NOT NULL, positions DOUBLE NOT NULL)`);
        await s.run(`CREATE TABLE IF NOT EXISTS backtests.trades (
          run_id VARCHAR NOT NULL, attempt VARCHAR NOT NULL, seq INTEGER NOT NULL, symbol VARCHAR NOT NULL, direction VARCHAR NOT NULL,
          entry_ts DOUBLE NOT NULL, exit_ts DOUBLE NOT NULL, quantity DOUBLE NOT NULL, entry_price DOUBLE NOT NULL, exit_price DOUBLE NOT NULL,
          pnl DOUBLE NOT NULL, ret DOUBLE, bars INTEGER NOT NULL, exit_reason VARCHAR NOT NULL, commission DOUBLE NOT NULL, borrow DOUBLE NOT NULL)`);
        await s.run(`CREATE TABLE IF NOT EXISTS backtests.orders (
          run_id VARCHAR NOT NULL, attempt VARCHAR NOT NULL, seq INTEGER NOT NULL, symbol VARCHAR NOT NULL, decided_ts DOUBLE NOT NULL,
          filled_ts DOUBLE, reason VARCHAR NOT NULL, requested_qty DOUBLE NOT NULL, filled_qty DOUBLE NOT NULL, fill_price DOUBLE,
          commission DOUBLE NOT NULL, slippage_cost DOUBLE NOT NULL, unfilled_qty DOUBLE NOT NULL, unfilled_reason VARCHAR)`);
      })
      .catch((err) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  /** Replaces the rows of (runId, attempt) with `series`. Returns the rows written per table. */
  async write(
    runId: string,
    attempt: string,
    series: BacktestSeries,
  ): Promise<{ equity: number; trades: number; orders: number }> {
    await this.init();
    const c = series.curve;
    const n = c.ts.length;
    const seq = new Float64Array(n);
    const drawdown = new Float64Array(n);
    let peak = -Infinity;
    for (let i = 0; i < n; i++) {
      seq[i] = i;
      const e = c.equity[i];
      if (e > peak) peak = e;
      drawdown[i] = 1 - e / peak;
    }
    return this.db.transaction(async (s) => {
      for (const t of ['equity', 'trades', 'orders'])
        await s.run(`DELETE FROM backtests.${t} WHERE run_id = $r AND attempt = $a`, { r: runId, a: attempt });
      await appendColumns(
        s.connection,
        { table: 'equity', schema: 'backtests' },
        [
          { kind: 'constant', value: runId },
          { kind: 'constant', value: attempt },
          { kind: 'double', values: seq },
          { kind: 'timestamp', epochMs: c.ts },
          { kind: 'double', values: c.equity },
          { kind: 'double', values: c.cash },
          { kind: 'double', values: c.gross },
          { kind: 'double', values: c.net },
          { kind: 'double', values: drawdown },
          { kind: 'double', values: c.positions },
        ],
        n,
      );
      // Trades and orders are few (one per position change): row appends are fine.
      if (series.trades.length) {
        await s.appendRows(
          'trades',
          series.trades.map((t) => [
            runId,
            attempt,
            t.seq,
            t.symbol,
            t.direction,
            t.entryTs,
            t.exitTs,
            t.quantity,
            t.entryPrice,
            t.exitPrice,
            t.pnl,
            Number.isFinite(t.return) ? t.return : null,
            t.bars,
            t.exitReason,
            t.commission,
            t.borrow,
          ]),
          { schema: 'backtests' },
        );
      }
      if (series.orders.length) {
        await s.appendRows(
          'orders',
          series.orders.map((o) => [
            runId,
            attempt,
            o.seq,
            o.symbol,
            o.decidedTs,
            o.filledTs,
            o.reason,
            o.requestedQty,
            o.filledQty,
            o.fillPrice,
            o.commission,
            o.slippageCost,
            o.unfilledQty,
            o.unfilledReason,
          ]),
          { schema: 'backtests' },
        );
      }
      return { equity: n, trades: series.trades.length, orders: series.orders.length };
    });
  }

  /** One page of the equity curve. */
  async readEquity(p: BacktestSeriesPage): Promise<BacktestEquityPointDto[]> {
    await this.init();
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT seq, epoch_ms(ts)::DOUBLE AS ts, equity, cash, gross, net, drawdown, positions FROM backtests.equity
       WHERE run_id = $r AND attempt = $a AND seq > $after ORDER BY seq LIMIT $lim`,
      { r: p.runId, a: p.attempt, after: p.after ?? -1, lim: p.limit },
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      ts: iso(Number(r.ts)),
      equity: Number(r.equity),
      cash: Number(r.cash),
      grossExposure: Number(r.gross),
      netExposure: Number(r.net),
      drawdown: Number(r.drawdown),
      positions: Number(r.positions),
    }));
  }

  /** One page of the closed trades. */
  async readTrades(p: BacktestSeriesPage): Promise<BacktestTradeDto[]> {
    await this.init();
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT seq, symbol, direction, entry_ts, exit_ts, quantity, entry_price, exit_price, pnl, ret, bars, exit_reason, commission, borrow
       FROM backtests.trades WHERE run_id = $r AND attempt = $a AND seq > $after ORDER BY seq LIMIT $lim`,
      { r: p.runId, a: p.attempt, after: p.after ?? -1, lim: p.limit },
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      symbol: String(r.symbol),
      direction: r.direction as 'long' | 'short',
      entryTs: iso(Number(r.entry_ts)),
      exitTs: iso(Number(r.exit_ts)),
      quantity: Number(r.quantity),
      entryPrice: Number(r.entry_price),
      exitPrice: Number(r.exit_price),
      pnl: Number(r.pnl),
      return: r.ret === null ? 0 : Number(r.ret),
      bars: Number(r.bars),
      exitReason: String(r.exit_reason),
      commission: Number(r.commission),
      borrow: Number(r.borrow),
    }));
  }

  /** One page of the orders (each with its fill). */
  async readOrders(p: BacktestSeriesPage): Promise<BacktestOrderDto[]> {
    await this.init();
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT seq, symbol, decided_ts, filled_ts, reason, requested_qty, filled_qty, fill_price, commission, slippage_cost, unfilled_qty, unfilled_reason
       FROM backtests.orders WHERE run_id = $r AND attempt = $a AND seq > $after ORDER BY seq LIMIT $lim`,
      { r: p.runId, a: p.attempt, after: p.after ?? -1, lim: p.limit },
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      symbol: String(r.symbol),
      decidedTs: iso(Number(r.decided_ts)),
      filledTs: r.filled_ts === null ? null : iso(Number(r.filled_ts)),
      reason: String(r.reason),
      requestedQty: Number(r.requested_qty),
      filledQty: Number(r.filled_qty),
      fillPrice: r.fill_price === null ? null : Number(r.fill_price),
      commission: Number(r.commission),
      slippageCost: Number(r.slippage_cost),
      unfilledQty: Number(r.unfilled_qty),
      unfilledReason: r.unfilled_reason === null ? null : String(r.unfilled_reason),
    }));
  }

  /** Rows per table of one attempt (for tests and checks). */
  async count(runId: string, attempt?: string): Promise<{ equity: number; trades: number; orders: number }> {
    await this.init();
    const out = { equity: 0, trades: 0, orders: 0 };
    for (const t of ['equity', 'trades', 'orders'] as const) {
      const rows = await this.db.all<{ n: bigint }>(
        `SELECT count(*) AS n FROM backtests.${t} WHERE run_id = $r${attempt === undefined ? '' : ' AND attempt = $a'}`,
        attempt === undefined ? { r: runId } : { r: runId, a: attempt },
      );
      out[t] = Number(rows[0].n);
    }
    return out;
  }

  /** Deletes the rows of every attempt of `runId` except `keep` (all when `keep` is undefined). Returns rows deleted. */
  async prune(runId: string, keep?: string): Promise<number> {
    await this.init();
    return this.db.transaction(async (s) => {
      let n = 0;
      for (const t of ['equity', 'trades', 'orders']) {
        n +=
          keep === undefined
            ? await s.run(`DELETE FROM backtests.${t} WHERE run_id = $r`, { r: runId })
            : await s.run(`DELETE FROM backtests.${t} WHERE run_id = $r AND attempt <> $k`, { r: runId, k: keep });
      }
      return n;
    });
  }
}
