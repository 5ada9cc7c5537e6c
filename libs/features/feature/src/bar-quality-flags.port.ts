import { DataQualityStatus } from '@strata/dataquality-contracts';
import { Timeframe } from '@strata/marketdata-contracts';
import { BarQualityFlag } from '@strata/dataquality-domain';

/** One flagged bar (defined in `@strata/dataquality-domain`, re-exported for the port's users). */
export type { BarQualityFlag } from '@strata/dataquality-domain';

/**
 * How training datasets and backtests treat flagged bars (`QualityFilterSchema` of the contracts): `exclude` leaves
 * out bars with an unresolved flag (status `open` or `acknowledged`; a resolved flag means the data was corrected or
 * the alert was judged a false positive).
 */
export type { QualityFilter } from '@strata/features-contracts';

/**
 * Port: the bar-quality flags table. Guarantees: `upsert` is idempotent per key (a second upsert replaces event id,
 * severity and status); `setStatus` changes every flag of one event; `read` is ascending by `ts`, bounds inclusive.
 * The DuckDB adapter is `DuckDbBarQualityFlagsStore` (`@strata/infra-duckdb`).
 */
export interface BarQualityFlagsStore {
  upsert(flags: readonly BarQualityFlag[]): Promise<void>;
  setStatus(eventId: string, status: DataQualityStatus): Promise<number>;
  read(req: { symbol: string; timeframe: Timeframe; from?: number; to?: number; statuses?: readonly DataQualityStatus[] }): Promise<BarQualityFlag[]>;
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
