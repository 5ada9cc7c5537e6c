import { Injectable } from '@nestjs/common';
import type { Adjustment, Timeframe } from '@strata/contracts';
import type { SymbolBars } from '@strata/domain-backtest';
import { MarketDataService } from '@strata/feature-marketdata';
import type { BacktestMarketData } from './backtests.ports';

/**
 * {@link BacktestMarketData} over the market-data capability: the whole stored history of a series, adjusted for
 * splits (and dividends for `total`) exactly as `GET /market-data/bars?adjust=` serves it. Needs `MarketDataModule`.
 */
@Injectable()
export class MarketDataBacktestData implements BacktestMarketData {
  constructor(private readonly marketData: MarketDataService) {}

  async bars(req: { symbol: string; timeframe: Timeframe; adjust: Adjustment }): Promise<SymbolBars | null> {
    const { bars } = await this.marketData.getBars({ symbol: req.symbol, timeframe: req.timeframe, adjust: req.adjust });
    if (bars.length === 0) return null;
    const n = bars.length;
    return { symbol: req.symbol, ts: bars.ts.subarray(0, n), open: bars.open.subarray(0, n), high: bars.high.subarray(0, n), low: bars.low.subarray(0, n), close: bars.close.subarray(0, n), volume: bars.volume.subarray(0, n) };
  }
}
