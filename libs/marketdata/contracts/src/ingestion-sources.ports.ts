import type { BarRows } from './bar-rows';
import type { CorporateAction } from './market-data-api.contracts';
import type { AlphaVantageSource, Timeframe } from './marketdata.contracts';

/**
 * Port: reads a columnar bars file (Parquet) into {@link BarRows} for the one validation (`validateBars`). Guarantees:
 * one row per file row, in file order, row i (0-based) reported at line i + 2 (as if under a header line). Column
 * names are read like a CSV header (`timestamp,open,high,low,close,volume`, optional `adj_close`; anything else is
 * refused naming line 1). NULLs are `unparsable`, NaN and ±Infinity `non_finite`, text fields are read like CSV fields.
 * The DuckDB adapter is `DuckDbParquetBarsReader` (`@strata/marketdata-infra-duckdb`).
 */
export interface BarsFileReader {
  /** The Parquet file at `path` (already checked against the allowed directories) as decoded rows. */
  readParquet(path: string): Promise<BarRows>;
}

/** Injection token of {@link BarsFileReader}. */
export const BARS_FILE_READER = Symbol('BARS_FILE_READER');

/** What a remote market-data source returned: decoded bars plus the corporate actions it reported. */
export interface RemoteBarsFetch {
  /** The bars, oldest first, decoded once from the provider's answer (numbers as the provider sent them). */
  rows: BarRows;
  /** Splits and dividends of the symbol (empty when the series has none). */
  corporateActions: CorporateAction[];
  /** Corporate-action fields the provider sent that could not be read (reported in the log, never dropped silently). */
  issues?: string[];
}

/** Port: the Alpha Vantage source (the HTTP client lives in `@strata/marketdata-infra-alphavantage`). */
export interface AlphaVantageBarsSource {
  fetch(symbol: string, timeframe: Timeframe, spec: AlphaVantageSource): Promise<RemoteBarsFetch>;
}

/** Injection token of {@link AlphaVantageBarsSource}; absent when `ALPHAVANTAGE_API_KEY` is not configured. */
export const ALPHAVANTAGE_SOURCE = Symbol('ALPHAVANTAGE_SOURCE');

/** Port: records corporate actions (the market-data corporate-actions service: `MarketDataService.recordCorporateActions`). */
export interface CorporateActionsRecorder {
  recordCorporateActions(actions: readonly CorporateAction[]): Promise<unknown>;
}

/** Injection token of {@link CorporateActionsRecorder}. */
export const CORPORATE_ACTIONS_RECORDER = Symbol('CORPORATE_ACTIONS_RECORDER');

/** Ground truth of one synthetic bar: what generated it, for measuring detectors later. */
export interface SyntheticGroundTruthRow {
  /** Bar start, epoch ms UTC. */
  ts: number;
  /** Regime name (e.g. `bull`, `bear`, `high_vol`). */
  regime: string;
  /** Anomaly kind (`spike`, `gap`, `stale`, `bad_tick`, `volume_burst`) or null for a clean bar. */
  anomaly: string | null;
}

/**
 * Port: where the ground truth of synthetic ingests is kept (DuckDB table `synthetic_ground_truth(symbol, timeframe,
 * ts, regime, anomaly, ingestion_id)`; adapter `DuckDbSyntheticGroundTruthStore`). `save` replaces the rows of the
 * same (symbol, timeframe, ts): the latest synthetic ingest of a series is the truth of the stored bars.
 */
export interface SyntheticGroundTruthStore {
  save(
    ingestionId: string,
    symbol: string,
    timeframe: Timeframe,
    rows: readonly SyntheticGroundTruthRow[],
  ): Promise<void>;
  /** Rows of a series, oldest first, optionally within [fromMs, toMs]. */
  read(
    symbol: string,
    timeframe: Timeframe,
    range?: { fromMs?: number; toMs?: number },
  ): Promise<SyntheticGroundTruthRow[]>;
}

/** Injection token of {@link SyntheticGroundTruthStore}. */
export const SYNTHETIC_GROUND_TRUTH_STORE = Symbol('SYNTHETIC_GROUND_TRUTH_STORE');
