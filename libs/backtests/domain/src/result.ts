import {
  BACKTEST_RESULT_SCHEMA_VERSION,
  type BacktestResultV1,
  type BacktestTradeDto,
  type BacktestEquityPointDto,
  type BacktestOrderDto,
  type SignalModel,
  type OrderRecord,
  type TradeRecord,
} from '@strata/backtests-contracts';
import type { BacktestData } from './backtest-data';
import { ENGINE_VERSION, type BacktestOutcome } from './backtest';
import type { LookAheadReport } from './lookahead';

const iso = (ms: number): string => new Date(ms).toISOString();
/** JSON has no NaN / Infinity: non-finite numbers become null. */
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * The stored result document (schema version 1) of an outcome. Large series (equity, trades, orders) are not in it;
 * they are stored and paginated separately (see {@link equityPointAt}, {@link tradeDto}, {@link orderDto}).
 */
export function toResultV1(
  o: BacktestOutcome,
  meta: {
    data: BacktestData;
    adjust: string;
    benchmark: string | null;
    lookAhead: LookAheadReport | null;
    durationMs: number;
    /** Resolved models of the run's `{ signal }` references. */
    signalModels?: Readonly<Record<string, SignalModel>>;
  },
): BacktestResultV1 {
  const T = o.curve.ts.length;
  return {
    resultSchemaVersion: BACKTEST_RESULT_SCHEMA_VERSION,
    engineVersion: ENGINE_VERSION,
    fingerprint: o.fingerprint,
    initialCapital: o.initialCapital,
    finalEquity: o.finalEquity,
    from: iso(T ? o.curve.ts[0] : 0),
    to: iso(T ? o.curve.ts[T - 1] : 0),
    periods: o.kpis.periods,
    barsProcessed: o.barsProcessed,
    kpis: o.kpis,
    costs: o.costs,
    counts: {
      orders: o.orders.length,
      filledOrders: o.orders.filter((x) => x.filledQty !== 0).length,
      partiallyOrNotFilled: o.orders.filter((x) => x.unfilledQty !== 0).length,
      trades: o.trades.length,
    },
    openPositions: o.openPositions,
    data: meta.data.symbols.map((s) => ({
      symbol: s.symbol,
      bars: s.ts.length,
      from: s.ts.length ? iso(s.ts[0]) : null,
      to: s.ts.length ? iso(s.ts[s.ts.length - 1]) : null,
      adjust: meta.adjust,
    })),
    benchmark: meta.benchmark,
    lookAhead: meta.lookAhead
      ? {
          passed: meta.lookAhead.passed,
          decisionPointsChecked: meta.lookAhead.decisionPointsChecked,
          perturbationsPerPoint: meta.lookAhead.perturbationsPerPoint,
          changedDecisionPoints: meta.lookAhead.changedDecisionPoints,
          findings: meta.lookAhead.findings.map((f) => ({ ...f, decisionTs: iso(f.decisionTs), atTs: iso(f.atTs) })),
        }
      : null,
    durationMs: meta.durationMs,
    ...(meta.signalModels && Object.keys(meta.signalModels).length
      ? {
          signalModels: Object.fromEntries(
            Object.entries(meta.signalModels).map(([name, m]) => [
              name,
              { modelId: m.modelId, featureSet: m.featureSet },
            ]),
          ),
        }
      : {}),
  };
}

/** Equity point `i` of an outcome as served by the REST API (drawdown from the running peak up to i). */
export function equityPoints(o: BacktestOutcome): BacktestEquityPointDto[] {
  const c = o.curve;
  const out: BacktestEquityPointDto[] = new Array(c.ts.length);
  let peak = -Infinity;
  for (let i = 0; i < c.ts.length; i++) {
    const e = c.equity[i];
    if (e > peak) peak = e;
    out[i] = {
      seq: i,
      ts: iso(c.ts[i]),
      equity: e,
      cash: c.cash[i],
      grossExposure: c.gross[i],
      netExposure: c.net[i],
      drawdown: 1 - e / peak,
      positions: c.positions[i],
    };
  }
  return out;
}

/** A trade as served by the REST API. */
export function tradeDto(t: TradeRecord): BacktestTradeDto {
  return {
    seq: t.seq,
    symbol: t.symbol,
    direction: t.direction,
    entryTs: iso(t.entryTs),
    exitTs: iso(t.exitTs),
    quantity: t.quantity,
    entryPrice: t.entryPrice,
    exitPrice: t.exitPrice,
    pnl: t.pnl,
    return: num(t.return) ?? 0,
    bars: t.bars,
    exitReason: t.exitReason,
    commission: t.commission,
    borrow: t.borrow,
  };
}

/** An order (with its fill) as served by the REST API. */
export function orderDto(x: OrderRecord): BacktestOrderDto {
  return {
    seq: x.seq,
    symbol: x.symbol,
    decidedTs: iso(x.decidedTs),
    filledTs: x.filledTs === null ? null : iso(x.filledTs),
    reason: x.reason,
    requestedQty: x.requestedQty,
    filledQty: x.filledQty,
    fillPrice: x.fillPrice,
    commission: x.commission,
    slippageCost: x.slippageCost,
    unfilledQty: x.unfilledQty,
    unfilledReason: x.unfilledReason,
  };
}
