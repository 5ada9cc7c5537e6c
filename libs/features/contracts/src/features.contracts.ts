import { z } from 'zod';
import { defineEvent } from '@strata/platform-contracts';
import { InstantQuerySchema, SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';

/** Feature-set names: lower-case snake case, 1–48 characters (`core`). */
export const FeatureSetNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,47}$/, 'feature-set names are lower-case snake case');

/** Fact: a feature set was (re)materialised for one series over `[from, to]`. */
export const FeatureSetRefreshedV1 = defineEvent({
  subject: 'features.evt.set.refreshed.v1',
  description: 'Feature values of one feature-set version were recomputed for a symbol and timeframe over [from, to].',
  schema: z.object({
    set: FeatureSetNameSchema,
    version: z.number().int().positive(),
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    /** First recomputed bar, ISO-8601 UTC. */
    from: z.iso.datetime(),
    /** Last recomputed bar, ISO-8601 UTC. */
    to: z.iso.datetime(),
    /** Rows written. */
    rows: z.number().int().nonnegative(),
    /** Lineage record of this materialisation. */
    materialisationId: z.string().optional(),
    /** What triggered it. */
    reason: z.enum(['bars_ingested', 'bars_corrected', 'corporate_actions', 'backfill']).optional(),
  }),
});

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
export type FeatureSetVersion = z.infer<typeof FeatureSetVersionSchema>;

/** Item of `GET /features/sets`. */
export const FeatureSetSummarySchema = z.object({
  name: z.string(),
  versions: z.array(z.number().int().positive()),
  latestVersion: z.number().int().positive(),
});
export type FeatureSetSummary = z.infer<typeof FeatureSetSummarySchema>;

/** Query of `GET /features`. `version` defaults to the latest registered version of `set`. */
export const FeaturesQuerySchema = z.object({
  set: FeatureSetNameSchema.default('core'),
  version: z.coerce.number().int().positive().optional(),
  symbol: SymbolSchema,
  timeframe: TimeframeSchema.default('1d'),
  from: InstantQuerySchema.optional(),
  to: InstantQuerySchema.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  cursor: z.string().max(200).optional(),
});
export type FeaturesQuery = z.output<typeof FeaturesQuerySchema>;

/** A row of `GET /features`: `symbol`, `ts` (bar start, ISO-8601 UTC), then one number-or-null per feature. */
export type FeatureRowDto = { symbol: string; ts: string } & Record<string, string | number | null>;

/** Page of `GET /features`. */
export const FeaturesPageSchema = z.object({
  items: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
  nextCursor: z.string().nullable(),
});

/**
 * How training datasets and backtests treat bars the data-quality sentinel flagged: `include` (default) uses every
 * bar as stored; `exclude` leaves out bars with an unresolved flag (open or acknowledged).
 */
export const QualityFilterSchema = z.enum(['include', 'exclude']);
/** See {@link QualityFilterSchema}. */
export type QualityFilter = z.infer<typeof QualityFilterSchema>;
