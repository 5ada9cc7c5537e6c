import { type Adjustment, type Timeframe } from '@strata/marketdata-contracts';
import { type QualityFilter } from '@strata/features-contracts';
import { type SymbolBars } from '@strata/backtests-domain';

/** Port: the bars a backtest reads. Whole history in ascending time, adjusted as asked; null when there is none. */
export interface BacktestMarketData {
  /** `qualityFilter: 'exclude'` leaves out bars the data-quality sentinel flagged (unresolved flags). */
  bars(req: {
    symbol: string;
    timeframe: Timeframe;
    adjust: Adjustment;
    qualityFilter?: QualityFilter;
  }): Promise<SymbolBars | null>;
}

/** Injection token of {@link BacktestMarketData}. */
export const BACKTEST_MARKET_DATA = Symbol('BACKTEST_MARKET_DATA');
