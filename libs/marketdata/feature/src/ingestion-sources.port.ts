import { AlphaVantageSource, CorporateAction, Timeframe } from '@strata/marketdata-contracts';

/**
 * Reads a columnar bars file (Parquet) into bars CSV text, so that it goes through exactly the same parser and
 * validation as a CSV upload. Guarantees: one CSV line per file row, in file order, after one header line, so the
 * reject line of row i (1-based) is i + 1 (a virtual header is line 1). Column names are passed through (lower-cased
 * by the parser): a file needs `timestamp,open,high,low,close,volume` and may have `adj_close`. Timestamps come out as
 * ISO-8601 UTC; NULLs as empty fields (→ `unparsable`); NaN/Infinity as `nan`/`inf` (→ `non_finite`).
 */
export interface BarsFileReader {
  /** The Parquet file at `path` (already checked against the allowed directories) as bars CSV text. */
  parquetToCsv(path: string): Promise<string>;
}

/** Injection token of {@link BarsFileReader}. */
export const BARS_FILE_READER = Symbol('BARS_FILE_READER');

/** What a remote market-data source returned: bars as ingest CSV plus the corporate actions it reported. */
export interface RemoteBarsFetch {
  /** Bars CSV (`timestamp,open,high,low,close,volume[,adj_close]`), oldest first, numbers as the provider sent them. */
  csv: string;
  /** Splits and dividends of the symbol, in the platform's shape (empty when the series has none). */
  corporateActions: CorporateAction[];
  /** Corporate-action fields the provider sent that could not be read (reported in the log, never dropped silently). */
  issues?: string[];
}

/** The Alpha Vantage source, behind a port (the HTTP client lives in an infra library). */
export interface AlphaVantageBarsSource {
  fetch(symbol: string, timeframe: Timeframe, spec: AlphaVantageSource): Promise<RemoteBarsFetch>;
}

/** Injection token of {@link AlphaVantageBarsSource}; absent when `ALPHAVANTAGE_API_KEY` is not configured. */
export const ALPHAVANTAGE_SOURCE = Symbol('ALPHAVANTAGE_SOURCE');

/** Records corporate actions (the market-data corporate-actions service: `MarketDataService.recordCorporateActions`). */
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
 * Where the ground truth of synthetic ingests is kept (DuckDB table `synthetic_ground_truth(symbol, timeframe, ts,
 * regime, anomaly, ingestion_id)`). `save` replaces the rows of the same (symbol, timeframe, ts): the latest
 * synthetic ingest of a series is the truth of the stored bars.
 */
export interface SyntheticGroundTruthStore {
  save(ingestionId: string, symbol: string, timeframe: Timeframe, rows: readonly SyntheticGroundTruthRow[]): Promise<void>;
  /** Rows of a series, oldest first, optionally within [fromMs, toMs]. */
  read(symbol: string, timeframe: Timeframe, range?: { fromMs?: number; toMs?: number }): Promise<SyntheticGroundTruthRow[]>;
}

/** Injection token of {@link SyntheticGroundTruthStore}. */
export const SYNTHETIC_GROUND_TRUTH_STORE = Symbol('SYNTHETIC_GROUND_TRUTH_STORE');
