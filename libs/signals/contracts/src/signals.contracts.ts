import { z } from 'zod';
import { defineCommand, defineEvent, PageCursorSchema } from '@strata/platform-contracts';
import { FeatureSetNameSchema, QualityFilterSchema } from '@strata/features-contracts';
import { InstantQuerySchema, SymbolSchema, TimeframeSchema } from '@strata/marketdata-contracts';

/*
 * Signals contracts: the training command, model / alias / score events and the REST bodies of `/signals`.
 * A model version is immutable once trained; aliases (`champion`, `challenger`) point at versions and move by promote
 * and rollback. Scores are probabilities of an up move over the label horizon (binary) or predicted forward returns
 * (regression), computed from the features of bar t only.
 */

/** Gradient-boosted trees parameters (names and defaults of `GbdtParams` in `@strata/signals-domain`, LightGBM's). */
export const GbdtParamsSchema = z
  .object({
    numTrees: z.number().int().min(1).max(5000).default(100),
    learningRate: z.number().positive().max(1).default(0.1),
    maxLeaves: z.number().int().min(2).max(4096).default(31),
    /** −1: no limit. */
    maxDepth: z.number().int().min(-1).max(64).default(-1),
    minDataInLeaf: z.number().int().min(1).default(20),
    lambdaL1: z.number().min(0).default(0),
    lambdaL2: z.number().min(0).default(0),
    featureFraction: z.number().positive().max(1).default(1),
    baggingFraction: z.number().positive().max(1).default(1),
    baggingFreq: z.number().int().min(0).default(0),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    /** Rounds without improvement of the validation loss before stopping; 0 = off. */
    earlyStoppingRounds: z.number().int().min(0).default(0),
    maxBin: z.number().int().min(2).max(255).default(255),
  })
  .strict();
/** See {@link GbdtParamsSchema}. */
export type GbdtParamsDto = z.output<typeof GbdtParamsSchema>;

/** Model objective: `binary` predicts P(forward return > dead zone); `regression` predicts the forward return. */
export const SignalObjectiveSchema = z.enum(['binary', 'regression']);

/** Body of `POST /signals/models`: what to train on and how. */
export const TrainModelBodySchema = z
  .object({
    /** Human name of the model line, e.g. `spy_5d_up`. */
    name: z
      .string()
      .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and -')
      .default('model'),
    description: z.string().max(500).default(''),
    /** Feature set and version (default: the latest registered version). */
    featureSet: z
      .object({ name: FeatureSetNameSchema.default('core'), version: z.number().int().positive().optional() })
      .strict()
      .default({ name: 'core' }),
    /** Symbols whose rows are pooled into one dataset (ordered by time). */
    symbols: z.array(SymbolSchema).min(1).max(200),
    timeframe: TimeframeSchema.default('1d'),
    objective: SignalObjectiveSchema.default('binary'),
    label: z
      .object({
        /** Bars ahead: y[t] = close[t + horizon] / close[t] − 1. */
        horizon: z.number().int().min(1).max(1000).default(5),
        /** Fraction; binary: rows with |y| ≤ deadZone are left out. */
        deadZone: z.number().min(0).max(1).default(0),
      })
      .strict()
      .default({ horizon: 5, deadZone: 0 }),
    /** Training window (bar start times, inclusive from, exclusive to); default all stored bars. */
    trainWindow: z
      .object({ from: InstantQuerySchema.optional(), to: InstantQuerySchema.optional() })
      .strict()
      .default({}),
    walkForward: z
      .object({
        /** Out-of-sample test folds, in time order (an expanding training window precedes each). */
        folds: z.number().int().min(2).max(20).default(4),
        /** Bars purged before each test fold (default = label horizon). */
        purge: z.number().int().min(0).max(1000).optional(),
        /** Bars embargoed after each test fold. */
        embargo: z.number().int().min(0).max(1000).default(0),
      })
      .strict()
      .default({ folds: 4, embargo: 0 }),
    params: GbdtParamsSchema.default(GbdtParamsSchema.parse({})),
    /** Bars the data-quality sentinel flagged: `exclude` leaves out rows whose bar or label bar has an unresolved flag. */
    qualityFilter: QualityFilterSchema.default('include'),
  })
  // An empty window (from ≥ to) is well formed; it holds no bars, which the service answers with 404 as any other
  // request for data that is not there.
  .strict();
/** See {@link TrainModelBodySchema}. */
export type TrainModelBody = z.output<typeof TrainModelBodySchema>;

/** A training spec as frozen into the command: the feature-set version resolved, the window as epoch ms (null = open). */
export const TrainingSpecSchema = z.object({
  name: z.string(),
  description: z.string(),
  featureSet: z.object({ name: z.string(), version: z.number().int().positive() }),
  symbols: z.array(z.string()).min(1),
  timeframe: TimeframeSchema,
  objective: SignalObjectiveSchema,
  label: z.object({ horizon: z.number().int().positive(), deadZone: z.number().min(0) }),
  trainWindow: z.object({ from: z.number().nullable(), to: z.number().nullable() }),
  walkForward: z.object({
    folds: z.number().int().min(2),
    purge: z.number().int().min(0),
    embargo: z.number().int().min(0),
  }),
  params: GbdtParamsSchema,
  qualityFilter: QualityFilterSchema.default('include'),
});
/** See {@link TrainingSpecSchema}. */
export type TrainingSpec = z.output<typeof TrainingSpecSchema>;

/** Command: train model version `modelId` from `spec`. Work queue; idempotent by `modelId` (a finished model is never retrained). */
export const TrainModelCommandV1 = defineCommand({
  subject: 'signals.cmd.train.v1',
  description:
    'Train model version `modelId` from the frozen spec (walk-forward evaluation, leakage guard, final fit, ONNX export, registration).',
  schema: z.object({ modelId: z.string().min(1).max(64), spec: TrainingSpecSchema, requestedAt: z.iso.datetime() }),
});

/** Fact: a model version finished training and is registered (artifact stored). Published once per model. */
export const ModelTrainedV1 = defineEvent({
  subject: 'signals.evt.model.trained.v1',
  description: 'A model version was trained, evaluated walk-forward and registered with its ONNX artifact.',
  schema: z.object({
    modelId: z.string(),
    name: z.string(),
    objective: SignalObjectiveSchema,
    featureSet: z.object({ name: z.string(), version: z.number().int().positive() }),
    artifact: z.object({ uri: z.string(), sha256: z.string() }),
    /** Mean out-of-sample AUC over the walk-forward folds (binary; null for regression). */
    meanAuc: z.number().nullable(),
    /** Mean out-of-sample information coefficient (Spearman) over the folds. */
    meanIc: z.number().nullable(),
  }),
});

/** Fact: training a model version failed for good (bad spec or data, leakage guard tripped, or retries exhausted). */
export const ModelTrainingFailedV1 = defineEvent({
  subject: 'signals.evt.training.failed.v1',
  description: 'Training model version `modelId` failed; `reason` is stable, `detail` is for humans.',
  schema: z.object({ modelId: z.string(), reason: z.string(), detail: z.string() }),
});

/** Aliases a model version can hold. */
export const ModelAliasSchema = z.enum(['champion', 'challenger']);
/** See {@link ModelAliasSchema}. */
export type ModelAlias = z.output<typeof ModelAliasSchema>;

/** Fact: an alias moved (promote) or went back to its previous holder (rollback). */
export const ModelAliasChangedV1 = defineEvent({
  subject: 'signals.evt.alias.changed.v1',
  description: 'A model alias (champion / challenger) now points at another model version.',
  schema: z.object({
    alias: ModelAliasSchema,
    modelId: z.string().nullable(),
    previousModelId: z.string().nullable(),
    action: z.enum(['promote', 'rollback']),
    /** Position in the alias history (1, 2, …): unique per change. */
    revision: z.number().int().positive(),
  }),
});

/** Fact: a model scored new bars of a series; the scores are stored (`GET /signals/{symbol}/latest`). */
export const ScoreComputedV1 = defineEvent({
  subject: 'signals.evt.score.computed.v1',
  description: 'A model (the champion of the refreshed feature set) scored the new bars of one series.',
  schema: z.object({
    modelId: z.string(),
    alias: ModelAliasSchema.nullable(),
    symbol: SymbolSchema,
    timeframe: TimeframeSchema,
    featureSet: z.object({ name: z.string(), version: z.number().int().positive() }),
    /** First and last scored bar (bar start, ISO-8601 UTC). */
    from: z.iso.datetime(),
    to: z.iso.datetime(),
    rows: z.number().int().nonnegative(),
    /** The score of the last bar: probability (binary) or predicted return (regression); null when it had missing features. */
    latest: z.number().nullable(),
  }),
});

/** Model version lifecycle: queued → running → completed | failed; `imported` models are completed on arrival. */
export const ModelStatusSchema = z.enum(['queued', 'running', 'completed', 'failed']);
/** See {@link ModelStatusSchema}. */
export type ModelStatus = z.output<typeof ModelStatusSchema>;

/** Out-of-sample metrics of one walk-forward fold (null where not defined, e.g. AUC of a regression). */
export const FoldMetricsSchema = z.object({
  fold: z.number().int().nonnegative(),
  trainRows: z.number().int().nonnegative(),
  testRows: z.number().int().nonnegative(),
  /** Test period, epoch ms UTC (bar start times). */
  testFrom: z.number().nullable(),
  testTo: z.number().nullable(),
  auc: z.number().nullable(),
  logLoss: z.number().nullable(),
  accuracy: z.number().nullable(),
  brier: z.number().nullable(),
  /** Spearman rank correlation of score and forward return. */
  ic: z.number().nullable(),
  rmse: z.number().nullable(),
  /** The same metrics of the baselines on the same fold. */
  baselines: z.record(z.string(), z.record(z.string(), z.number().nullable())),
});

/** REST view of a model version. */
export const ModelVersionDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  status: ModelStatusSchema,
  source: z.enum(['trained', 'imported']),
  objective: SignalObjectiveSchema,
  aliases: z.array(ModelAliasSchema),
  featureSet: z.object({ name: z.string(), version: z.number().int().positive(), featureNames: z.array(z.string()) }),
  spec: TrainingSpecSchema.nullable(),
  params: z.record(z.string(), z.unknown()).nullable(),
  metrics: z
    .object({
      folds: z.array(FoldMetricsSchema),
      /** Means over the folds. */
      summary: z.record(z.string(), z.number().nullable()),
      baselines: z.record(z.string(), z.record(z.string(), z.number().nullable())),
      leakageGuard: z
        .object({
          passed: z.boolean(),
          /** Mean test AUC of the label-shuffle (by blocks) guard. */
          shuffledAuc: z.number().nullable(),
          /** Mean test AUC of the null-world guard (absent on models trained before it ran). */
          nullWorldAuc: z.number().nullable().optional(),
          detail: z.string(),
        })
        .nullable(),
      bestIteration: z.number().int().nullable(),
    })
    .nullable(),
  importance: z.array(z.object({ feature: z.string(), gain: z.number() })).nullable(),
  artifact: z.object({ key: z.string(), uri: z.string(), sha256: z.string(), bytes: z.number().int() }).nullable(),
  lineage: z
    .object({
      featureSet: z.string(),
      datasetHash: z.string().nullable(),
      codeVersion: z.string(),
      trainedAt: z.string(),
      trainWindow: z.object({ from: z.number().nullable(), to: z.number().nullable() }),
      rows: z.number().int().nonnegative(),
      symbols: z.array(z.string()),
    })
    .nullable(),
  progress: z.object({ phase: z.string(), fraction: z.number() }).nullable(),
  error: z.object({ reason: z.string(), detail: z.string() }).nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  /** Where to follow a queued model. */
  statusUrl: z.string(),
});
/** See {@link ModelVersionDtoSchema}. */
export type ModelVersionDto = z.output<typeof ModelVersionDtoSchema>;

/** Query of `GET /signals/models`. */
export const ListModelsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: PageCursorSchema.optional(),
  status: ModelStatusSchema.optional(),
  alias: ModelAliasSchema.optional(),
});
/** See {@link ListModelsQuerySchema}. */
export type ListModelsQuery = z.output<typeof ListModelsQuerySchema>;

/** Body of `POST /signals/models/import`: an external ONNX tree model (base64) checked against a feature-set version. */
export const ImportModelBodySchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and -'),
    description: z.string().max(500).default(''),
    featureSet: z
      .object({ name: FeatureSetNameSchema.default('core'), version: z.number().int().positive().optional() })
      .strict()
      .default({ name: 'core' }),
    /** The `.onnx` file, base64 (at most 32 MiB decoded). */
    onnxBase64: z.string().min(4).max(45_000_000),
  })
  .strict();
/** See {@link ImportModelBodySchema}. */
export type ImportModelBody = z.output<typeof ImportModelBodySchema>;

/** A model reference: a model version id or an alias. */
export const ModelRefSchema = z.string().min(1).max(64);

/** Body of `POST /signals/score`: a series and time range read from the feature store, or raw feature rows. */
export const ScoreBodySchema = z.union([
  z
    .object({
      model: ModelRefSchema,
      symbol: SymbolSchema,
      timeframe: TimeframeSchema.default('1d'),
      from: InstantQuerySchema.optional(),
      to: InstantQuerySchema.optional(),
      explain: z.boolean().default(false),
    })
    .strict(),
  z
    .object({
      model: ModelRefSchema,
      /** Feature values by name (every feature of the model's set; null = missing). At most 10,000 rows. */
      rows: z.array(z.record(z.string(), z.number().finite().nullable())).min(1).max(10_000),
      explain: z.boolean().default(false),
    })
    .strict(),
]);
/** See {@link ScoreBodySchema}. */
export type ScoreBody = z.output<typeof ScoreBodySchema>;

/** Answer of `POST /signals/score`. */
export const ScoreResponseSchema = z.object({
  modelId: z.string(),
  objective: SignalObjectiveSchema,
  featureSet: z.object({ name: z.string(), version: z.number().int().positive() }),
  /** Probability (binary) or predicted return (regression), one per row; null when a row could not be scored. */
  scores: z.array(z.number().nullable()),
  /** Bar start times (ISO-8601 UTC) of the scored bars (series requests only). */
  ts: z.array(z.string()).optional(),
  /** With `explain`: per-row TreeSHAP contributions (raw margin units) by feature, the expected value, global importance. */
  explanation: z
    .object({
      expectedValue: z.number(),
      contributions: z.array(z.record(z.string(), z.number())),
      importance: z.array(z.object({ feature: z.string(), gain: z.number(), meanAbsShap: z.number() })),
    })
    .optional(),
});
/** See {@link ScoreResponseSchema}. */
export type ScoreResponse = z.output<typeof ScoreResponseSchema>;

/** Answer of `GET /signals/{symbol}/latest`. */
export const LatestScoreDtoSchema = z.object({
  symbol: z.string(),
  timeframe: TimeframeSchema,
  modelId: z.string(),
  alias: ModelAliasSchema,
  /** Bar start, ISO-8601 UTC. */
  ts: z.string(),
  score: z.number().nullable(),
  scoredAt: z.string(),
});
/** See {@link LatestScoreDtoSchema}. */
export type LatestScoreDto = z.output<typeof LatestScoreDtoSchema>;

/** REST view of an alias with its history (newest last). */
export const ModelAliasDtoSchema = z.object({
  alias: ModelAliasSchema,
  modelId: z.string().nullable(),
  history: z.array(
    z.object({
      revision: z.number().int(),
      action: z.enum(['promote', 'rollback']),
      modelId: z.string().nullable(),
      previousModelId: z.string().nullable(),
      at: z.string(),
    }),
  ),
});
/** See {@link ModelAliasDtoSchema}. */
export type ModelAliasDto = z.output<typeof ModelAliasDtoSchema>;
