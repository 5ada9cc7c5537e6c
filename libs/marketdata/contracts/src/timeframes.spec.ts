import { TIMEFRAME_MS } from '@strata/shared-timeseries';
import { TimeframeSchema } from './marketdata.contracts';

describe('timeframes', () => {
  it('the bar lengths of @strata/shared-timeseries cover exactly the timeframes of the contracts', () => {
    expect(Object.keys(TIMEFRAME_MS).sort()).toEqual([...TimeframeSchema.options].sort());
  });

  it('each bar length matches its name', () => {
    expect(TIMEFRAME_MS).toEqual({
      '1m': 60_000,
      '5m': 5 * 60_000,
      '15m': 15 * 60_000,
      '1h': 3_600_000,
      '1d': 86_400_000,
    });
  });
});
