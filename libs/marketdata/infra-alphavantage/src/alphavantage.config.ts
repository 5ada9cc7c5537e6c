import { z } from 'zod';

const positiveInt = (dflt: number) => z.coerce.number().int().positive().default(dflt);

/**
 * Environment of the Alpha Vantage source. Only `ALPHAVANTAGE_API_KEY` is required.
 * - `ALPHAVANTAGE_API_KEY`: the API key;
 * - `ALPHAVANTAGE_BASE_URL`: default `https://www.alphavantage.co` (requests go to `<base>/query`);
 * - `ALPHAVANTAGE_CALLS_PER_MINUTE` / `ALPHAVANTAGE_CALLS_PER_DAY`: plan limits, default 5 and 25 (free plan); set
 *   the day limit to `0` for plans without a daily cap;
 * - `ALPHAVANTAGE_MAX_RETRIES`: retries after rate-limit notes, 429, 5xx and network failures (default 4);
 * - `ALPHAVANTAGE_TIMEOUT_MS`: per-request timeout (default 30000).
 */
export const AlphaVantageConfigSchema = z.object({
  ALPHAVANTAGE_API_KEY: z
    .string({ error: 'is required: the Alpha Vantage API key' })
    .trim()
    .min(1, 'is required: the Alpha Vantage API key'),
  ALPHAVANTAGE_BASE_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default('https://www.alphavantage.co'),
  ALPHAVANTAGE_CALLS_PER_MINUTE: positiveInt(5),
  ALPHAVANTAGE_CALLS_PER_DAY: z.coerce
    .number()
    .int()
    .nonnegative()
    .default(25)
    .transform((n) => (n === 0 ? Infinity : n)),
  ALPHAVANTAGE_MAX_RETRIES: z.coerce.number().int().nonnegative().default(4),
  ALPHAVANTAGE_TIMEOUT_MS: positiveInt(30_000),
});

/** Parsed Alpha Vantage configuration (`ALPHAVANTAGE_CALLS_PER_DAY` 0 becomes `Infinity`). */
export type AlphaVantageConfig = z.infer<typeof AlphaVantageConfigSchema>;
