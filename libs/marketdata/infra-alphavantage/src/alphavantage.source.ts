import type {
  AlphaVantageBarsSource,
  AlphaVantageSource,
  RemoteBarsFetch,
  Timeframe,
} from '@strata/marketdata-contracts';
import type { AlphaVantageClient } from './alphavantage.client';
import { INTRADAY_INTERVALS, type AlphaVantageSeries } from './alphavantage.parser';

/**
 * The Alpha Vantage ingest source (implements {@link AlphaVantageBarsSource}): runs the requested function through
 * the rate-limited, retrying {@link AlphaVantageClient} and hands back the series decoded once into rows, plus its
 * splits and dividends. An intraday interval must match the command's timeframe (RangeError).
 */
export class AlphaVantageIngestSource implements AlphaVantageBarsSource {
  constructor(private readonly client: AlphaVantageClient) {}

  async fetch(
    symbol: string,
    timeframe: Timeframe,
    spec: AlphaVantageSource,
  ): Promise<RemoteBarsFetch & { issues: string[] }> {
    let series: AlphaVantageSeries;
    if (spec.function === 'daily_adjusted') {
      if (timeframe !== '1d') throw new RangeError(`function daily_adjusted gives 1d bars, not ${timeframe}`);
      series = await this.client.dailyAdjusted(symbol, { outputSize: spec.outputsize });
    } else {
      if (!spec.interval) throw new RangeError('function intraday needs an interval (1min, 5min, 15min or 60min)');
      if (INTRADAY_INTERVALS[spec.interval] !== timeframe)
        throw new RangeError(
          `interval ${spec.interval} gives ${INTRADAY_INTERVALS[spec.interval]} bars, not ${timeframe}`,
        );
      series = await this.client.intraday(symbol, { interval: spec.interval, outputSize: spec.outputsize });
    }
    return {
      rows: series.rows,
      corporateActions: series.corporateActions,
      issues: series.corporateActionIssues.map((i) => `${i.date} ${i.field} "${i.value}": ${i.message}`),
    };
  }
}
