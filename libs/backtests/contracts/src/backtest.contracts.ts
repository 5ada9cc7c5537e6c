import { z } from 'zod';
import { defineCommand, defineEvent, PageCursorSchema } from '@strata/platform-contracts';
import { QualityFilterSchema } from '@strata/features-contracts';
import { InstantQuerySchema, SymbolSchema } from '@strata/marketdata-contracts';
import { StrategyDefinitionV1Schema, StrategyParamNameSchema } from './strategy.contracts';

/*
 * Backtest contracts: the run command, its progress / completion / failure events, the REST bodies and the result
 * document. The result schema is versioned (`resultSchemaVersion`); within version 1 only optional fields are added.
 */

/** Version of {@link BacktestResultV1Schema}; consumers (optimizer, forecasts, reports) check it. */
export const BACKTEST_RESULT_SCHEMA_VERSION = 1 as const;

/**
 * Slippage model: the fill price moves against the order by a fraction `s` of the reference price (open or close of
 * the fill bar):
 * - `fixed`: s = bps / 10⁴;
 * - `volume_impact`: s = bps / 10⁴ + impact × σ × (qty / barVolume)^0.5 (square-root impact law), σ being the standard
 *   deviation of one-bar log returns over `volLookback` bars up to the DECISION bar (known when the order is sent).
 */
export const SlippageModelSchema = z.discriminatedUnion('model', [
  z.object({ model: z.literal('fixed'), bps: z.number().min(0).max(10_000).default(0) }).strict(),
  z
    .object({
      model: z.literal('volume_impact'),
      bps: z.number().min(0).max(10_000).default(0),
      impact: z.number().min(0).max(100).default(1),
      volLookback: z.number().int().min(2).max(1000).default(20),
    })
    .strict(),
]);
/** See {@link SlippageModelSchema}. */
export type SlippageModel = z.output<typeof SlippageModelSchema>;

/**
 * How orders are executed and what they cost. A decision at the close of bar t is filled at the open of the symbol's
 * next bar t+1 (or at its close with `fillAt: 'close'`); resting stops fill inside the bar that reaches them.
 */
export const ExecutionSettingsSchema = z
  .object({
    fillAt: z.enum(['open', 'close']).default('open'),
    /** Commission per fill: `bps` of the filled notional plus `fixed` (account currency) when anything fills. */
    commission: z
      .object({ bps: z.number().min(0).max(10_000).default(0), fixed: z.number().min(0).default(0) })
      .strict()
      .default({ bps: 0, fixed: 0 }),
    slippage: SlippageModelSchema.default({ model: 'fixed', bps: 0 }),
    /** Borrow fee of short positions: annual bps of the short market value, accrued per calendar day. */
    borrow: z
      .object({ annualBps: z.number().min(0).max(100_000).default(0) })
      .strict()
      .default({ annualBps: 0 }),
    /**
     * Most of a bar's volume one fill may take (fraction, e.g. 0.1). The rest of the order is not filled: it is
     * recorded as unfilled (reason `volume`) and cancelled. Null: no cap.
     */
    maxParticipation: z.number().positive().max(1).nullable().default(null),
    /** Quantities are multiples of this (1 = whole shares; 1e-8 for crypto). */
    lotSize: z.number().positive().default(1),
    /** Cap on gross exposure / equity after any fill that adds exposure (1 = no leverage). */
    maxGrossLeverage: z.number().positive().max(100).default(1),
  })
  .strict();
/** See {@link ExecutionSettingsSchema}. */
export type ExecutionSettings = z.output<typeof ExecutionSettingsSchema>;

/** What every `POST /backtests` body may add to the strategy it names. */
const BacktestSettingsShape = {
  /** Parameter overrides (`params` of the definition). */
  params: z.record(StrategyParamNameSchema, z.number().finite()).optional(),
  /** First and last bar time to trade, `YYYY-MM-DD` or ISO-8601 UTC; indicators warm up on the bars before `from`. */
  from: InstantQuerySchema.optional(),
  to: InstantQuerySchema.optional(),
  initialCapital: z.number().positive().finite().default(100_000),
  execution: ExecutionSettingsSchema.default(ExecutionSettingsSchema.parse({})),
  /** Annual risk-free rate for Sharpe, Sortino and alpha (fraction). */
  riskFreeRate: z.number().min(-1).max(1).default(0),
  /** Look-ahead check (re-runs with the data after sampled decision points perturbed). */
  lookAheadCheck: z
    .object({ enabled: z.boolean().default(true), samples: z.number().int().min(1).max(500).default(24) })
    .strict()
    .default({ enabled: true, samples: 24 }),
  /** Bars the data-quality sentinel flagged: `exclude` runs without bars that have an unresolved flag. */
  qualityFilter: QualityFilterSchema.default('include'),
};

/**
 * Body of `POST /backtests`: exactly one of a saved strategy (`strategyId`, optional `strategyVersion`) and an inline
 * `definition`, with the same settings. The refinement and the JSON Schema state the rule together (`oneOf` of the
 * two `required` sets, `strategyVersion` only with `strategyId`), so the document says what the server checks.
 */
export const CreateBacktestBodySchema = z
  .object({
    strategyId: z.string().min(1).max(64).optional(),
    /** Default: the strategy's latest version. */
    strategyVersion: z.number().int().positive().optional(),
    definition: StrategyDefinitionV1Schema.optional(),
    ...BacktestSettingsShape,
  })
  .strict()
  .refine((b) => (b.strategyId === undefined) !== (b.definition === undefined), {
    message: 'give exactly one of strategyId and definition',
    path: ['strategyId'],
  })
  .refine((b) => b.strategyVersion === undefined || b.strategyId !== undefined, {
    message: 'strategyVersion needs strategyId',
    path: ['strategyVersion'],
  })
  .meta({
    oneOf: [{ required: ['strategyId'] }, { required: ['definition'] }],
    dependentRequired: { strategyVersion: ['strategyId'] },
  });
/** See {@link CreateBacktestBodySchema}. */
export type CreateBacktestBody = z.output<typeof CreateBacktestBodySchema>;

/** What the run command carries: everything a worker needs, the definition resolved and frozen. */
export const BacktestRunSpecSchema = z.object({
  strategy: z.object({ id: z.string(), version: z.number().int().positive(), name: z.string() }).nullable(),
  definition: StrategyDefinitionV1Schema,
  /** SHA-256 of the canonical definition JSON. */
  definitionHash: z.string(),
  params: z.record(z.string(), z.number()),
  /** Epoch ms UTC, inclusive; null = the first / last available bar. */
  from: z.number().nullable(),
  to: z.number().nullable(),
  initialCapital: z.number().positive(),
  execution: ExecutionSettingsSchema,
  riskFreeRate: z.number(),
  lookAheadCheck: z.object({ enabled: z.boolean(), samples: z.number().int().positive() }),
  qualityFilter: QualityFilterSchema.default('include'),
});
/** See {@link BacktestRunSpecSchema}. */
export type BacktestRunSpec = z.output<typeof BacktestRunSpecSchema>;

/** Command: run backtest `runId`. Idempotent: a run that already completed or failed is not run again. */
export const RunBacktestCommandV1 = defineCommand({
  subject: 'backtest.cmd.run.v1',
  description: 'Run backtest `runId` with the frozen spec; workers share the queue and claim the run before computing.',
  schema: z.object({ runId: z.string().min(1).max(64), spec: BacktestRunSpecSchema, requestedAt: z.iso.datetime() }),
});

/** Phases of a run, as reported by progress events. */
export const BacktestPhaseSchema = z.enum(['loading', 'signals', 'simulating', 'lookahead', 'persisting']);

/** Fact: a long run made progress (sent at most about once a second per run). */
export const BacktestRunProgressedV1 = defineEvent({
  subject: 'backtest.evt.run.progressed.v1',
  description: 'A backtest run made progress: phase and fraction done.',
  schema: z.object({
    runId: z.string(),
    phase: BacktestPhaseSchema,
    /** 0..1 within the whole run. */
    fraction: z.number().min(0).max(1),
    /** Symbol-bars simulated so far. */
    barsProcessed: z.number().int().nonnegative(),
    workerId: z.string(),
  }),
});

/** Headline figures of a finished run, carried by the completion event. */
export const BacktestHeadlineSchema = z.object({
  totalReturn: z.number().nullable(),
  annualReturn: z.number().nullable(),
  sharpe: z.number().nullable(),
  maxDrawdown: z.number().nullable(),
  trades: z.number().int().nonnegative(),
  finalEquity: z.number(),
});

/** Fact: a backtest run completed; the result is at `GET /backtests/{runId}`. Published once per run. */
export const BacktestRunCompletedV1 = defineEvent({
  subject: 'backtest.evt.run.completed.v1',
  description: 'A backtest run completed; its result document (resultSchemaVersion 1) is stored under runId.',
  schema: z.object({
    runId: z.string(),
    strategyId: z.string().nullable(),
    strategyVersion: z.number().int().positive().nullable(),
    resultSchemaVersion: z.literal(1),
    /** Hash of the simulated series and records: equal fingerprints = bit-identical results. */
    fingerprint: z.string(),
    headline: BacktestHeadlineSchema,
    lookAheadPassed: z.boolean().nullable(),
  }),
});

/** Reasons a run fails. */
export const BacktestFailureReasonSchema = z.enum(['invalid_strategy', 'no_data', 'invalid_data', 'internal']);

/** Fact: a backtest run failed for good (not retried). */
export const BacktestRunFailedV1 = defineEvent({
  subject: 'backtest.evt.run.failed.v1',
  description: 'A backtest run failed; the reason and detail are also on the run document.',
  schema: z.object({ runId: z.string(), reason: BacktestFailureReasonSchema, detail: z.string() }),
});

const nullableNumber = z.number().nullable();

/** Portfolio KPIs of a run (formulas: `@strata/backtests-domain` kpis.ts). Undefined values (e.g. no trades) are null. */
export const BacktestKpisSchema = z.object({
  totalReturn: nullableNumber,
  annualReturn: nullableNumber,
  volatility: nullableNumber,
  sharpe: nullableNumber,
  sortino: nullableNumber,
  calmar: nullableNumber,
  maxDrawdown: nullableNumber,
  /** Longest stretch below a previous equity peak: periods and calendar days. */
  maxDrawdownDurationPeriods: z.number().int().nonnegative(),
  maxDrawdownDurationDays: z.number().nonnegative(),
  winRate: nullableNumber,
  profitFactor: nullableNumber,
  averageTrade: nullableNumber,
  averageTradeReturn: nullableNumber,
  exposure: nullableNumber,
  averageGrossExposure: nullableNumber,
  turnover: nullableNumber,
  beta: nullableNumber,
  alpha: nullableNumber,
  periodsPerYear: z.number().positive(),
  periods: z.number().int().nonnegative(),
  trades: z.number().int().nonnegative(),
});
/** See {@link BacktestKpisSchema}. */
export type BacktestKpis = z.infer<typeof BacktestKpisSchema>;

/** A position still open at the end of the data, marked at the last close. */
export const OpenPositionSchema = z.object({
  symbol: SymbolSchema,
  quantity: z.number(),
  averagePrice: z.number(),
  lastPrice: z.number(),
  marketValue: z.number(),
  unrealisedPnl: z.number(),
});

/** One decision the look-ahead check saw change when later data was perturbed. */
export const LookAheadFindingSchema = z.object({
  decisionTs: z.iso.datetime(),
  symbol: z.string(),
  /** What changed: a signal (`entry_long`, `exit_short`, …) at or before the decision bar, or an order. */
  what: z.string(),
  /** Bar where the first difference appeared (ISO-8601 UTC). */
  atTs: z.iso.datetime(),
  baseline: z.string(),
  perturbed: z.string(),
});

/** Result of the look-ahead check. */
export const LookAheadReportSchema = z.object({
  passed: z.boolean(),
  decisionPointsChecked: z.number().int().nonnegative(),
  perturbationsPerPoint: z.number().int().nonnegative(),
  /** Findings (at most 50). */
  findings: z.array(LookAheadFindingSchema),
  changedDecisionPoints: z.number().int().nonnegative(),
});

/** The stored, versioned result of a completed run. Large series (equity, trades, orders) are paginated separately. */
export const BacktestResultV1Schema = z.object({
  resultSchemaVersion: z.literal(1),
  engineVersion: z.string(),
  fingerprint: z.string(),
  initialCapital: z.number(),
  finalEquity: z.number(),
  /** First and last timeline instant, ISO-8601 UTC. */
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  /** Timeline steps (equity points) and symbol-bars simulated. */
  periods: z.number().int().nonnegative(),
  barsProcessed: z.number().int().nonnegative(),
  kpis: BacktestKpisSchema,
  costs: z.object({ commission: z.number(), slippage: z.number(), borrow: z.number() }),
  counts: z.object({
    orders: z.number().int().nonnegative(),
    filledOrders: z.number().int().nonnegative(),
    /** Orders with an unfilled remainder (volume cap, leverage cap, end of data). */
    partiallyOrNotFilled: z.number().int().nonnegative(),
    trades: z.number().int().nonnegative(),
  }),
  openPositions: z.array(OpenPositionSchema),
  data: z.array(
    z.object({
      symbol: z.string(),
      bars: z.number().int().nonnegative(),
      from: z.iso.datetime().nullable(),
      to: z.iso.datetime().nullable(),
      adjust: z.string(),
    }),
  ),
  benchmark: z.string().nullable(),
  lookAhead: LookAheadReportSchema.nullable(),
  durationMs: z.number().nonnegative(),
  /** The model version each `{ signal: alias }` of the definition resolved to when the run started (absent: none). */
  signalModels: z.record(z.string(), z.object({ modelId: z.string(), featureSet: z.string() })).optional(),
});
/** See {@link BacktestResultV1Schema}. */
export type BacktestResultV1 = z.infer<typeof BacktestResultV1Schema>;

/** Status of a run. */
export const BacktestStatusSchema = z.enum(['queued', 'running', 'completed', 'failed']);

/** `GET /backtests/{id}`. */
export const BacktestRunDtoSchema = z.object({
  id: z.string(),
  status: BacktestStatusSchema,
  strategy: z.object({ id: z.string(), version: z.number().int(), name: z.string() }).nullable(),
  definitionHash: z.string(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  /** Claims taken (> 1 after a worker crash). */
  attempts: z.number().int().nonnegative(),
  progress: z.object({ phase: z.string(), fraction: z.number() }).nullable(),
  result: BacktestResultV1Schema.nullable(),
  error: z.object({ reason: BacktestFailureReasonSchema, detail: z.string() }).nullable(),
  spec: BacktestRunSpecSchema,
});
/** See {@link BacktestRunDtoSchema}. */
export type BacktestRunDto = z.infer<typeof BacktestRunDtoSchema>;

/** A closed round trip (flat → position → flat) of one symbol. Money in account currency. */
export const BacktestTradeDtoSchema = z.object({
  seq: z.number().int().nonnegative(),
  symbol: z.string(),
  direction: z.enum(['long', 'short']),
  entryTs: z.iso.datetime(),
  exitTs: z.iso.datetime(),
  /** Largest absolute quantity held during the trade. */
  quantity: z.number(),
  entryPrice: z.number(),
  exitPrice: z.number(),
  /** Net of commissions, slippage (in the prices) and borrow fees. */
  pnl: z.number(),
  /** pnl / notional of the entries. */
  return: z.number(),
  bars: z.number().int().nonnegative(),
  exitReason: z.string(),
  commission: z.number(),
  borrow: z.number(),
});
/** See {@link BacktestTradeDtoSchema}. */
export type BacktestTradeDto = z.infer<typeof BacktestTradeDtoSchema>;

/** One point of the equity curve (one timeline instant). */
export const BacktestEquityPointDtoSchema = z.object({
  seq: z.number().int().nonnegative(),
  ts: z.iso.datetime(),
  equity: z.number(),
  cash: z.number(),
  grossExposure: z.number(),
  netExposure: z.number(),
  drawdown: z.number(),
  positions: z.number().int().nonnegative(),
});
/** See {@link BacktestEquityPointDtoSchema}. */
export type BacktestEquityPointDto = z.infer<typeof BacktestEquityPointDtoSchema>;

/** An order with its (single) fill. */
export const BacktestOrderDtoSchema = z.object({
  seq: z.number().int().nonnegative(),
  symbol: z.string(),
  /** Decision bar (ISO-8601 UTC); for resting stops the bar before the one that triggered them. */
  decidedTs: z.iso.datetime(),
  filledTs: z.iso.datetime().nullable(),
  reason: z.string(),
  /** Signed: > 0 buy, < 0 sell. */
  requestedQty: z.number(),
  filledQty: z.number(),
  fillPrice: z.number().nullable(),
  commission: z.number(),
  slippageCost: z.number(),
  unfilledQty: z.number(),
  unfilledReason: z.string().nullable(),
});
/** See {@link BacktestOrderDtoSchema}. */
export type BacktestOrderDto = z.infer<typeof BacktestOrderDtoSchema>;

/** Query of the paginated series endpoints. */
export const BacktestSeriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  cursor: PageCursorSchema.optional(),
});
/** See {@link BacktestSeriesQuerySchema}. */
export type BacktestSeriesQuery = z.output<typeof BacktestSeriesQuerySchema>;
