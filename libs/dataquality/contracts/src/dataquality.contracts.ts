import { z } from 'zod';
import { defineEvent, nonBlankText, PageCursorSchema } from '@strata/platform-contracts';
import {
  AnomalyKindSchema,
  DataQualitySeveritySchema,
  DataQualityStatusSchema,
  InstantQuerySchema,
  SymbolSchema,
  TimeframeSchema,
} from '@strata/marketdata-contracts';

// Defined in marketdata-contracts (the MarketDataReader port reads bar-quality flags); one definition, re-exported here.
export {
  AnomalyKindSchema,
  DataQualitySeveritySchema,
  DataQualityStatusSchema,
  type AnomalyKindName,
  type DataQualitySeverity,
  type DataQualityStatus,
} from '@strata/marketdata-contracts';

/*
 * Data-quality sentinel contracts: the anomaly event, the stored DataQualityEvent as served by REST, the dashboard
 * summary and the webhook subscriptions and deliveries. The scorer's own types live in `@strata/dataquality-domain`
 * (`sentinel.types.ts`); the enums below carry the same values (the feature library checks this at compile time).
 */

/** Detectors whose scores each event records. */
export const DetectorNameSchema = z.enum(['rules', 'isolation_forest', 'forecast_residual']);

/** Each detector's score in [0, 1]; null when the detector did not run for this bar (e.g. warm-up). */
export const DetectorScoresSchema = z.object({
  rules: z.number().min(0).max(1).nullable(),
  isolation_forest: z.number().min(0).max(1).nullable(),
  forecast_residual: z.number().min(0).max(1).nullable(),
});

/** Who changed a status: the API key principal (non-secret key id and its role). */
export const StatusActorSchema = z.object({ keyId: z.string(), role: z.string() });

/** Proposed split of a `probable_split` event: `newShares` for `oldShares` (4:1 → 4 and 1). */
export const ProposedSplitSchema = z.object({ newShares: z.number().positive(), oldShares: z.number().positive() });

/** Fields of an anomaly as detected (the event payload and the first part of the stored document). */
const DetectedAnomalyShape = {
  /** Stable id: derived from (symbol, timeframe, bar time, kind), so a rescored bar never gets a second event. */
  id: z.string(),
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  /** Bar start, ISO-8601 UTC. */
  barTs: z.iso.datetime(),
  kind: AnomalyKindSchema,
  scores: DetectorScoresSchema,
  /** The documented combination of `scores` (docs/sentinel.md), in [0, 1]. */
  combined: z.number().min(0).max(1),
  severity: DataQualitySeveritySchema,
  /** The reason in words. */
  reason: z.string(),
  /** Version of each detector's model / rule set that produced the scores. */
  modelVersions: z.record(z.string(), z.string()),
  /** Only for `probable_split`: the split an operator may confirm by `POST /market-data/corporate-actions`. */
  proposedSplit: ProposedSplitSchema.nullable(),
  /** Ingestion whose commit was scored (null when unknown). */
  ingestionId: z.string().nullable(),
  /** When the sentinel stored it, ISO-8601 UTC. */
  detectedAt: z.iso.datetime(),
};

/**
 * Fact: the sentinel found an anomaly in a stored bar and stored it as a DataQualityEvent (status `open`). The
 * envelope id equals `id`, so a redelivered ingest never publishes a second copy. `probable_split` events are
 * proposals: webhooks do not page them.
 */
export const AnomalyDetectedV1 = defineEvent({
  subject: 'dataquality.evt.anomaly.detected.v1',
  description:
    'The data-quality sentinel stored a DataQualityEvent for an anomalous bar (scores, severity, reason, model versions).',
  schema: z.object(DetectedAnomalyShape),
});
/** Payload of {@link AnomalyDetectedV1}. */
export type AnomalyDetected = z.infer<typeof AnomalyDetectedV1.schema>;

/** A stored DataQualityEvent (`GET /data-quality/events/{id}`): the detected anomaly plus its status history. */
export const DataQualityEventDtoSchema = z.object({
  ...DetectedAnomalyShape,
  status: DataQualityStatusSchema,
  acknowledgedAt: z.iso.datetime().nullable(),
  acknowledgedBy: StatusActorSchema.nullable(),
  acknowledgeNote: z.string().nullable(),
  resolvedAt: z.iso.datetime().nullable(),
  resolvedBy: StatusActorSchema.nullable(),
  resolveNote: z.string().nullable(),
});
/** See {@link DataQualityEventDtoSchema}. */
export type DataQualityEventDto = z.infer<typeof DataQualityEventDtoSchema>;

/**
 * Query of `GET /data-quality/events`: filters ANDed; `from`/`to` bound the BAR time (inclusive); newest bar first.
 * `severity` matches exactly; `minSeverity` keeps that severity and above.
 */
export const DataQualityEventsQuerySchema = z.object({
  symbol: SymbolSchema.optional(),
  timeframe: TimeframeSchema.optional(),
  severity: DataQualitySeveritySchema.optional(),
  minSeverity: DataQualitySeveritySchema.optional(),
  status: DataQualityStatusSchema.optional(),
  kind: AnomalyKindSchema.optional(),
  from: InstantQuerySchema.optional(),
  to: InstantQuerySchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: PageCursorSchema.optional(),
});
/** See {@link DataQualityEventsQuerySchema}. */
export type DataQualityEventsQuery = z.output<typeof DataQualityEventsQuerySchema>;

/** Page of `GET /data-quality/events`. */
export const DataQualityEventsPageSchema = z.object({
  items: z.array(DataQualityEventDtoSchema),
  nextCursor: z.string().nullable(),
});

/** Body of `POST /data-quality/events/{id}/ack` and `/resolve`: an optional note (≤ 2,000 characters). */
export const DataQualityTransitionBodySchema = z.object({ note: nonBlankText(2000).optional() }).strict();
/** See {@link DataQualityTransitionBodySchema}. */
export type DataQualityTransitionBody = z.output<typeof DataQualityTransitionBodySchema>;

/** Query of `GET /dashboard/data-quality`: the DETECTION-time window (default: the last 7 days up to now). */
export const DataQualitySummaryQuerySchema = z.object({
  from: InstantQuerySchema.optional(),
  to: InstantQuerySchema.optional(),
  /** Recent alerts listed (default 20). */
  recent: z.coerce.number().int().min(0).max(200).default(20),
});
/** See {@link DataQualitySummaryQuerySchema}. */
export type DataQualitySummaryQuery = z.output<typeof DataQualitySummaryQuerySchema>;

/** The DataQualitySummary dashboard panel (`GET /dashboard/data-quality`): every figure over the detection window. */
export const DataQualitySummarySchema = z.object({
  window: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }),
  total: z.number().int().nonnegative(),
  /** Newest detections first. */
  recentAlerts: z.array(DataQualityEventDtoSchema),
  bySeverity: z.object({
    LOW: z.number().int(),
    MEDIUM: z.number().int(),
    HIGH: z.number().int(),
    CRITICAL: z.number().int(),
  }),
  byStatus: z.object({ open: z.number().int(), acknowledged: z.number().int(), resolved: z.number().int() }),
  /** Events per symbol, most first. */
  bySymbol: z.array(z.object({ symbol: z.string(), count: z.number().int() })),
  /** Events per kind. */
  byKind: z.record(z.string(), z.number().int()),
  /** Events per driving detector: the detector with the highest score (ties: rules, isolation_forest, forecast_residual). */
  byDetector: z.object({
    rules: z.number().int(),
    isolation_forest: z.number().int(),
    forecast_residual: z.number().int(),
  }),
  /** Mean of acknowledgedAt − detectedAt over the window's acknowledged events (resolved-after-ack included), ms; null when none. */
  meanTimeToAcknowledgeMs: z.number().nonnegative().nullable(),
  /** Events acknowledged at some point (the sample of the mean). */
  acknowledgedCount: z.number().int().nonnegative(),
});
/** See {@link DataQualitySummarySchema}. */
export type DataQualitySummary = z.infer<typeof DataQualitySummarySchema>;

const WebhookUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);
/** Signing secret: 16–256 characters. Write-only: never returned by the API. */
const WebhookSecretSchema = z.string().min(16, 'the secret needs at least 16 characters').max(256);

/** Body of `POST /webhooks`. */
export const CreateWebhookBodySchema = z
  .object({
    url: WebhookUrlSchema,
    /** Lowest severity delivered (default HIGH). */
    minSeverity: DataQualitySeveritySchema.default('HIGH'),
    /** Only these symbols (empty or absent: every symbol). */
    symbols: z.array(SymbolSchema).max(1000).default([]),
    secret: WebhookSecretSchema,
    description: z.string().max(500).optional(),
    enabled: z.boolean().default(true),
  })
  .strict();
/** See {@link CreateWebhookBodySchema}. */
export type CreateWebhookBody = z.output<typeof CreateWebhookBodySchema>;

/** Body of `PATCH /webhooks/{id}`: any subset of the create fields (a new `secret` rotates it). */
export const UpdateWebhookBodySchema = z
  .object({
    url: WebhookUrlSchema.optional(),
    minSeverity: DataQualitySeveritySchema.optional(),
    symbols: z.array(SymbolSchema).max(1000).optional(),
    secret: WebhookSecretSchema.optional(),
    description: z.string().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' })
  .meta({ minProperties: 1 });
/** See {@link UpdateWebhookBodySchema}. */
export type UpdateWebhookBody = z.output<typeof UpdateWebhookBodySchema>;

/** A webhook subscription as served (the secret is never returned). */
export const WebhookSubscriptionDtoSchema = z.object({
  id: z.string(),
  url: z.string(),
  minSeverity: DataQualitySeveritySchema,
  symbols: z.array(z.string()),
  description: z.string().nullable(),
  enabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  createdBy: z.string().nullable(),
});
/** See {@link WebhookSubscriptionDtoSchema}. */
export type WebhookSubscriptionDto = z.infer<typeof WebhookSubscriptionDtoSchema>;

/** States of a delivery: waiting for its (next) attempt, in flight, delivered (2xx), or given up (`dead`). */
export const WebhookDeliveryStatusSchema = z.enum(['pending', 'in_flight', 'succeeded', 'dead']);
/** See {@link WebhookDeliveryStatusSchema}. */
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatusSchema>;

/** One webhook delivery (an event to a subscription) with its attempt history summary. */
export const WebhookDeliveryDtoSchema = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  eventId: z.string(),
  /** Subject sent in `Strata-Event`. */
  subject: z.string(),
  status: WebhookDeliveryStatusSchema,
  /** Attempts made so far (a redelivery keeps counting). */
  attempts: z.number().int().nonnegative(),
  /** Attempts allowed before `dead` (reset window after a redelivery). */
  maxAttempts: z.number().int().positive(),
  /** `Strata-Idempotency-Key`: `<event id>:<subscription id>`, the same on every attempt and redelivery. */
  idempotencyKey: z.string(),
  nextAttemptAt: z.iso.datetime().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.iso.datetime().nullable(),
  deliveredAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
});
/** See {@link WebhookDeliveryDtoSchema}. */
export type WebhookDeliveryDto = z.infer<typeof WebhookDeliveryDtoSchema>;

/** Query of `GET /webhooks/{id}/deliveries` (newest first). */
export const WebhookDeliveriesQuerySchema = z.object({
  status: WebhookDeliveryStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: PageCursorSchema.optional(),
});
/** See {@link WebhookDeliveriesQuerySchema}. */
export type WebhookDeliveriesQuery = z.output<typeof WebhookDeliveriesQuerySchema>;

/** Query of `GET /webhooks`. */
export const WebhooksQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: PageCursorSchema.optional(),
});
