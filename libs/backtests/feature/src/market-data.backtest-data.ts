import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  Adjustment,
  Timeframe,
  MARKET_DATA_READER,
  MarketDataNotFoundError,
  type BarsWindow,
  type MarketDataReader,
} from '@strata/marketdata-contracts';
import { QualityFilter } from '@strata/features-contracts';
import { SymbolBars } from '@strata/backtests-domain';
import {
  BAR_QUALITY_FLAGS,
  flaggedBarMask,
  UNRESOLVED_FLAG_STATUSES,
  type BarQualityFlagsStore,
} from '@strata/dataquality-contracts';
import type { BacktestMarketData } from './backtests.ports';

/**
 * {@link BacktestMarketData} over the market-data capability: the whole stored history of a series, adjusted for
 * splits (and dividends for `total`) exactly as `GET /market-data/bars?adjust=` serves it. Needs `MarketDataModule`;
 * `qualityFilter: 'exclude'` also needs the bar-quality flags store (`BAR_QUALITY_FLAGS`).
 */
@Injectable()
export class MarketDataBacktestData implements BacktestMarketData {
  constructor(
    @Inject(MARKET_DATA_READER) private readonly marketData: MarketDataReader,
    @Optional() @Inject(BAR_QUALITY_FLAGS) private readonly qualityFlags: BarQualityFlagsStore | null = null,
  ) {}

  async bars(req: {
    symbol: string;
    timeframe: Timeframe;
    adjust: Adjustment;
    qualityFilter?: QualityFilter;
  }): Promise<SymbolBars | null> {
    let window: BarsWindow;
    try {
      window = await this.marketData.getBars({ symbol: req.symbol, timeframe: req.timeframe, adjust: req.adjust });
    } catch (e) {
      // An unknown series is "no data" (the run fails as no_data), not a failure to retry.
      if (e instanceof MarketDataNotFoundError) return null;
      throw e;
    }
    const { bars } = window;
    if (bars.length === 0) return null;
    const n = bars.length;
    const series: SymbolBars = {
      symbol: req.symbol,
      ts: bars.ts.subarray(0, n),
      open: bars.open.subarray(0, n),
      high: bars.high.subarray(0, n),
      low: bars.low.subarray(0, n),
      close: bars.close.subarray(0, n),
      volume: bars.volume.subarray(0, n),
    };
    if (req.qualityFilter !== 'exclude') return series;
    if (!this.qualityFlags)
      throw new Error('qualityFilter "exclude" needs the bar-quality flags store of the data-quality sentinel');
    const flags = await this.qualityFlags.read({
      symbol: req.symbol,
      timeframe: req.timeframe,
      statuses: UNRESOLVED_FLAG_STATUSES,
    });
    return withoutBars(series, flaggedBarMask(series.ts, flags));
  }
}

/** The series without the bars where `drop` is 1 (the same object when nothing is dropped). */
function withoutBars(s: SymbolBars, drop: Uint8Array): SymbolBars {
  let kept = 0;
  for (let i = 0; i < drop.length; i++) kept += drop[i] ^ 1;
  if (kept === drop.length) return s;
  const pick = (col: Float64Array): Float64Array => {
    const out = new Float64Array(kept);
    for (let i = 0, k = 0; i < col.length; i++) if (drop[i] === 0) out[k++] = col[i];
    return out;
  };
  return {
    symbol: s.symbol,
    ts: pick(s.ts),
    open: pick(s.open),
    high: pick(s.high),
    low: pick(s.low),
    close: pick(s.close),
    volume: pick(s.volume),
  };
}
