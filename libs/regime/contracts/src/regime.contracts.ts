import { z } from 'zod';
import { defineCommand, defineEvent, PageCursorSchema } from '@strata/platform-contracts';
import { InstantQuerySchema, SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';
import { HmmRegimeLabelSchema } from './regime-labels';

/** Model version of one series: `<n>` counts the fits of (symbol, timeframe) from 1; each refit is a new version. */
export const RegimeModelVersionSchema = z.number().int().positive();

/** What started a fit: the first bars of a series, the schedule, a fall of the predictive log-likelihood, an operator. */
export const RegimeRefitTriggerSchema = z.enum(['initial', 'schedule', 'likelihood', 'operator']);
/** See {@link RegimeRefitTriggerSchema}. */
export type RegimeRefitTrigger = z.infer<typeof RegimeRefitTriggerSchema>;

/** One named state of a model version, annualised (mean log return and volatility × periods per year / √). */
export const RegimeStateSummarySchema = z.object({
  label: HmmRegimeLabelSchema,
  /** Mean log return × periods per year (fraction per year). */
  annualisedMean: z.number(),
  /** Standard deviation of the log return × √(periods per year) (fraction per year). */
  annualisedVol: z.number(),
  /** Expected stay 1 / (1 − P[i][i]), bars. */
  expectedDurationBars: z.number(),
});
/** See {@link RegimeStateSummarySchema}. */
export type RegimeStateSummaryDto = z.infer<typeof RegimeStateSummarySchema>;

/**
 * A regime record as served: the FILTERED state of one series as of one bar under one model version (bars up to
 * `asOf` only). Records are append-only: a served record is never rewritten.
 */
export const RegimeRecordDtoSchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  modelVersion: RegimeModelVersionSchema,
  /** The bar this state is as of, ISO-8601 UTC. */
  asOf: z.iso.datetime(),
  /** The most probable state's name (never a state number). */
  label: HmmRegimeLabelSchema,
  /** Bar since which `label` has held, ISO-8601 UTC. */
  since: z.iso.datetime(),
  /** P(state | bars up to `asOf`), by state name. */
  probabilities: z.partialRecord(HmmRegimeLabelSchema, z.number().min(0).max(1)),
  /** Transition matrix of the model version, rows in label order: `transition[i].row[j]` = P(next j | now i). */
  transition: z.array(z.object({ from: HmmRegimeLabelSchema, row: z.array(z.number()) })),
  /** Each state's annualised mean and volatility. */
  states: z.array(RegimeStateSummarySchema),
  /** Last bar of the model version's fit sample, ISO-8601 UTC. */
  lastBarFitted: z.iso.datetime(),
  /** log p(this bar's observation | earlier ones) under the model. */
  predictiveLogLik: z.number(),
  /** When the service wrote the record, ISO-8601 UTC. */
  recordedAt: z.iso.datetime(),
});
/** See {@link RegimeRecordDtoSchema}. */
export type RegimeRecordDto = z.infer<typeof RegimeRecordDtoSchema>;

/** Query of `GET /market-data/regime`. */
export const RegimeQuerySchema = z.object({ symbol: SymbolSchema, timeframe: TimeframeSchema.default('1d') });
/** See {@link RegimeQuerySchema}. */
export type RegimeQuery = z.output<typeof RegimeQuerySchema>;

/**
 * Answer of `GET /market-data/regime`: the latest cached record, the series' latest stored bar the service has seen,
 * and whether the record lags it (`stale`: the service was told of bars newer than the record's `asOf`).
 */
export const RegimeCurrentDtoSchema = RegimeRecordDtoSchema.extend({
  /** The newest bar of the series the service was told about (bars ingested), ISO-8601 UTC. */
  latestBar: z.iso.datetime(),
  /** `asOf` is older than `latestBar` (the regime has not caught up yet). */
  stale: z.boolean(),
});
/** See {@link RegimeCurrentDtoSchema}. */
export type RegimeCurrentDto = z.infer<typeof RegimeCurrentDtoSchema>;

/** Query of `GET /market-data/regime/history`: bounds on `asOf` (inclusive), ascending, cursor-paginated. */
export const RegimeHistoryQuerySchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema.default('1d'),
  from: InstantQuerySchema.optional(),
  to: InstantQuerySchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  cursor: PageCursorSchema.optional(),
});
/** See {@link RegimeHistoryQuerySchema}. */
export type RegimeHistoryQuery = z.output<typeof RegimeHistoryQuerySchema>;

/** Page of `GET /market-data/regime/history` (ascending `asOf`). */
export const RegimeHistoryPageSchema = z.object({
  items: z.array(RegimeRecordDtoSchema),
  nextCursor: z.string().nullable(),
});
/** See {@link RegimeHistoryPageSchema}. */
export type RegimeHistoryPage = z.infer<typeof RegimeHistoryPageSchema>;

/** Body of `POST /market-data/regime/models` (operator): refit one series. */
export const RegimeRefitBodySchema = z
  .object({ symbol: SymbolSchema, timeframe: TimeframeSchema.default('1d') })
  .strict();
/** See {@link RegimeRefitBodySchema}. */
export type RegimeRefitBody = z.output<typeof RegimeRefitBodySchema>;

/** Status of a model version. */
export const RegimeModelStatusSchema = z.enum(['queued', 'ready', 'failed']);

/** A model version as served (202 of `POST /market-data/regime/models`). */
export const RegimeModelDtoSchema = z.object({
  symbol: SymbolSchema,
  timeframe: TimeframeSchema,
  modelVersion: RegimeModelVersionSchema,
  status: RegimeModelStatusSchema,
  trigger: RegimeRefitTriggerSchema,
  requestedAt: z.iso.datetime(),
  /** Last bar of the fit sample, ISO-8601 UTC (null until fitted). */
  lastBarFitted: z.iso.datetime().nullable(),
  /** 2 or 3 (null until fitted). */
  states: z.number().int().min(2).max(3).nullable(),
  /** Why the fit failed (status `failed`). */
  error: z.string().nullable(),
});
/** See {@link RegimeModelDtoSchema}. */
export type RegimeModelDto = z.infer<typeof RegimeModelDtoSchema>;

/** Fact: the filtered regime label of a series changed (first label included, `previousLabel` null). */
export const RegimeStateChangedV1 = defineEvent({
  subject: 'regime.evt.state.changed.v1',
  description:
    "A series' filtered regime label changed as of a bar (forward pass, bars up to that bar only); once per (series, model version, bar).",
  schema: z.object({
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    modelVersion: RegimeModelVersionSchema,
    /** The bar of the change, ISO-8601 UTC. */
    asOf: z.iso.datetime(),
    label: HmmRegimeLabelSchema,
    /** The label before, null for the first label of the series. */
    previousLabel: HmmRegimeLabelSchema.nullable(),
    /** P(state | bars up to `asOf`), by state name. */
    probabilities: z.partialRecord(HmmRegimeLabelSchema, z.number().min(0).max(1)),
  }),
});

/** Command (work queue): fit model version `modelVersion` of a series on its bars so far. */
export const RefitRegimeCommandV1 = defineCommand({
  subject: 'regime.cmd.refit.v1',
  description:
    'Fit a new regime model version of one series on its stored bars (Gaussian HMM, 2 or 3 states by BIC, states named by volatility and matched to the previous version).',
  schema: z.object({
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    modelVersion: RegimeModelVersionSchema,
    trigger: RegimeRefitTriggerSchema,
    requestedAt: z.iso.datetime(),
  }),
});

/**
 * Command (request/reply): the filtered regime history of a series over `[from, to]` (epoch ms UTC, inclusive), as
 * served: one record per bar, each computed from bars up to it only. Backtests read it as of each bar.
 */
export const ReadRegimeHistoryCommandV1 = defineCommand({
  subject: 'regime.cmd.read.history.v1',
  description: 'Read the filtered (as-of) regime history of one series over [from, to]; replies with the records.',
  schema: z.object({
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    from: z.number().optional(),
    to: z.number().optional(),
  }),
  reply: z.object({
    points: z.array(
      z.object({
        /** Bar time, epoch ms UTC. */
        time: z.number(),
        label: HmmRegimeLabelSchema,
        modelVersion: RegimeModelVersionSchema,
        /** P(state | bars up to `time`), by state name. */
        probabilities: z.partialRecord(HmmRegimeLabelSchema, z.number().min(0).max(1)),
      }),
    ),
  }),
});

/** Reply of `regime.cmd.read.history.v1`: the as-of regime points of a series, ascending. */
export type RegimeHistoryPoints = z.infer<NonNullable<typeof ReadRegimeHistoryCommandV1.reply>>;
