import { z } from 'zod';
import { defineCommand, defineEvent } from '@strata/platform-contracts';
import { SymbolSchema, TimeframeSchema } from './marketdata.contracts';
import { AdjustmentSchema, BarCorrectionSchema } from './market-data-api.contracts';

/*
 * Records the MarketDataReader port reads besides bars: feature windows and bar-quality flags. They are defined here,
 * at the bottom of the dependency graph (features-contracts and dataquality-contracts import marketdata-contracts),
 * and re-exported from their owners' contracts, so each keeps one definition.
 */

// ---------------------------------------------------------------- feature sets (re-exported by features-contracts)

/** Feature-set names: lower-case snake case, 1–48 characters (`core`). */
export const FeatureSetNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, 'feature-set names are lower-case snake case');

/** One feature of a registered feature set, as served by `GET /features/sets/{name}/versions`. */
export const FeatureDtoSchema = z.object({
  name: z.string(),
  description: z.string(),
  params: z.record(z.string(), z.union([z.number(), z.string()])),
  lookback: z.number().int().nonnegative(),
});

/** A registered feature-set version. Immutable once registered. */
export const FeatureSetVersionSchema = z.object({
  name: z.string(),
  version: z.number().int().positive(),
  codeVersion: z.string(),
  /** DuckDB view holding its values, e.g. `features.core_v1`. */
  view: z.string(),
  /** Bars the values are computed from (`raw`, `split` or `total` adjusted). */
  adjust: z.enum(['raw', 'split', 'total']),
  warmUpBars: z.number().int().nonnegative(),
  features: z.array(FeatureDtoSchema),
  /** SHA-256 of the canonical definition JSON: re-registering must match it. */
  definitionHash: z.string(),
  registeredAt: z.iso.datetime(),
});
/** See {@link FeatureSetVersionSchema}. */
export type FeatureSetVersion = z.infer<typeof FeatureSetVersionSchema>;

/**
 * How training datasets and backtests treat bars the data-quality sentinel flagged: `include` (default) uses every
 * bar as stored; `exclude` leaves out bars with an unresolved flag (open or acknowledged).
 */
export const QualityFilterSchema = z.enum(['include', 'exclude']);
/** See {@link QualityFilterSchema}. */
export type QualityFilter = z.infer<typeof QualityFilterSchema>;

/** Feature values of one series as columns: `ts` (bar start, epoch ms UTC) and one Float64Array per feature (NaN = NULL). */
export interface FeatureColumns {
  ts: Float64Array;
  columns: Record<string, Float64Array>;
}

// ---------------------------------------------------------------- bar-quality flags (re-exported by dataquality-contracts)

/** Severity ladder, lowest first. HIGH and above page (webhooks default to `minSeverity: HIGH`). */
export const DataQualitySeveritySchema = z.enum(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']);
/** See {@link DataQualitySeveritySchema}. */
export type DataQualitySeverity = z.infer<typeof DataQualitySeveritySchema>;

/**
 * What a flagged bar looks like: rule kinds `stale`, `gap`, `bad_tick`, `zero_volume`, `correction`; the proposal
 * `probable_split` (never paged as a price anomaly); statistical kinds `spike`, `volume_burst`, `outlier`.
 */
export const AnomalyKindSchema = z.enum([
  'spike',
  'bad_tick',
  'stale',
  'gap',
  'zero_volume',
  'volume_burst',
  'correction',
  'probable_split',
  'outlier',
]);
/** See {@link AnomalyKindSchema}. */
export type AnomalyKindName = z.infer<typeof AnomalyKindSchema>;

/** Lifecycle of a DataQualityEvent: open → acknowledged → resolved (or open → resolved). Resolved is final. */
export const DataQualityStatusSchema = z.enum(['open', 'acknowledged', 'resolved']);
/** See {@link DataQualityStatusSchema}. */
export type DataQualityStatus = z.infer<typeof DataQualityStatusSchema>;

/**
 * One flagged bar, as the data-quality sentinel marks it next to the bars and features. Keyed by
 * (symbol, timeframe, ts, kind): one bar may carry several kinds. `ts` is the bar start, epoch ms UTC; `eventId` the
 * DataQualityEvent behind the flag (`GET /data-quality/events/{id}`).
 */
export const BarQualityFlagSchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  ts: z.number().int(),
  kind: AnomalyKindSchema,
  eventId: z.string().min(1).max(200),
  severity: DataQualitySeveritySchema,
  status: DataQualityStatusSchema,
});
/** See {@link BarQualityFlagSchema}. */
export type BarQualityFlag = z.infer<typeof BarQualityFlagSchema>;

// ---------------------------------------------------------------- read requests (MarketDataReader over the bus)

/** Bounds of a window, epoch ms UTC: `from` / `to` inclusive, `after` exclusive (page cursor), `limit` rows. */
const WindowShape = {
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  from: z.number().int().optional(),
  to: z.number().int().optional(),
  after: z.number().int().optional(),
  limit: z.number().int().positive().optional(),
};

/** Request of `marketdata.cmd.read.bars.v1`: a window of one series and the adjustment (default `total`). */
export const ReadBarsRequestSchema = z.object({ ...WindowShape, adjust: AdjustmentSchema.optional() });

/**
 * Request of `marketdata.cmd.read.features.v1`: a window of one feature-set version (latest when `version` is
 * absent). With `asOf` (event times, epoch ms UTC, ascending or not) the reply holds, per event time, the values of
 * the latest bar that had closed by then (the FeatureStore port's as-of join); the window bounds are then not allowed.
 */
export const ReadFeaturesRequestSchema = z
  .object({
    ...WindowShape,
    set: FeatureSetNameSchema,
    version: z.number().int().positive().optional(),
    qualityFilter: QualityFilterSchema.optional(),
    asOf: z.array(z.number().int()).max(5_000_000).optional(),
  })
  .refine(
    (r) =>
      r.asOf === undefined ||
      (r.from === undefined && r.to === undefined && r.after === undefined && r.limit === undefined),
    { message: 'asOf reads take event times, not window bounds (from, to, after, limit)', path: ['asOf'] },
  )
  .refine((r) => r.asOf === undefined || r.qualityFilter !== 'exclude', {
    message: 'qualityFilter "exclude" applies to windows, not to asOf reads',
    path: ['qualityFilter'],
  });

/** Request of `marketdata.cmd.read.quality-flags.v1`: flags of one series in `[from, to]`, optionally by status. */
export const ReadQualityFlagsRequestSchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  from: z.number().int().optional(),
  to: z.number().int().optional(),
  statuses: z.array(DataQualityStatusSchema).max(3).optional(),
});

/** Request of `marketdata.cmd.read.series.v1`: stored series after a (symbol, timeframe) key, paged. */
export const ReadSeriesRequestSchema = z.object({
  after: z.object({ symbol: z.string().max(64), timeframe: z.string().max(8) }).optional(),
  limit: z.number().int().min(1).max(10_000),
  symbol: SymbolSchema.optional(),
});

/**
 * Metadata of every window reply (the `Strata-Reply-Meta` header, JSON); the body is Arrow IPC (stream format) of the
 * window, or empty when the window is above the inline limit and `snapshot` names its content-addressed key
 * (`sha256/<2 hex>/<sha256>.arrow`) in the snapshots bucket, or empty when `notModified` (the requester sent the
 * `sha256` it holds as `have` in `Strata-Request-Meta`).
 */
export const ReadReplySchema = z.object({
  /** Rows of the window. */
  rows: z.number().int().nonnegative(),
  /** Size of its Arrow IPC, bytes. */
  bytes: z.number().int().nonnegative(),
  /** SHA-256 of the Arrow IPC (lowercase hex): the window's identity, inline or not. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Snapshot key, when the window is above the inline limit. */
  snapshot: z
    .string()
    .regex(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.arrow$/)
    .optional(),
  /** Largest range `marketdata.cmd.read.snapshot.v1` serves, bytes (the inline limit). */
  chunkBytes: z.number().int().positive().optional(),
  /** The requester already holds this window: the body is empty. */
  notModified: z.literal(true).optional(),
});
/** See {@link ReadReplySchema}. */
export type ReadReplyMeta = z.infer<typeof ReadReplySchema>;

const ARROW_NOTE =
  'Request/reply on rpc.<subject> (queue group of the marketdata service); the reply body is Arrow IPC and its metadata (the reply schema) travels in the Strata-Reply-Meta header; above STRATA_INLINE_MAX_BYTES the metadata names a snapshot in strata-snapshots instead; errors travel as Strata-Error-Code / Strata-Error headers.';

/** Reads a window of bars (any adjustment). */
export const ReadBarsCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.bars.v1',
  description: `Reads a window of one series' bars, adjusted as asked. ${ARROW_NOTE}`,
  schema: ReadBarsRequestSchema,
  reply: ReadReplySchema,
});

/** Reads a window (or an as-of join) of one feature-set version. */
export const ReadFeaturesCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.features.v1',
  description: `Reads feature values of one set version (latest when absent) over a window or as of event times. ${ARROW_NOTE}`,
  schema: ReadFeaturesRequestSchema,
  reply: ReadReplySchema,
});

/** Reads bar-quality flags of one series. */
export const ReadQualityFlagsCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.quality-flags.v1',
  description: `Reads the bar-quality flags of one series in a window. ${ARROW_NOTE}`,
  schema: ReadQualityFlagsRequestSchema,
  reply: ReadReplySchema,
});

/** Lists stored series. */
export const ReadSeriesCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.series.v1',
  description: 'Lists stored series (JSON reply: SymbolSeries[]), paged by (symbol, timeframe).',
  schema: ReadSeriesRequestSchema,
  reply: z.array(z.object({ symbol: z.string(), timeframe: z.string() }).loose()),
});

/**
 * Request of `marketdata.cmd.read.snapshot.v1`: a byte range of a snapshot the marketdata service named in a read
 * reply (readers fetch a fresh snapshot straight from the service in ranges no larger than the inline limit, in
 * parallel, instead of waiting for the Object Store; they verify its SHA-256 like any snapshot).
 */
export const ReadSnapshotRequestSchema = z.object({
  key: z.string().regex(/^sha256\/[0-9a-f]{2}\/[0-9a-f]{64}\.arrow$/, 'a snapshot key sha256/<2 hex>/<sha256>.arrow'),
  offset: z.number().int().nonnegative(),
  length: z
    .number()
    .int()
    .positive()
    .max(1024 * 1024),
});

/** Reads a byte range of a snapshot from the marketdata service (bytes reply). */
export const ReadSnapshotCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.snapshot.v1',
  description:
    'Reads a byte range of a snapshot named by a read reply, straight from the marketdata service (bytes reply; not_found when the service no longer holds it: read it from strata-snapshots).',
  schema: ReadSnapshotRequestSchema,
  reply: z.object({}).describe('The body is the requested bytes of the snapshot; the metadata is empty.'),
});

/** Reads the correction audit records of one series (newest first). */
export const ReadCorrectionsCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.corrections.v1',
  description: 'Reads the correction audit records of one series, newest first (JSON reply: BarCorrection[]).',
  schema: z.object({ symbol: SymbolSchema, timeframe: TimeframeSchema, limit: z.number().int().min(1).max(10_000) }),
  reply: z.array(BarCorrectionSchema),
});

/** Lists registered feature-set versions. */
export const ReadFeatureSetsCommandV1 = defineCommand({
  transport: 'binary',
  subject: 'marketdata.cmd.read.feature-sets.v1',
  description:
    'Lists registered feature-set versions, of one set when `name` is given (JSON reply: FeatureSetVersion[]).',
  schema: z.object({ name: FeatureSetNameSchema.optional() }),
  reply: z.array(FeatureSetVersionSchema),
});

// ---------------------------------------------------------------- quality-flag writes (sentinel → marketdata)

/** Command: store bar-quality flags (idempotent per (symbol, timeframe, ts, kind)); served by the marketdata service. */
export const UpsertQualityFlagsCommandV1 = defineCommand({
  subject: 'marketdata.cmd.quality-flags.upsert.v1',
  description:
    'Stores bar-quality flags next to the bars (idempotent per symbol, timeframe, bar time and kind); sent by the data-quality sentinel, applied by the marketdata service, the only writer of the DuckDB file.',
  schema: z.object({ flags: z.array(BarQualityFlagSchema).min(1).max(10_000) }),
});

/** Command: set the status of every flag of one DataQualityEvent (idempotent). */
export const SetQualityFlagStatusCommandV1 = defineCommand({
  subject: 'marketdata.cmd.quality-flags.set-status.v1',
  description:
    'Sets the status of every bar-quality flag of one DataQualityEvent (idempotent); applied by the marketdata service.',
  schema: z.object({ eventId: z.string().min(1).max(200), status: DataQualityStatusSchema }),
});

// ---------------------------------------------------------------- snapshots

/** Fact: a window of a series was (re)written as a content-addressed snapshot after the series changed. */
export const SnapshotPublishedV1 = defineEvent({
  subject: 'marketdata.evt.snapshot.published.v1',
  description:
    'A window of one series was written as an immutable snapshot (Arrow IPC, SHA-256 content-addressed) in strata-snapshots after its bars, features or flags changed; readers may prefetch it.',
  schema: z.object({
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    /** What the window holds. */
    what: z.enum(['bars', 'features', 'quality-flags']),
    /** The read request the snapshot answers (JSON of the request, canonical key order). */
    request: z.string().max(10_000),
    /** Artifact key `sha256/<2 hex>/<sha256>.arrow`. */
    key: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    bytes: z.number().int().nonnegative(),
    rows: z.number().int().nonnegative(),
  }),
});

/** Codes a read can fail with besides the bus's own (`no_responders`, `timeout`, `invalid_payload`). */
export type MarketDataReadErrorCode = 'not_found';

/**
 * A read named a series, feature set or version that does not exist (maps to 404). Travels over the bus as
 * `Strata-Error-Code: not_found`.
 */
export class MarketDataNotFoundError extends Error {
  readonly code: MarketDataReadErrorCode = 'not_found';
  constructor(message: string) {
    super(message);
    this.name = 'MarketDataNotFoundError';
  }
}
