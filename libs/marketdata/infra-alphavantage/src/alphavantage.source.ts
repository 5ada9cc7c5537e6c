import { AlphaVantageSource, CorporateAction as PlatformCorporateAction, Timeframe } from '@strata/marketdata-contracts';
import type { AlphaVantageClient } from './alphavantage.client';
import { INTRADAY_INTERVALS, type AlphaVantageSeries, type CorporateAction } from './alphavantage.parser';

/** Smallest n/d (d ≤ 1000) equal to `x` within 1e-9 relative; for split ratios such as 0.1 (1-for-10) or 1.5 (3-for-2). */
export function splitRatioToShares(x: number): { newShares: number; oldShares: number } {
  for (let d = 1; d <= 1000; d++) {
    const n = Math.round(x * d);
    if (n > 0 && Math.abs(n / d - x) <= 1e-9 * x) return { newShares: n, oldShares: d };
  }
  return { newShares: x, oldShares: 1 };
}

/** Alpha Vantage's corporate actions in the platform's shape (`POST /market-data/corporate-actions`). */
export function toPlatformCorporateActions(symbol: string, actions: readonly CorporateAction[]): PlatformCorporateAction[] {
  return actions.map((a) =>
    a.kind === 'split' ? { kind: 'split', symbol, exDate: a.date, ...splitRatioToShares(a.ratio) } : { kind: 'dividend', symbol, exDate: a.date, amount: a.amount },
  );
}

/**
 * The Alpha Vantage ingest source (implements `AlphaVantageBarsSource` of `@strata/marketdata-feature`): runs the
 * requested function through the rate-limited, retrying {@link AlphaVantageClient} and hands back the series as
 * ingest CSV plus its splits and dividends. An intraday interval must match the command's timeframe (RangeError).
 */
export class AlphaVantageIngestSource {
  constructor(private readonly client: AlphaVantageClient) {}

  async fetch(symbol: string, timeframe: Timeframe, spec: AlphaVantageSource): Promise<{ csv: string; corporateActions: PlatformCorporateAction[]; issues: string[] }> {
    let series: AlphaVantageSeries;
    if (spec.function === 'daily_adjusted') {
      if (timeframe !== '1d') throw new RangeError(`function daily_adjusted gives 1d bars, not ${timeframe}`);
      series = await this.client.dailyAdjusted(symbol, { outputSize: spec.outputsize });
    } else {
      if (!spec.interval) throw new RangeError('function intraday needs an interval (1min, 5min, 15min or 60min)');
      if (INTRADAY_INTERVALS[spec.interval] !== timeframe) throw new RangeError(`interval ${spec.interval} gives ${INTRADAY_INTERVALS[spec.interval]} bars, not ${timeframe}`);
      series = await this.client.intraday(symbol, { interval: spec.interval, outputSize: spec.outputsize });
    }
    return {
      csv: series.csv,
      corporateActions: toPlatformCorporateActions(symbol, series.corporateActions),
      issues: series.corporateActionIssues.map((i) => `${i.date} ${i.field} "${i.value}": ${i.message}`),
    };
  }
}
