import { Inject, Injectable, Logger } from '@nestjs/common';
import { EVENT_BUS, type EventBus } from '@strata/platform-contracts';
import {
  FeatureSetRefreshedV1,
  FEATURE_STORE,
  type FeatureStore,
  type MaterialisationLineage,
  type MaterialisationRecord,
} from '@strata/features-contracts';
import { type Timeframe, MARKET_DATA_READER, type MarketDataReader } from '@strata/marketdata-contracts';
import { barsContentHash } from '@strata/shared-timeseries';
import { createHash } from 'node:crypto';
import { FEATURE_SETS, type FeatureSetImplementation } from './feature-set.registry';

/** Outcome of one refresh of one feature set for one series. */
export interface RefreshOutcome {
  set: string;
  version: number;
  symbol: string;
  timeframe: Timeframe;
  /** Rows recomputed and written (0: nothing to do). */
  rows: number;
  /** First / last recomputed bar, epoch ms UTC (null when rows = 0). */
  from: number | null;
  to: number | null;
  /** True when the whole history was recomputed (first time, new adjustment, or asked). */
  full: boolean;
  materialisationId?: string;
}

/** Index of the first element of ascending `ts` that is ≥ `t`. */
export function lowerBound(ts: Float64Array, t: number, length = ts.length): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Materialises feature sets and keeps them fresh. A refresh of one series:
 * 1. reads the series' whole history adjusted as the set requires (the recursive indicators, EMA/Wilder/OBV, depend
 *    on every earlier bar, so exactness needs all of it; the windowed ones need at most 20 earlier bars);
 * 2. decides where recomputation starts: the first changed bar (`changedFrom`), or just after the last materialised
 *    bar if that is earlier (missed events), or bar 0 when nothing was materialised yet or when the adjustment
 *    fingerprint or calendar differ from the last materialisation (a new split rescales the whole history);
 * 3. computes only that tail (`computeTail`, bit-identical to a full computation), replaces it in the store with its
 *    lineage (bars content hash, count, adjustment hash, calendar, feature-set and code version, time);
 * 4. publishes `features.evt.set.refreshed.v1`.
 * Refreshes of the same series run one at a time (in arrival order); recomputation is idempotent.
 */
@Injectable()
export class FeatureRefreshService {
  private readonly logger = new Logger('features');
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly registered = new Set<string>();
  /** Last materialisation per (set, version, symbol, timeframe) written by this service: spares a query per refresh. */
  private readonly lastWritten = new Map<string, MaterialisationRecord>();

  constructor(
    @Inject(MARKET_DATA_READER) private readonly marketData: MarketDataReader,
    @Inject(FEATURE_STORE) private readonly store: FeatureStore,
    @Inject(FEATURE_SETS) private readonly sets: readonly FeatureSetImplementation[],
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  /** Registers every configured set (idempotent; throws on a conflicting definition). */
  async registerAll(): Promise<void> {
    for (const impl of this.sets) await this.ensureRegistered(impl);
  }

  private async ensureRegistered(impl: FeatureSetImplementation): Promise<void> {
    const key = `${impl.registration.name}\u0000${impl.registration.version}`;
    if (this.registered.has(key)) return;
    await this.store.register(impl.registration);
    this.registered.add(key);
  }

  /**
   * Refreshes every configured set for one series. `changedFrom` (epoch ms UTC) is the earliest bar that changed;
   * omit it to recompute only what was never materialised; `full` recomputes everything.
   */
  refreshSeries(
    symbol: string,
    timeframe: Timeframe,
    opts: {
      changedFrom?: number;
      full?: boolean;
      reason: MaterialisationLineage['reason'];
      correlationId?: string;
      causationId?: string | null;
    },
  ): Promise<RefreshOutcome[]> {
    const key = `${symbol}\u0000${timeframe}`;
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev
      .catch(() => undefined)
      .then(async () => {
        const out: RefreshOutcome[] = [];
        for (const impl of this.sets) out.push(await this.refreshOne(impl, symbol, timeframe, opts));
        return out;
      });
    this.queues.set(key, run);
    void run.finally(() => {
      if (this.queues.get(key) === run) this.queues.delete(key);
    });
    return run;
  }

  private async refreshOne(
    impl: FeatureSetImplementation,
    symbol: string,
    timeframe: Timeframe,
    opts: {
      changedFrom?: number;
      full?: boolean;
      reason: MaterialisationLineage['reason'];
      correlationId?: string;
      causationId?: string | null;
    },
  ): Promise<RefreshOutcome> {
    await this.ensureRegistered(impl);
    const { name, version, adjust } = impl.registration;
    const outcome: RefreshOutcome = {
      set: name,
      version,
      symbol,
      timeframe,
      rows: 0,
      from: null,
      to: null,
      full: false,
    };
    const { bars, adjustment } = await this.marketData.getBars({ symbol, timeframe, adjust });
    const n = bars.length;
    if (n === 0) return outcome;
    const adjustmentHash = createHash('sha256')
      .update(JSON.stringify({ adjust, steps: adjustment.steps, skipped: adjustment.skipped }))
      .digest('hex');
    const calendar = impl.calendarOf(bars.ts, n);
    const cacheKey = `${name}\u0000${version}\u0000${symbol}\u0000${timeframe}`;
    const last =
      this.lastWritten.get(cacheKey) ?? (await this.store.lastMaterialisation(name, version, symbol, timeframe));
    let fromIndex = 0;
    if (
      !opts.full &&
      last &&
      last.adjustmentHash === adjustmentHash &&
      last.calendar === calendar &&
      last.codeVersion === impl.registration.codeVersion
    ) {
      let start = last.toTs + 1;
      if (opts.changedFrom !== undefined && opts.changedFrom < start) start = opts.changedFrom;
      fromIndex = lowerBound(bars.ts, start, n);
    }
    if (fromIndex >= n) return outcome;
    const columns = impl.computeTail(bars, fromIndex, timeframe, calendar);
    const record = await this.store.writeTail({
      set: name,
      version,
      symbol,
      timeframe,
      fromTs: bars.ts[fromIndex],
      values: { ts: bars.ts.subarray(fromIndex, n), columns },
      lineage: { barsContentHash: barsContentHash(bars), barsCount: n, adjustmentHash, calendar, reason: opts.reason },
    });
    this.lastWritten.set(cacheKey, record);
    await this.bus.publish(
      FeatureSetRefreshedV1,
      {
        set: name,
        version,
        symbol,
        timeframe,
        from: new Date(record.fromTs).toISOString(),
        to: new Date(record.toTs).toISOString(),
        rows: record.rows,
        materialisationId: record.id,
        reason: opts.reason,
      },
      { correlationId: opts.correlationId, causationId: opts.causationId ?? null },
    );
    this.logger.debug?.({
      msg: 'feature set refreshed',
      set: name,
      version,
      symbol,
      timeframe,
      rows: record.rows,
      full: fromIndex === 0,
    });
    return {
      ...outcome,
      rows: record.rows,
      from: record.fromTs,
      to: record.toTs,
      full: fromIndex === 0,
      materialisationId: record.id,
    };
  }

  /** Materialises every configured set for every stored series (first boot, new set version). */
  async backfill(seriesList: readonly { symbol: string; timeframe: Timeframe }[]): Promise<RefreshOutcome[]> {
    const out: RefreshOutcome[] = [];
    for (const s of seriesList) out.push(...(await this.refreshSeries(s.symbol, s.timeframe, { reason: 'backfill' })));
    return out;
  }
}
