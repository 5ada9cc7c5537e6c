import { BarCorrection, CorporateAction, SymbolSeries, Timeframe } from '@strata/marketdata-contracts';
import { BarColumns, SeriesWindow } from '@strata/marketdata-domain';

/** A validated batch of one series to commit. `bars.ts` strictly increasing, epoch ms UTC. */
export interface BarsCommitRequest {
  ingestionId: string;
  symbol: string;
  timeframe: Timeframe;
  bars: BarColumns;
}

/** What a commit changed. Times are epoch ms UTC. */
export interface BarsCommitOutcome {
  /** Bars new to the store. */
  inserted: number;
  /** Stored bars replaced by different values (each with an audit record). */
  updated: number;
  /** Bars identical to the stored ones (not written). */
  unchanged: number;
  /** Earliest / latest inserted or updated bar; null when nothing changed. */
  changedFrom: number | null;
  changedTo: number | null;
  /** Earliest / latest corrected bar; null when nothing was corrected. */
  correctedFrom: number | null;
  correctedTo: number | null;
}

/**
 * Port: storage of raw OHLCV bars keyed by (symbol, timeframe, ts UTC). Guarantees every adapter keeps:
 * - at most one bar per key; bars are stored exactly as committed (never adjusted);
 * - `commit` is atomic and idempotent: committing identical bars again changes nothing (`unchanged` = all);
 * - a bar committed with other values replaces the stored one, and the old and new values are kept as a
 *   {@link BarCorrection} audit record naming both ingestions;
 * - `read` returns bars in ascending time.
 */
export interface BarsRepository {
  commit(req: BarsCommitRequest): Promise<BarsCommitOutcome>;
  read(req: SeriesWindow): Promise<BarColumns>;
  /** Number of stored bars over all series. */
  count(): Promise<number>;
  /** Stored series ordered by symbol, then timeframe, after the `after` key (exclusive). */
  listSeries(opts: { after?: { symbol: string; timeframe: string }; limit: number; symbol?: string }): Promise<SymbolSeries[]>;
  /** Audit records of a series' corrections, newest first. */
  listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]>;
  /** For each instant, the raw close of the series' last bar strictly before it (NaN when none). */
  lastClosesBefore(symbol: string, timeframe: Timeframe, instants: readonly number[]): Promise<Float64Array>;
}

/** Injection token of {@link BarsRepository}. */
export const BARS_REPOSITORY = Symbol('BARS_REPOSITORY');

/** Outcome of {@link CorporateActionsRepository.upsert}. */
export interface CorporateActionsUpsert {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Actions inserted or changed, in input order. */
  changed: CorporateAction[];
}

/**
 * Port: splits and dividends keyed by (symbol, kind, exDate). Recording an identical action is a no-op; other
 * values for an existing key replace it.
 */
export interface CorporateActionsRepository {
  upsert(actions: readonly CorporateAction[]): Promise<CorporateActionsUpsert>;
  /** A symbol's actions ordered by ex-date. */
  list(symbol: string): Promise<CorporateAction[]>;
}

/** Injection token of {@link CorporateActionsRepository}. */
export const CORPORATE_ACTIONS_REPOSITORY = Symbol('CORPORATE_ACTIONS_REPOSITORY');
