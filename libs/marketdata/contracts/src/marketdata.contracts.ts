import { z } from 'zod';
import { defineCommand, defineEvent } from '@strata/platform-contracts';

/** Bar timeframes supported by the platform. */
export const TimeframeSchema = z.enum(['1m', '5m', '15m', '1h', '1d']);
/** A bar timeframe: `1m`, `5m`, `15m`, `1h` or `1d`. */
export type Timeframe = z.infer<typeof TimeframeSchema>;

/** Ticker symbol: upper-case letters, digits, `.`, `-`, `_`, `/`, `=`, `^`; 1–32 characters. */
export const SymbolSchema = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[A-Za-z0-9.\-_/=^]+$/, 'symbol may contain letters, digits and . - _ / = ^')
  .transform((s) => s.toUpperCase());

/** Stable reason codes for rejected rows. */
export const RejectReasonSchema = z.enum([
  'unparsable',
  'non_finite',
  'non_positive_price',
  'high_below_low',
  'open_close_outside_range',
  'negative_volume',
  'duplicate_timestamp',
  'out_of_order',
]);
export type RejectReason = z.infer<typeof RejectReasonSchema>;

/** A rejected input row: `line` is 1-based in the file, header included. */
export const RejectedRowSchema = z.object({
  line: z.number().int().positive(),
  reason: RejectReasonSchema,
  message: z.string(),
});
export type RejectedRow = z.infer<typeof RejectedRowSchema>;

/** A hole in the expected calendar, recorded and never filled. Times are ISO-8601 UTC. */
export const CalendarGapSchema = z.object({
  after: z.iso.datetime(),
  before: z.iso.datetime(),
  missingBars: z.number().int().nonnegative(),
});
export type CalendarGap = z.infer<typeof CalendarGapSchema>;

/**
 * Source spec: fetch the command's symbol from the Alpha Vantage REST API. `daily_adjusted` gives raw daily bars
 * (plus its splits and dividends, recorded as corporate actions); `intraday` needs `interval` (the command's
 * timeframe must match it: 1min→1m, 5min→5m, 15min→15m, 60min→1h). `outputsize`: `compact` (default) or `full`.
 */
export const AlphaVantageSourceSchema = z.object({
  kind: z.literal('alphavantage'),
  function: z.enum(['daily_adjusted', 'intraday']),
  interval: z.enum(['1min', '5min', '15min', '60min']).optional(),
  outputsize: z.enum(['compact', 'full']).optional(),
});

/** Regime of the synthetic generator (annualised drift and volatility as fractions). */
export const SyntheticRegimeSchema = z.object({
  name: z.string().min(1).max(32),
  drift: z.number().finite().min(-5).max(5),
  volatility: z.number().finite().positive().max(5),
  volumeMultiplier: z.number().finite().positive().optional(),
});

/**
 * Source spec: a seeded synthetic series (regime-switching GBM with jumps and volume, optional labelled anomalies).
 * The same spec always yields the same bars. Its ground truth (regime and anomaly per bar) is stored retrievably
 * (DuckDB table `synthetic_ground_truth`). `start`: `YYYY-MM-DD` or ISO-8601 UTC; `bars`: calendar slots (≤ 1,000,000).
 */
export const SyntheticSourceSchema = z.object({
  kind: z.literal('synthetic'),
  seed: z.union([z.number().int(), z.string().min(1).max(128)]),
  bars: z.number().int().min(1).max(1_000_000),
  start: z.string().min(10).max(40).optional(),
  config: z
    .object({
      initialPrice: z.number().finite().positive().optional(),
      regimes: z.array(SyntheticRegimeSchema).min(1).max(8).optional(),
      transitionMatrix: z.array(z.array(z.number().min(0).max(1))).optional(),
      /** Start probability per free bar of each anomaly kind (0–1). */
      anomalyRates: z
        .object({
          spike: z.number().min(0).max(1).optional(),
          gap: z.number().min(0).max(1).optional(),
          stale: z.number().min(0).max(1).optional(),
          bad_tick: z.number().min(0).max(1).optional(),
          volume_burst: z.number().min(0).max(1).optional(),
        })
        .optional(),
      priceDecimals: z.number().int().min(0).max(10).optional(),
    })
    .optional(),
});

/**
 * An upload too large to ride in the message (above `STRATA_INLINE_MAX_BYTES`, and every Parquet upload): its bytes
 * sit in the staging artifact store (`strata-staging` bucket, expiring) under their content-addressed key.
 */
export const StagedIngestSourceSchema = z.object({
  kind: z.literal('staged'),
  /** Content-addressed key in the staging store: `sha256/<2 hex>/<sha256><ext>`. */
  key: z
    .string()
    .regex(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}(\.[a-z0-9]{1,16})?$/, 'expected a key sha256/<2 hex>/<sha256>[.ext]'),
  format: z.enum(['csv', 'parquet']),
});
/** See {@link StagedIngestSourceSchema}. */
export type StagedIngestSource = z.infer<typeof StagedIngestSourceSchema>;

/**
 * Where an ingest reads its bars from: inline CSV text, a file (CSV, or Parquet when the name ends in `.parquet` or
 * the content starts with `PAR1`) inside the service's allowed directories, an upload staged in the staging artifact
 * store, Alpha Vantage, or the synthetic generator.
 */
export const IngestSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('csv'), csv: z.string().min(1), filename: z.string().optional() }),
  z.object({ kind: z.literal('file'), path: z.string().min(1) }),
  StagedIngestSourceSchema,
  AlphaVantageSourceSchema,
  SyntheticSourceSchema,
]);
/**
 * The sources a REST client may name (`POST /market-data/ingest` JSON `source`): every kind but `staged`, which only
 * the ingest endpoint itself creates for large uploads.
 */
export const ClientIngestSourceSchema = z.discriminatedUnion('kind', [
  IngestSourceSchema.options[0],
  IngestSourceSchema.options[1],
  AlphaVantageSourceSchema,
  SyntheticSourceSchema,
]);
export type IngestSource = z.infer<typeof IngestSourceSchema>;
/** See {@link AlphaVantageSourceSchema}. */
export type AlphaVantageSource = z.infer<typeof AlphaVantageSourceSchema>;
/** See {@link SyntheticSourceSchema}. */
export type SyntheticSource = z.infer<typeof SyntheticSourceSchema>;

/**
 * Why an ingest failed, for programs (the `error` text is for people): the input cannot be read as bars at all (empty,
 * malformed header: `malformed_input`) or has no valid row (`no_valid_rows`); the source could not be read
 * (`source_unreadable`: a file outside the allowed directories or missing), needs something this service lacks
 * (`source_not_configured`), is an invalid spec (`source_invalid`) or failed remotely (`source_failed`); or the bars
 * could not be stored (`store_failed`).
 */
export const IngestErrorKindSchema = z.enum([
  'malformed_input',
  'no_valid_rows',
  'source_unreadable',
  'source_not_configured',
  'source_invalid',
  'source_failed',
  'store_failed',
]);
/** See {@link IngestErrorKindSchema}. */
export type IngestErrorKind = z.infer<typeof IngestErrorKindSchema>;

/** Result of one ingest, also served at `GET /market-data/ingestions/{id}`. */
export const IngestResultSchema = z.object({
  id: z.string(),
  status: z.enum(['completed', 'duplicate', 'failed']),
  symbol: z.string(),
  timeframe: TimeframeSchema,
  contentHash: z.string(),
  accepted: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  rejects: z.array(RejectedRowSchema),
  gaps: z.array(CalendarGapSchema),
  from: z.iso.datetime().nullable(),
  to: z.iso.datetime().nullable(),
  /** For `duplicate`: the ingestion that first stored this content. */
  duplicateOf: z.string().optional(),
  /**
   * What the commit changed in the bars table: new bars, corrected bars (old values kept in the audit table) and
   * bars identical to those stored. Absent when nothing was committed (`failed`).
   */
  changes: z
    .object({
      inserted: z.number().int().nonnegative(),
      updated: z.number().int().nonnegative(),
      unchanged: z.number().int().nonnegative(),
    })
    .optional(),
  error: z.string().optional(),
  /** For `failed`: what kind of failure `error` describes (absent from older producers). */
  errorKind: IngestErrorKindSchema.optional(),
});
export type IngestResult = z.infer<typeof IngestResultSchema>;

/** Command: ingest one batch of bars for a symbol and timeframe; answers with the {@link IngestResult}. */
export const IngestCommandV1 = defineCommand({
  subject: 'marketdata.cmd.ingest.v1',
  description: 'Ingest one batch of OHLCV bars for a symbol and timeframe; replies with the ingest result.',
  schema: z.object({
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    source: IngestSourceSchema,
    requestedBy: z.string().optional(),
  }),
  reply: IngestResultSchema,
});

/** Fact: one validated batch of bars was committed. Fired once per committed batch. */
export const BarsIngestedV1 = defineEvent({
  subject: 'marketdata.evt.bars.ingested.v1',
  description: 'A validated batch of bars was committed for a symbol and timeframe.',
  schema: z.object({
    ingestionId: z.string(),
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    /** First bar time in the batch, ISO-8601 UTC. */
    from: z.iso.datetime(),
    /** Last bar time in the batch, ISO-8601 UTC. */
    to: z.iso.datetime(),
    rowCount: z.number().int().nonnegative(),
    /** SHA-256 (hex) of the normalised batch content. */
    contentHash: z.string().regex(/^[0-9a-f]{64}$/),
    rejectedCount: z.number().int().nonnegative().optional(),
    /**
     * Time of the earliest bar this commit inserted or corrected, ISO-8601 UTC: consumers recompute from here on
     * (bars before it are unchanged). Absent from older producers: then assume `from`.
     */
    changedFrom: z.iso.datetime().optional(),
    /** Bars new to the store. */
    inserted: z.number().int().nonnegative().optional(),
    /** Stored bars replaced by corrected values (each audited; see `marketdata.evt.bars.corrected.v1`). */
    updated: z.number().int().nonnegative().optional(),
  }),
});
