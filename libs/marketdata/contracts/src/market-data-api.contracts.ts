import { z } from 'zod';
import { defineEvent, PageCursorSchema } from '@strata/platform-contracts';
import { SymbolSchema, TimeframeSchema } from './marketdata.contracts';

/**
 * How served bars are adjusted for corporate actions (backward adjustment: the latest bar is never changed).
 * - `raw`: prices and volume exactly as ingested.
 * - `split`: prices divided by, volume multiplied by, the product of the split ratios of every split whose
 *   ex-date is after the bar.
 * - `total`: `split`, then prices multiplied by the CRSP-style dividend factors `(1 − dividend / prevClose)` of
 *   every dividend whose ex-date is after the bar (volume is not dividend-adjusted).
 */
export const AdjustmentSchema = z.enum(['raw', 'split', 'total']);
/** See {@link AdjustmentSchema}. */
export type Adjustment = z.infer<typeof AdjustmentSchema>;

/**
 * A calendar date `YYYY-MM-DD` (an ex-date: the first trading day without the entitlement). JSON Schema `format:
 * date` with a pattern that admits exactly the real calendar dates (leap years included), as the server checks.
 */
export const IsoDateSchema = z.iso.date({ message: 'expected a calendar date YYYY-MM-DD' });

/**
 * An instant in a query string or body: `YYYY-MM-DD` (00:00 UTC of that date) or an RFC 3339 date-time with `Z` or
 * an offset (`2024-03-01T14:30:00Z`, `2024-03-01T09:30:00.5-05:00`). Parses to epoch milliseconds UTC. In JSON
 * Schema: `anyOf` `format: date` / `format: date-time`, each with the pattern the server applies.
 */
export const InstantQuerySchema = z
  .union([IsoDateSchema, z.iso.datetime({ offset: true })], {
    error: 'expected YYYY-MM-DD or an RFC 3339 date-time with Z or an offset',
  })
  .transform((s) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s));

/** A split: `newShares` for `oldShares` (7:1 → 7 and 1; a 1-for-10 reverse split → 1 and 10). */
export const SplitActionSchema = z.object({
  kind: z.literal('split'),
  symbol: SymbolSchema,
  exDate: IsoDateSchema,
  /** Whole shares: at most a million for one (a split ratio beyond that is a data error, and cannot be stored). */
  newShares: z.number().int().min(1).max(1_000_000),
  oldShares: z.number().int().min(1).max(1_000_000),
});

/** A cash dividend per share, in the bar price currency, as paid on its ex-date (not split-adjusted). */
export const DividendActionSchema = z.object({
  kind: z.literal('dividend'),
  symbol: SymbolSchema,
  exDate: IsoDateSchema,
  /** Per share, in the bar price currency: positive, at most 1e9. */
  amount: z.number().positive().max(1e9),
});

/** A corporate action: a split (incl. reverse splits) or a cash dividend. Natural key: symbol, kind, exDate. */
export const CorporateActionSchema = z.discriminatedUnion('kind', [SplitActionSchema, DividendActionSchema]);
/** See {@link CorporateActionSchema}. */
export type CorporateAction = z.infer<typeof CorporateActionSchema>;

/** Body of `POST /market-data/corporate-actions`. */
export const RecordCorporateActionsBodySchema = z.object({
  actions: z.array(CorporateActionSchema).min(1).max(10_000),
});
/** See {@link RecordCorporateActionsBodySchema}. */
export type RecordCorporateActionsBody = z.infer<typeof RecordCorporateActionsBodySchema>;

/** Answer of `POST /market-data/corporate-actions`: counts by outcome and the symbols whose adjusted bars changed. */
export const RecordCorporateActionsResultSchema = z.object({
  inserted: z.number().int().nonnegative(),
  /** Actions whose natural key existed with other values; the new values replace them. */
  updated: z.number().int().nonnegative(),
  /** Actions identical to stored ones (no-op). */
  unchanged: z.number().int().nonnegative(),
  /** Symbols whose adjusted bars changed; a `marketdata.evt.corporate-actions.recorded.v1` went out for each. */
  symbolsChanged: z.array(z.string()),
});
export type RecordCorporateActionsResult = z.infer<typeof RecordCorporateActionsResultSchema>;

/** Query of `GET /market-data/bars`. Cursors are opaque; pass `nextCursor` back unchanged with the same filters. */
export const BarsQuerySchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  from: InstantQuerySchema.optional(),
  to: InstantQuerySchema.optional(),
  adjust: AdjustmentSchema.default('raw'),
  limit: z.coerce.number().int().min(1).max(100_000).default(1000),
  cursor: PageCursorSchema.optional(),
});
export type BarsQuery = z.output<typeof BarsQuerySchema>;

/** One bar as served by `GET /market-data/bars` (JSON). `ts` is the bar start, ISO-8601 UTC. */
export const BarDtoSchema = z.object({
  ts: z.iso.datetime(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
  adjClose: z.number().nullable(),
});
export type BarDto = z.infer<typeof BarDtoSchema>;

/** JSON page of `GET /market-data/bars`. */
export const BarsPageSchema = z.object({
  symbol: z.string(),
  timeframe: TimeframeSchema,
  adjust: AdjustmentSchema,
  items: z.array(BarDtoSchema),
  nextCursor: z.string().nullable(),
});
export type BarsPage = z.infer<typeof BarsPageSchema>;

/** Query of `GET /market-data/symbols`. */
export const SymbolsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: PageCursorSchema.optional(),
});

/** One stored series: a symbol and timeframe with its range and bar count. */
export const SymbolSeriesSchema = z.object({
  symbol: z.string(),
  timeframe: TimeframeSchema,
  bars: z.number().int().nonnegative(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
});
export type SymbolSeries = z.infer<typeof SymbolSeriesSchema>;

/** Page of `GET /market-data/symbols`: one item per (symbol, timeframe), ordered by symbol then timeframe. */
export const SymbolsPageSchema = z.object({ items: z.array(SymbolSeriesSchema), nextCursor: z.string().nullable() });
export type SymbolsPage = z.infer<typeof SymbolsPageSchema>;

const BarValuesSchema = z.object({
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
  adjClose: z.number().nullable(),
});

/** Audit record of one corrected bar: the values before and after, which ingestions wrote them, and when. */
export const BarCorrectionSchema = z.object({
  symbol: z.string(),
  timeframe: TimeframeSchema,
  /** Bar start, ISO-8601 UTC. */
  ts: z.iso.datetime(),
  old: BarValuesSchema,
  new: BarValuesSchema,
  /** Ingestion that had written the old values (null when unknown). */
  oldIngestionId: z.string().nullable(),
  /** Ingestion that wrote the new values. */
  ingestionId: z.string(),
  /** ISO-8601 UTC. */
  correctedAt: z.iso.datetime(),
});
export type BarCorrection = z.infer<typeof BarCorrectionSchema>;

/** Query of `GET /market-data/corrections`. */
export const CorrectionsQuerySchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

/** Fact: stored bars were replaced by corrected values; the old values are in the `bar_corrections` audit table. */
export const BarsCorrectedV1 = defineEvent({
  subject: 'marketdata.evt.bars.corrected.v1',
  description:
    'Stored bars were replaced by corrected values (old values audited); consumers recompute from `from` on.',
  schema: z.object({
    ingestionId: z.string(),
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    /** Number of bars corrected. */
    corrected: z.number().int().positive(),
    /** Earliest corrected bar, ISO-8601 UTC. */
    from: z.iso.datetime(),
    /** Latest corrected bar, ISO-8601 UTC. */
    to: z.iso.datetime(),
  }),
});

/**
 * Fact: corporate actions of a symbol were recorded or changed. Adjusted bars of the symbol changed before
 * `latestExDate` (backward adjustment rescales the whole history before an ex-date), so consumers of adjusted bars
 * recompute the symbol's series.
 */
export const CorporateActionsRecordedV1 = defineEvent({
  subject: 'marketdata.evt.corporate-actions.recorded.v1',
  description: 'Splits or dividends of a symbol were recorded or changed; adjusted bars before the ex-dates changed.',
  schema: z.object({
    symbol: SymbolSchema,
    actions: z.array(z.object({ kind: z.enum(['split', 'dividend']), exDate: IsoDateSchema })).min(1),
    /** Latest ex-date among the changed actions (`YYYY-MM-DD`): adjusted bars before it changed. */
    latestExDate: IsoDateSchema,
  }),
});
