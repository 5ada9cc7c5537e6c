import { defineCommand, defineEvent } from '@strata/platform-contracts';
import { z } from 'zod';

/** Body of `POST /backtests/{id}/forecast` (and `/portfolios/{id}/forecast`): how to simulate the KPI bands. */
export const ForecastBodySchema = z
  .object({
    /** `fhs` filtered historical simulation (default), `bootstrap` stationary block bootstrap, `garch_t` GARCH(1,1)-t Monte Carlo. */
    method: z.enum(['fhs', 'bootstrap', 'garch_t']).default('fhs'),
    /** Forward horizon in bars. */
    horizon: z.union([z.literal(21), z.literal(63), z.literal(252)]).default(63),
    /** Simulated paths. */
    paths: z.number().int().min(100).max(100_000).default(10_000),
    /** RNG seed; the same inputs and seed give the same bands. */
    seed: z.number().int().min(0).max(2_147_483_647).default(1),
    /** Volatility filter of `fhs`. */
    volatility: z.enum(['ewma', 'garch']).default('ewma'),
    /** EWMA decay of the `fhs` filter. */
    ewmaLambda: z.number().gt(0).lt(1).default(0.94),
    /** Forward drift: shrunk toward zero (default), zero, or the sample mean. */
    mean: z.enum(['shrunk', 'zero', 'sample']).default('shrunk'),
    /** Thresholds x for P(max drawdown > x), positive fractions. */
    drawdownThresholds: z.array(z.number().gt(0).lt(1)).max(10).default([0.1, 0.2, 0.3]),
  })
  .strict();
/** See {@link ForecastBodySchema}. */
export type ForecastBody = z.output<typeof ForecastBodySchema>;

/** P5 … P95 of a KPI across the simulated paths. */
export const PercentileBandSchema = z.object({
  p5: z.number(),
  p25: z.number(),
  p50: z.number(),
  p75: z.number(),
  p95: z.number(),
});

/** The bands (`@strata/backtests-domain` kpi-bands.ts). */
export const KpiBandsDtoSchema = z.object({
  kind: z.literal('bands'),
  method: z.enum(['fhs', 'bootstrap', 'garch_t']),
  horizon: z.number().int(),
  paths: z.number().int(),
  seed: z.number().int(),
  /** Final equity multiple E_h / E_0. */
  equity: PercentileBandSchema,
  /** Maximum drawdown over the horizon, positive fraction. */
  maxDrawdown: PercentileBandSchema,
  /** Annualised Sharpe per path; definition in `sharpeDefinition`. */
  sharpe: PercentileBandSchema,
  sharpeDefinition: z.string(),
  probLoss: z.number().min(0).max(1),
  probDrawdownWorseThan: z.array(z.object({ threshold: z.number(), probability: z.number().min(0).max(1) })),
  /** Per-bar percentile bands of the equity multiple (bands, not paths). */
  fan: z.array(PercentileBandSchema.extend({ bar: z.number().int().positive() })),
  mean: z.object({
    treatment: z.enum(['shrunk', 'zero', 'sample']),
    sample: z.number(),
    used: z.number(),
    statement: z.string(),
  }),
  details: z.object({
    historyReturns: z.number().int(),
    volatility: z.enum(['ewma', 'garch']).optional(),
    ewmaLambda: z.number().optional(),
    garch: z
      .object({
        mu: z.number(),
        omega: z.number(),
        alpha: z.number(),
        beta: z.number(),
        nu: z.number(),
        logLikelihood: z.number(),
        backcast: z.number(),
        nextSigma2: z.number(),
        iterations: z.number().int(),
      })
      .optional(),
    blockLength: z.number().optional(),
    periodsPerYear: z.number(),
  }),
  warnings: z.array(z.string()),
});
/** See {@link KpiBandsDtoSchema}. */
export type KpiBandsDto = z.infer<typeof KpiBandsDtoSchema>;

/** Answer of a forecast request: the stored bands (and whether they came from the store). */
export const ForecastDtoSchema = z.object({
  /** Key of the inputs (backtest, its result attempt, the normalised body). */
  key: z.string(),
  backtestId: z.string(),
  cached: z.boolean(),
  createdAt: z.iso.datetime(),
  bands: KpiBandsDtoSchema,
});
/** See {@link ForecastDtoSchema}. */
export type ForecastDto = z.infer<typeof ForecastDtoSchema>;

/** Lifecycle of a forecast job: queued → running → completed | failed. */
export const ForecastJobStatusSchema = z.enum(['queued', 'running', 'completed', 'failed']);

/** A large forecast (paths × horizon above the service's synchronous limit), run as a job on the bus. */
export const ForecastJobDtoSchema = z.object({
  id: z.string(),
  backtestId: z.string(),
  status: ForecastJobStatusSchema,
  /** Fraction of the paths simulated, 0..1. */
  progress: z.number().min(0).max(1),
  /** Key of the stored bands (see {@link ForecastDtoSchema}). */
  key: z.string(),
  body: ForecastBodySchema,
  createdAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  /** Why the job failed: the KPI-bands reason (`flat`, `too_short`, …) or `internal`. */
  error: z.object({ reason: z.string(), detail: z.string() }).nullable(),
  /** The bands once completed. */
  result: ForecastDtoSchema.nullable(),
});
/** See {@link ForecastJobDtoSchema}. */
export type ForecastJobDto = z.infer<typeof ForecastJobDtoSchema>;

/** Command: simulate the KPI bands of forecast job `jobId`. Idempotent: a finished job is not run again. */
export const ForecastKpiBandsCommandV1 = defineCommand({
  subject: 'backtest.cmd.forecast.v1',
  description: 'Simulate the KPI bands of a completed backtest for forecast job `jobId` (large requests only).',
  schema: z.object({
    jobId: z.string().min(1).max(64),
    backtestId: z.string().min(1).max(64),
    body: ForecastBodySchema,
    requestedAt: z.iso.datetime(),
  }),
});

/** Fact: a forecast job made progress (every 1,000 paths). */
export const ForecastProgressedV1 = defineEvent({
  subject: 'backtest.evt.forecast.progressed.v1',
  description: 'A KPI-bands forecast job simulated another share of its paths.',
  schema: z.object({ jobId: z.string(), backtestId: z.string(), fraction: z.number().min(0).max(1) }),
});

/** Fact: a forecast job finished; the bands are stored under `key` (or the job failed with `error`). */
export const ForecastFinishedV1 = defineEvent({
  subject: 'backtest.evt.forecast.finished.v1',
  description: 'A KPI-bands forecast job completed (bands stored under key) or failed (reason, detail).',
  schema: z.object({
    jobId: z.string(),
    backtestId: z.string(),
    status: z.enum(['completed', 'failed']),
    key: z.string(),
    error: z.object({ reason: z.string(), detail: z.string() }).nullable(),
  }),
});
