import { z } from 'zod';

/** Empty strings (compose `${VAR:-}`, chart placeholders) count as unset. */
export const unsetIfEmpty = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** Default of `STRATA_INLINE_MAX_BYTES`: 256 KiB. */
export const DEFAULT_INLINE_MAX_BYTES = 256 * 1024;

const ROLE_KEY = /^(viewer|operator|admin):\S{8,}$/;

/**
 * The environment variables every Strata app parses; names are fixed (issue 2) and shared with docker-compose.yml and
 * the helm chart. Apps spread this shape into their own `ConfigSchema` and add what only they read.
 */
export const serviceConfigShape = {
  /** HTTP port (default 3000). */
  PORT: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(65535).default(3000)),
  /** Local state: DuckDB file, bus journal, bootstrap admin key, staged uploads (default ./data). */
  STRATA_DATA_DIR: z.preprocess(unsetIfEmpty, z.string().default('./data')),
  /** Comma-separated role:key list (roles viewer, operator, admin; keys of 8+ characters). */
  STRATA_API_KEYS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .optional()
      .superRefine((v, ctx) => {
        if (!v) return;
        const items = v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        items.forEach((item, i) => {
          if (!ROLE_KEY.test(item))
            ctx.addIssue({
              code: 'custom',
              message: `item ${i + 1}: expected role:key with role viewer, operator or admin and a key of at least 8 characters`,
            });
        });
      }),
  ),
  /** NATS server(s), e.g. nats://127.0.0.1:4222; unset: the in-process bus. */
  NATS_URL: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^(nats|tls|ws|wss):\/\/\S+$/, 'expected a nats:// URL')
      .optional(),
  ),
  /**
   * Largest body sent inside a bus message, bytes (default 256 KiB, well under NATS's 1 MiB max payload): uploads,
   * windows and results above it go to the staging / snapshot artifact store and the message names them.
   */
  STRATA_INLINE_MAX_BYTES: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(1 << 30)
      .default(DEFAULT_INLINE_MAX_BYTES),
  ),
  /** MongoDB URI for the document store; unset: embedded DuckDB store. */
  MONGODB_URI: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'expected a mongodb:// URI')
      .optional(),
  ),
  /** OTLP/HTTP endpoint for traces, e.g. http://localhost:4318; unset: tracing off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(unsetIfEmpty, z.url().optional()),
  /** pino level (default info). */
  LOG_LEVEL: z.preprocess(
    unsetIfEmpty,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
};

/** Minimal logger the shutdown hook needs (pino fits). */
export interface ShutdownLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** On SIGINT/SIGTERM runs `close` once (HTTP first, then the bus, then telemetry), then exits; a second signal exits at once. */
export function onShutdownSignal(logger: ShutdownLogger, close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (closing) process.exit(1);
    closing = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

const positiveInt = (def: number, max: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(max).default(def));

/**
 * Webhook delivery settings of the data-quality sentinel, parsed by every app that delivers webhooks (the standalone
 * `sentinel` and the all-in-one `platform`).
 */
export const webhookDeliveryConfigShape = {
  /** Attempts per webhook delivery before it goes `dead` (default 6). */
  SENTINEL_WEBHOOK_MAX_ATTEMPTS: positiveInt(6, 50),
  /** Base of the exponential backoff between attempts, ms (default 1000; full jitter, capped at 5 minutes). */
  SENTINEL_WEBHOOK_BASE_DELAY_MS: positiveInt(1000, 3_600_000),
  /** Per-request timeout of a webhook delivery, ms (default 10000). */
  SENTINEL_WEBHOOK_TIMEOUT_MS: positiveInt(10_000, 300_000),
  /** Webhook requests in flight at once per replica (default 8). */
  SENTINEL_WEBHOOK_CONCURRENCY: positiveInt(8, 256),
};

/** Webhook delivery settings as the sentinel's dispatcher takes them (`WebhookDispatcherOptions`). */
export function webhookDeliveryOptions(config: {
  SENTINEL_WEBHOOK_MAX_ATTEMPTS: number;
  SENTINEL_WEBHOOK_BASE_DELAY_MS: number;
  SENTINEL_WEBHOOK_TIMEOUT_MS: number;
  SENTINEL_WEBHOOK_CONCURRENCY: number;
}): { maxAttempts: number; baseDelayMs: number; timeoutMs: number; concurrency: number } {
  return {
    maxAttempts: config.SENTINEL_WEBHOOK_MAX_ATTEMPTS,
    baseDelayMs: config.SENTINEL_WEBHOOK_BASE_DELAY_MS,
    timeoutMs: config.SENTINEL_WEBHOOK_TIMEOUT_MS,
    concurrency: config.SENTINEL_WEBHOOK_CONCURRENCY,
  };
}

/** Alpha Vantage settings of the ingestion service (the standalone `marketdata` and the all-in-one `platform`). */
export const alphaVantageConfigShape = {
  /** Alpha Vantage API key; unset: the `alphavantage` ingest source answers 503 "source not configured". */
  ALPHAVANTAGE_API_KEY: z.preprocess(unsetIfEmpty, z.string().trim().min(1).optional()),
  /** Alpha Vantage base URL (requests go to `<base>/query`); default https://www.alphavantage.co. */
  ALPHAVANTAGE_BASE_URL: z.preprocess(
    unsetIfEmpty,
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  ),
};

/**
 * Settings of the signals service's scoring (the standalone `signals`; its ONNX artifacts are in the JetStream Object
 * Store bucket `strata-artifacts`, shared by every replica and the backtests service, so no directory to configure).
 */
export const signalsConfigShape = {
  /** onnxruntime intra-op threads per scoring session (0 = one per core, the onnxruntime default). */
  SIGNALS_ORT_THREADS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(64).default(0)),
  /**
   * Worker threads a batch (more than 256 rows) is scored on by the compiled tree ensemble; unset = one per core the
   * process may use, at most 4; 0 = the calling thread. Set it to the pod's CPU limit in Kubernetes (Node sees the
   * node's cores, not the cgroup quota).
   */
  SIGNALS_BATCH_THREADS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(64).optional()),
};
