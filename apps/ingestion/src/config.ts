import { z } from 'zod';
import { serviceConfigShape, unsetIfEmpty } from '@strata/shared-util';

// Loaded before telemetry and NestJS: this file may import only zod and @strata/shared-util.

/** Every variable this app parses; shared with docker-compose.yml and the helm chart (a test keeps them in step). */
export const ConfigSchema = z.object({
  ...serviceConfigShape,
  /** Alpha Vantage API key; unset: the `alphavantage` ingest source answers 503 "source not configured". */
  ALPHAVANTAGE_API_KEY: z.preprocess(unsetIfEmpty, z.string().trim().min(1).optional()),
  /** Alpha Vantage base URL (requests go to `<base>/query`); default https://www.alphavantage.co. */
  ALPHAVANTAGE_BASE_URL: z.preprocess(unsetIfEmpty, z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional()),
});

/** Parsed configuration. */
export type Config = z.output<typeof ConfigSchema>;
