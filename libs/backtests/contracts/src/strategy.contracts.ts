import { z } from 'zod';
import { AdjustmentSchema, SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';
import { nonBlankText } from '@strata/platform-contracts';

/*
 * The strategy definition language (version 1): JSON rules over raw bars, stored features, indicators computed on the
 * fly and (once they exist) ML signals and regimes. Recursive parts carry a zod `id` so that the JSON Schema has named
 * definitions (`StrategyValue`, `StrategyCondition`) that OpenAPI and AsyncAPI documents hoist into components.
 *
 * Point-in-time by construction: every value at bar t reads bars 0..t only. The one way to address another bar is
 * `{ ref, bars }`, which reads `bars` bars BACK; `bars` < 0 (a future bar) is refused by the strategy validator with
 * reason `future_reference` (the schema accepts the integer so the refusal can name the reason).
 */

/** Name of a strategy parameter (`fast`, `slow_period`): referenced by `{ param }`, overridden per backtest. */
export const StrategyParamNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'parameter names are lower-case snake case, ≤ 32 characters');

/** A period: a positive integer number of bars, or a reference to a numeric parameter holding one. */
export const StrategyPeriodSchema = z.union([
  z.number().int().min(1).max(100_000),
  z.object({ param: StrategyParamNameSchema }).strict(),
]);
/** See {@link StrategyPeriodSchema}. */
export type StrategyPeriod = z.infer<typeof StrategyPeriodSchema>;

/** Bar fields a rule may read. */
export const BarFieldSchema = z.enum(['open', 'high', 'low', 'close', 'volume']);
/** See {@link BarFieldSchema}. */
export type BarField = z.infer<typeof BarFieldSchema>;

/**
 * Indicators computed on the fly from the strategy's (adjusted) bars; all are point-in-time, NaN during warm-up.
 * - `sma`, `ema` (TA-Lib seeding), `rsi` (Wilder), `roc` (percent), `stdev` (population, of the source),
 *   `zscore` ((x − SMA) / population std), `highest` / `lowest` (over the window INCLUDING bar t: use
 *   `{ ref: …, bars: 1 }` for a breakout over the previous n bars): over `source` (default the close);
 * - `atr` (Wilder, from high/low/close; takes no source); `rv` (annualised close-to-close volatility, sample std of
 *   log returns × √barsPerYear; takes no source).
 */
export const IndicatorNameSchema = z.enum([
  'sma',
  'ema',
  'rsi',
  'roc',
  'stdev',
  'zscore',
  'highest',
  'lowest',
  'atr',
  'rv',
]);
/** See {@link IndicatorNameSchema}. */
export type IndicatorName = z.infer<typeof IndicatorNameSchema>;

/** Arithmetic operators of {@link StrategyValue}. `div` by zero gives NaN (a comparison with NaN is false). */
export const ArithmeticOpSchema = z.enum(['add', 'sub', 'mul', 'div', 'min', 'max']);

/**
 * A numeric series, one value per bar of a symbol:
 * - `{ const }` / `{ param }`: a constant, or a strategy parameter;
 * - `{ bar }`: open, high, low, close or volume of the bar;
 * - `{ feature, set }`: a feature of a registered feature set (default set `core`), e.g. `rsi_14`;
 * - `{ signal }`, `{ regime }`: an ML signal score or a regime probability (refused as unknown until such models
 *   are registered);
 * - `{ indicator, period, source }`: see {@link IndicatorNameSchema};
 * - `{ ref, bars }`: the value `bars` ≥ 0 bars back (NaN before the first bar);
 * - `{ op, left, right }`: arithmetic.
 */
export type StrategyValue =
  | { const: number }
  | { param: string }
  | { bar: BarField }
  | { feature: string; set?: string }
  | { signal: string }
  | { regime: string }
  | { indicator: IndicatorName; period: StrategyPeriod; source?: StrategyValue }
  | { ref: StrategyValue; bars: number }
  | { op: z.infer<typeof ArithmeticOpSchema>; left: StrategyValue; right: StrategyValue };

/** Schema of {@link StrategyValue} (JSON Schema id `StrategyValue`). */
export const StrategyValueSchema: z.ZodType<StrategyValue> = z
  .union([
    z.object({ const: z.number().finite() }).strict(),
    z.object({ param: StrategyParamNameSchema }).strict(),
    z.object({ bar: BarFieldSchema }).strict(),
    z.object({ feature: z.string().min(1).max(64), set: z.string().min(1).max(48).optional() }).strict(),
    z.object({ signal: z.string().min(1).max(64) }).strict(),
    z.object({ regime: z.string().min(1).max(64) }).strict(),
    z
      .object({
        indicator: IndicatorNameSchema,
        period: StrategyPeriodSchema,
        get source(): z.ZodOptional<z.ZodType<StrategyValue>> {
          return StrategyValueSchema.optional();
        },
      })
      .strict(),
    z
      .object({
        get ref(): z.ZodType<StrategyValue> {
          return StrategyValueSchema;
        },
        bars: z
          .number()
          .int()
          .min(-100_000)
          .max(100_000)
          .describe('Bars back, ≥ 0; a negative value (a future bar) is refused with reason future_reference'),
      })
      .strict(),
    z
      .object({
        op: ArithmeticOpSchema,
        get left(): z.ZodType<StrategyValue> {
          return StrategyValueSchema;
        },
        get right(): z.ZodType<StrategyValue> {
          return StrategyValueSchema;
        },
      })
      .strict(),
  ])
  .meta({ id: 'StrategyValue', description: 'A numeric series evaluated per bar (point-in-time).' });

/** Comparison operators of {@link StrategyCondition}. */
export const ComparisonOpSchema = z.enum(['gt', 'gte', 'lt', 'lte', 'eq', 'ne']);

/**
 * A boolean series, one value per bar:
 * - `{ cmp, left, right }`: comparison at bar t (false when either side is NaN, e.g. during warm-up);
 * - `{ cross: 'above', left, right }`: `left[t] > right[t]` and `left[t−1] ≤ right[t−1]` (`below` mirrors it);
 * - `{ all }`, `{ any }`, `{ not }`: and / or / not.
 */
export type StrategyCondition =
  | { cmp: z.infer<typeof ComparisonOpSchema>; left: StrategyValue; right: StrategyValue }
  | { cross: 'above' | 'below'; left: StrategyValue; right: StrategyValue }
  | { all: StrategyCondition[] }
  | { any: StrategyCondition[] }
  | { not: StrategyCondition };

/** Schema of {@link StrategyCondition} (JSON Schema id `StrategyCondition`). */
export const StrategyConditionSchema: z.ZodType<StrategyCondition> = z
  .union([
    z.object({ cmp: ComparisonOpSchema, left: StrategyValueSchema, right: StrategyValueSchema }).strict(),
    z.object({ cross: z.enum(['above', 'below']), left: StrategyValueSchema, right: StrategyValueSchema }).strict(),
    z
      .object({
        get all(): z.ZodArray<z.ZodType<StrategyCondition>> {
          return z.array(StrategyConditionSchema).min(1).max(32);
        },
      })
      .strict(),
    z
      .object({
        get any(): z.ZodArray<z.ZodType<StrategyCondition>> {
          return z.array(StrategyConditionSchema).min(1).max(32);
        },
      })
      .strict(),
    z
      .object({
        get not(): z.ZodType<StrategyCondition> {
          return StrategyConditionSchema;
        },
      })
      .strict(),
  ])
  .meta({ id: 'StrategyCondition', description: 'A boolean series evaluated per bar (point-in-time).' });

/**
 * Position sizing, decided at the close of the decision bar from the equity at that close:
 * - `fixed_fraction`: target notional = `fraction` × equity;
 * - `fixed_notional`: target notional = `notional` (account currency);
 * - `volatility_target`: target notional = equity × min(`maxWeight`, `annualVol` / σ) / maxPositions, σ being the
 *   annualised close-to-close volatility over `lookback` bars up to the decision bar (no position while σ is
 *   undefined).
 * Quantities are rounded down to the lot size of the execution settings.
 */
export const PositionSizingSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('fixed_fraction'),
      fraction: z.number().positive().max(10).describe('Fraction of equity per position'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('fixed_notional'),
      notional: z.number().positive().finite().describe('Account currency per position'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('volatility_target'),
      annualVol: z
        .number()
        .positive()
        .max(5)
        .describe('Target annualised volatility per position (fraction, 0.1 = 10%)'),
      lookback: z.number().int().min(2).max(1000).default(20),
      maxWeight: z.number().positive().max(10).default(1).describe('Cap of annualVol/σ (a leverage cap per position)'),
    })
    .strict(),
]);
/** See {@link PositionSizingSchema}. */
export type PositionSizing = z.output<typeof PositionSizingSchema>;

/**
 * Exits that rest in the market as stop / limit orders from the fill of the entry (fractions of the entry price):
 * stop-loss at entry × (1 ∓ stopLoss), take-profit at entry × (1 ± takeProfit), trailing stop at the best high (long)
 * or low (short) of the bars since entry × (1 ∓ trailingStop). Checked against each bar's high/low; a gap through the
 * level fills at the open. If a bar reaches both a stop and the take-profit, the stop is assumed first.
 */
export const RiskRulesSchema = z
  .object({
    stopLoss: z.number().positive().lt(1).optional(),
    takeProfit: z.number().positive().max(100).optional(),
    trailingStop: z.number().positive().lt(1).optional(),
  })
  .strict();
/** See {@link RiskRulesSchema}. */
export type RiskRules = z.infer<typeof RiskRulesSchema>;

/**
 * When new positions are opened and held positions are resized: every bar, or at the first bar of each ISO week
 * (Monday-based, UTC) or calendar month (UTC). Exit rules and resting stops are checked at every bar regardless.
 * `resize`: on rebalancing bars, trade held positions back to their target size when they are off by more than
 * `resizeThreshold` (fraction of the target).
 */
export const RebalanceSchema = z
  .object({
    every: z.enum(['bar', 'week', 'month']).default('bar'),
    resize: z.boolean().default(false),
    resizeThreshold: z.number().min(0).max(1).default(0.05),
  })
  .strict();

/** The strategy definition, schema version 1. */
export const StrategyDefinitionV1Schema = z
  .object({
    schemaVersion: z.literal(1).default(1),
    universe: z
      .object({
        symbols: z
          .array(SymbolSchema)
          .min(1)
          .max(100)
          // A symbol listed twice (`SPY`, `spy`: symbols are upper-cased) is one symbol of the universe.
          .transform((s) => [...new Set(s)]),
        timeframe: TimeframeSchema.default('1d'),
        /** Bars the rules and fills use; `total` (splits and dividends) by default, as the `core` features. */
        adjust: AdjustmentSchema.default('total'),
        /** Benchmark symbol for beta and alpha (default none). */
        benchmark: SymbolSchema.optional(),
      })
      .strict(),
    direction: z.enum(['long', 'short', 'both']).default('long'),
    /** Default values of the parameters `{ param }` refers to; a backtest may override them. */
    params: z.record(StrategyParamNameSchema, z.number().finite()).default({}),
    /** Open a position when the condition holds at a decision bar's close (and the position is flat). */
    entry: z.object({ long: StrategyConditionSchema.optional(), short: StrategyConditionSchema.optional() }).strict(),
    /** Close the position when the condition holds at a bar's close. */
    exit: z
      .object({ long: StrategyConditionSchema.optional(), short: StrategyConditionSchema.optional() })
      .strict()
      .default({}),
    sizing: PositionSizingSchema,
    risk: RiskRulesSchema.default({}),
    /** Most positions open (or being opened) at once; default: one per symbol. New entries beyond it are skipped. */
    maxPositions: z.number().int().min(1).max(1000).optional(),
    rebalance: RebalanceSchema.default({ every: 'bar', resize: false, resizeThreshold: 0.05 }),
  })
  .strict()
  .meta({
    id: 'StrategyDefinitionV1',
    description: 'A strategy: universe, entry/exit rules, sizing, risk rules (schema version 1).',
  });
/** A parsed strategy definition (defaults applied). */
export type StrategyDefinition = z.output<typeof StrategyDefinitionV1Schema>;
/** A strategy definition as written by a client (defaults optional). */
export type StrategyDefinitionInput = z.input<typeof StrategyDefinitionV1Schema>;

/** Strategy names: 1–120 printable characters. */
export const StrategyNameSchema = nonBlankText(120);

/** Body of `POST /strategies`. */
export const CreateStrategyBodySchema = z
  .object({
    name: StrategyNameSchema,
    description: z.string().max(4000).default(''),
    definition: StrategyDefinitionV1Schema,
  })
  .strict();
/** See {@link CreateStrategyBodySchema}. */
export type CreateStrategyBody = z.output<typeof CreateStrategyBodySchema>;

/** Body of `PUT /strategies/{id}`: a new version (and optionally a new name/description). */
export const UpdateStrategyBodySchema = z
  .object({
    name: StrategyNameSchema.optional(),
    description: z.string().max(4000).optional(),
    definition: StrategyDefinitionV1Schema,
    /** Optimistic concurrency: the version the client edited; 409 when another version was saved since. */
    baseVersion: z.number().int().positive().optional(),
    /** Free text stored with the version. */
    note: z.string().max(1000).optional(),
  })
  .strict();
/** See {@link UpdateStrategyBodySchema}. */
export type UpdateStrategyBody = z.output<typeof UpdateStrategyBodySchema>;

/** Body of `POST /strategies/from-template`. */
export const CreateStrategyFromTemplateBodySchema = z
  .object({
    template: z.string().min(1).max(64),
    name: StrategyNameSchema.optional(),
    /** Replaces the template's universe symbols. */
    symbols: z.array(SymbolSchema).min(1).max(100).optional(),
    /** Overrides of the template's parameters. */
    params: z.record(StrategyParamNameSchema, z.number().finite()).optional(),
  })
  .strict();
/** See {@link CreateStrategyFromTemplateBodySchema}. */
export type CreateStrategyFromTemplateBody = z.output<typeof CreateStrategyFromTemplateBodySchema>;

/** One saved version of a strategy. Immutable. */
export const StrategyVersionDtoSchema = z.object({
  strategyId: z.string(),
  version: z.number().int().positive(),
  definition: StrategyDefinitionV1Schema,
  /** SHA-256 of the canonical definition JSON. */
  definitionHash: z.string(),
  note: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
/** See {@link StrategyVersionDtoSchema}. */
export type StrategyVersionDto = z.output<typeof StrategyVersionDtoSchema>;

/** A strategy with its latest version. */
export const StrategyDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  latestVersion: z.number().int().positive(),
  /** Template it was created from, if any. */
  template: z.string().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  latest: StrategyVersionDtoSchema,
});
/** See {@link StrategyDtoSchema}. */
export type StrategyDto = z.output<typeof StrategyDtoSchema>;

/** A template shipped with the platform. */
export const StrategyTemplateDtoSchema = z.object({
  name: z.string(),
  title: z.string(),
  description: z.string(),
  definition: StrategyDefinitionV1Schema,
});
/** See {@link StrategyTemplateDtoSchema}. */
export type StrategyTemplateDto = z.output<typeof StrategyTemplateDtoSchema>;
