import { z } from 'zod';
import { serviceConfigShape, unsetIfEmpty } from '@strata/util';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/util.

const positiveInt = (def: number, max: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).max(max).default(def));

/** Every variable this app parses; shared with docker-compose.yml and the helm chart (a test keeps them in step). */
export const ConfigSchema = z.object({
  ...serviceConfigShape,
  /** Attempts per webhook delivery before it goes `dead` (default 6). */
  SENTINEL_WEBHOOK_MAX_ATTEMPTS: positiveInt(6, 50),
  /** Base of the exponential backoff between attempts, ms (default 1000; full jitter, capped at 5 minutes). */
  SENTINEL_WEBHOOK_BASE_DELAY_MS: positiveInt(1000, 3_600_000),
  /** Per-request timeout of a webhook delivery, ms (default 10000). */
  SENTINEL_WEBHOOK_TIMEOUT_MS: positiveInt(10_000, 300_000),
  /** Webhook requests in flight at once per replica (default 8). */
  SENTINEL_WEBHOOK_CONCURRENCY: positiveInt(8, 256),
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
