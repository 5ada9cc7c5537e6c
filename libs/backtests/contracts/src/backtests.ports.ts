import type { BacktestEquityPointDto, BacktestOrderDto, BacktestTradeDto } from './backtest.contracts';

/** Why an order was sent. */
export type OrderReason = 'entry' | 'exit' | 'reverse' | 'resize' | 'stop_loss' | 'take_profit' | 'trailing_stop';
/** Why (part of) an order did not fill. */
export type UnfilledReason = 'volume' | 'leverage' | 'end_of_data';

/**
 * An order and its fill. Orders live one bar: a decision at the close of bar t fills at the symbol's next bar (open or
 * close) as far as volume and leverage allow; the remainder is recorded here and cancelled. Money in account currency;
 * quantities signed (> 0 buy).
 */
export interface OrderRecord {
  seq: number;
  symbol: string;
  /** Close of the decision bar (epoch ms UTC); for resting stops, the bar before the one that triggered them. */
  decidedTs: number;
  /** Bar of the fill (epoch ms UTC), null when nothing filled. */
  filledTs: number | null;
  reason: OrderReason;
  requestedQty: number;
  filledQty: number;
  /** Average fill price including slippage, null when nothing filled. */
  fillPrice: number | null;
  commission: number;
  /** |filledQty| × |fillPrice − reference price|. */
  slippageCost: number;
  unfilledQty: number;
  unfilledReason: UnfilledReason | null;
}

/** A closed round trip of one symbol, from flat to flat. */
export interface TradeRecord {
  seq: number;
  symbol: string;
  direction: 'long' | 'short';
  /** First and last fill (epoch ms UTC). */
  entryTs: number;
  exitTs: number;
  /** Largest absolute quantity held. */
  quantity: number;
  /** Quantity-weighted average price of the entries and of the exits. */
  entryPrice: number;
  exitPrice: number;
  /** Realised profit net of commissions and borrow fees (slippage is in the prices). */
  pnl: number;
  /** pnl / notional of the entries. */
  return: number;
  /** Bars of the symbol during which the position was open (the entry bar included). */
  bars: number;
  exitReason: OrderReason;
  commission: number;
  borrow: number;
}

/** Equity curve: one point per timeline instant (bar close), columns of equal length. Money in account currency. */
export interface EquityCurve {
  readonly ts: Float64Array;
  readonly equity: Float64Array;
  readonly cash: Float64Array;
  /** Σ |quantity × last close| and Σ quantity × last close. */
  readonly gross: Float64Array;
  readonly net: Float64Array;
  /** Open positions at the close. */
  readonly positions: Float64Array;
}

/** The large series of one backtest attempt: equity curve (one row per instant), trades and orders. */
export interface BacktestSeries {
  curve: EquityCurve;
  trades: readonly TradeRecord[];
  orders: readonly OrderRecord[];
}

/** A page of a run attempt's series: rows with `seq > after`, ascending, at most `limit`. */
export interface BacktestSeriesPage {
  runId: string;
  /** The attempt (claim token) whose rows are authoritative. */
  attempt: string;
  after?: number | null;
  limit: number;
}

/**
 * Port: storage of the large series of backtest runs (equity curve, trades, orders), keyed by (run, attempt, seq).
 * Guarantees: `write` replaces an attempt's rows atomically (a retried write never duplicates); reads are ascending
 * by `seq`; `prune(runId, keep)` removes every other attempt of the run. The adapter is `ArtifactBacktestSeriesStore`
 * (`@strata/backtests-feature`: a blob per attempt in the artifact store, an index document in the document store),
 * shared by every replica; its conformance suite is `backtestSeriesStoreConformance` (`@strata/backtests-feature/testing`).
 */
export interface BacktestSeriesStore {
  write(runId: string, attempt: string, series: BacktestSeries): Promise<unknown>;
  readEquity(p: BacktestSeriesPage): Promise<BacktestEquityPointDto[]>;
  readTrades(p: BacktestSeriesPage): Promise<BacktestTradeDto[]>;
  readOrders(p: BacktestSeriesPage): Promise<BacktestOrderDto[]>;
  prune(runId: string, keep?: string): Promise<number>;
}

/** Injection token of {@link BacktestSeriesStore}. */
export const BACKTEST_SERIES_STORE = Symbol('BACKTEST_SERIES_STORE');

/**
 * A model behind a `{ signal: name }` reference, as the backtest engine scores it. The engine computes the model's
 * input features itself from the strategy's own bars (the same kernels as the feature store) and hands them to
 * `score`, so the series is point-in-time by construction: the score at bar t reads features at t, which read bars
 * ≤ t. The look-ahead check re-runs that whole path on perturbed futures. The signals capability builds these from
 * its registry (tree ensembles, `treeSignalModel` of `@strata/signals-domain`).
 */
export interface SignalModel {
  /** Registry id of the model version the name resolved to (recorded in the backtest result). */
  modelId: string;
  /** Feature set of the model's inputs; the engine computes `core` only. */
  featureSet: string;
  /** The input features `score` reads, in its column order. */
  featureNames: readonly string[];
  /**
   * Scores of `n` bars from one column per input feature (in `featureNames` order, each of length `n`): the
   * probability of the positive class (binary) or the prediction (regression); NaN where any input is NaN.
   */
  score(columns: readonly Float64Array[], n: number): Float64Array;
}

/**
 * Port: the models behind `{ signal: alias }` references (the signals service's model registry). `resolve` returns
 * the model version holding the alias now, or null when none does (the run then fails as `invalid_strategy`).
 */
export interface BacktestSignalModels {
  resolve(alias: string): Promise<SignalModel | null>;
}

/** Injection token of {@link BacktestSignalModels} (optional: without it, a strategy using signals fails clearly). */
export const BACKTEST_SIGNAL_MODELS = Symbol('BACKTEST_SIGNAL_MODELS');
