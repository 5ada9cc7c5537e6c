import { z } from 'zod';
import { defineEvent, PageCursorSchema } from '@strata/platform-contracts';
import { FeatureSetNameSchema, InstantQuerySchema, SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';

// Defined in marketdata-contracts (the MarketDataReader port reads feature windows); one definition, re-exported here.
export {
  FeatureDtoSchema,
  FeatureSetNameSchema,
  FeatureSetVersionSchema,
  QualityFilterSchema,
  type FeatureSetVersion,
  type QualityFilter,
} from '@strata/marketdata-contracts';

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
  cursor: PageCursorSchema.optional(),
});
export type FeaturesQuery = z.output<typeof FeaturesQuerySchema>;

/** A row of `GET /features`: `symbol`, `ts` (bar start, ISO-8601 UTC), then one number-or-null per feature. */
export type FeatureRowDto = { symbol: string; ts: string } & Record<string, string | number | null>;

/** Page of `GET /features`. */
export const FeaturesPageSchema = z.object({
  items: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))),
  nextCursor: z.string().nullable(),
});
