import { Adjustment, Timeframe } from '@strata/marketdata-contracts';
import { BacktestEquityPointDto, BacktestOrderDto, BacktestTradeDto } from '@strata/backtests-contracts';
import { QualityFilter } from '@strata/features-contracts';
import { EquityCurve, OrderRecord, SignalModel, SymbolBars, TradeRecord } from '@strata/backtests-domain';

/** The large series of one backtest attempt. */
export interface BacktestSeries {
  curve: EquityCurve;
  trades: readonly TradeRecord[];
  orders: readonly OrderRecord[];
}

/** A page of a run attempt's series: rows with `seq > after`, ascending. */
export interface BacktestSeriesPage {
  runId: string;
  attempt: string;
  after?: number | null;
  limit: number;
}

/**
 * Port: storage of the large series of backtest runs (equity curve, trades, orders), keyed by (run, attempt, seq).
 * Guarantees: `write` replaces an attempt's rows atomically (a retried write never duplicates); reads are ascending
 * by `seq`; `prune(runId, keep)` removes every other attempt of the run. The DuckDB adapter is
 * `DuckDbBacktestSeriesStore` (`@strata/infra-duckdb`).
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

/** Port: the bars a backtest reads. Whole history in ascending time, adjusted as asked; null when there is none. */
export interface BacktestMarketData {
  /** `qualityFilter: 'exclude'` leaves out bars the data-quality sentinel flagged (unresolved flags). */
  bars(req: { symbol: string; timeframe: Timeframe; adjust: Adjustment; qualityFilter?: QualityFilter }): Promise<SymbolBars | null>;
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

/** Injection token of {@link BacktestMarketData}. */
export const BACKTEST_MARKET_DATA = Symbol('BACKTEST_MARKET_DATA');
