import type { BarQualityFlag, DataQualityStatus, Timeframe } from '@strata/marketdata-contracts';

/**
 * One flagged bar, as the data-quality sentinel marks it next to the bars and features (the
 * {@link BarQualityFlagsStore} port and its DuckDB adapter store this shape). Defined in marketdata-contracts with its
 * schema (`BarQualityFlagSchema`): the MarketDataReader port reads flags and the marketdata service stores them.
 */
export type { BarQualityFlag } from '@strata/marketdata-contracts';

/**
 * Port: the bar-quality flags table, written by the data-quality sentinel and read by the feature store and backtests
 * (`qualityFilter: 'exclude'` leaves out bars with an unresolved flag: status `open` or `acknowledged`; a resolved flag
 * means the data was corrected or the alert was judged a false positive). Guarantees: `upsert` is idempotent per key
 * (a second upsert replaces event id, severity and status); `setStatus` changes every flag of one event; `read` is
 * ascending by `ts`, bounds inclusive. The DuckDB adapter is `DuckDbBarQualityFlagsStore`
 * (`@strata/dataquality-infra-duckdb`).
 */
export interface BarQualityFlagsStore {
  upsert(flags: readonly BarQualityFlag[]): Promise<void>;
  setStatus(eventId: string, status: DataQualityStatus): Promise<number>;
  read(req: {
    symbol: string;
    timeframe: Timeframe;
    from?: number;
    to?: number;
    statuses?: readonly DataQualityStatus[];
  }): Promise<BarQualityFlag[]>;
}

/** Injection token of {@link BarQualityFlagsStore}. */
export const BAR_QUALITY_FLAGS = Symbol('BAR_QUALITY_FLAGS');

/** Statuses that `qualityFilter: 'exclude'` leaves out. */
export const UNRESOLVED_FLAG_STATUSES: readonly DataQualityStatus[] = ['open', 'acknowledged'];

/**
 * A mask over `ts` (ascending, epoch ms): 1 where a flag of `flags` sits on that bar. Flags on times that are not in
 * `ts` are ignored. O(n + m) after sorting the flag times.
 */
export function flaggedBarMask(ts: Float64Array, flags: readonly Pick<BarQualityFlag, 'ts'>[]): Uint8Array {
  const mask = new Uint8Array(ts.length);
  const times = Float64Array.from(flags, (f) => f.ts).sort();
  let j = 0;
  for (let i = 0; i < ts.length && j < times.length; i++) {
    while (j < times.length && times[j] < ts[i]) j++;
    if (j < times.length && times[j] === ts[i]) mask[i] = 1;
  }
  return mask;
}
