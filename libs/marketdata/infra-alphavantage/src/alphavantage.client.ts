import { type TradingCalendar } from '@strata/shared-timeseries';
import {
  AlphaVantageError,
  AlphaVantageHttpError,
  AlphaVantageRateLimitError,
  AlphaVantageResponseError,
} from './alphavantage.errors';
import {
  parseDailyAdjusted,
  parseIntraday,
  throwIfProviderMessage,
  type AlphaVantageSeries,
  type IntradayInterval,
  INTRADAY_INTERVALS,
} from './alphavantage.parser';
import {
  FREE_PLAN_LIMITS,
  systemClock,
  TokenBucketRateLimiter,
  type Clock,
  type RateLimits,
} from './alphavantage.rate-limiter';
import type { AlphaVantageConfig } from './alphavantage.config';

/** Retry policy for rate-limit notes, HTTP 429/5xx and network failures. Delays in ms. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 4, so at most 5 requests per call). */
  maxRetries: number;
  /** Delay before the first retry (default 15,000: a free-plan minute bucket refills one call every 12 s). */
  baseDelayMs: number;
  /** Cap on any one delay (default 120,000). */
  maxDelayMs: number;
  /** Relative jitter: each delay is scaled by a factor drawn uniformly in [1 − jitter, 1 + jitter] (default 0.2). */
  jitter: number;
}

/** Default retry policy: 4 retries, 15 s doubling to at most 120 s, ±20 % jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 15_000,
  maxDelayMs: 120_000,
  jitter: 0.2,
};

/** Options of {@link AlphaVantageClient}. */
export interface AlphaVantageClientOptions {
  /** The API key (`ALPHAVANTAGE_API_KEY`). Sent as the `apikey` query parameter; never logged or put in errors. */
  apiKey: string;
  /** Base URL (`ALPHAVANTAGE_BASE_URL`, default `https://www.alphavantage.co`); requests go to `<base>/query`. */
  baseUrl?: string;
  /** Plan limits (default free plan: 5/min, 25/day). Ignored when `limiter` is given. */
  limits?: RateLimits;
  /** A shared limiter, e.g. one per API key across clients. */
  limiter?: TokenBucketRateLimiter;
  retry?: Partial<RetryPolicy>;
  /** Per-request timeout in ms (default 30,000). */
  timeoutMs?: number;
  /** Time source for the limiter and backoff (default the system clock). */
  clock?: Clock;
  /** Uniform [0, 1) source for jitter (default `Math.random`). */
  random?: () => number;
  /** HTTP implementation (default the global `fetch`). */
  fetch?: typeof fetch;
}

/** Options of {@link AlphaVantageClient.dailyAdjusted}. */
export interface DailyAdjustedRequest {
  /** `compact` = the latest 100 days (default), `full` = the whole history. */
  outputSize?: 'compact' | 'full';
  /** Calendar for gap detection in the validated batch (default `auto`). */
  calendar?: TradingCalendar | 'auto';
}

/** Options of {@link AlphaVantageClient.intraday}. */
export interface IntradayRequest {
  interval: IntradayInterval;
  /** `compact` = the latest 100 bars (default), `full` = the last 30 days, or the whole `month` when given. */
  outputSize?: 'compact' | 'full';
  /** A past month `YYYY-MM` to fetch instead of the latest bars. */
  month?: string;
  /** Split/dividend-adjusted bars (Alpha Vantage's default) or raw as-traded ones (`false`, our default: the platform stores raw bars and adjusts itself). */
  adjusted?: boolean;
  /** Include pre- and post-market bars (04:00–09:30 and 16:00–20:00 ET); default `false`: the regular session only. */
  extendedHours?: boolean;
  calendar?: TradingCalendar | 'auto';
}

/** What one request attempt ended with, for the retry loop. */
type Attempt =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; error: AlphaVantageError; retryable: boolean; retryAfterMs?: number };

/**
 * Alpha Vantage REST client for TIME_SERIES_DAILY_ADJUSTED and TIME_SERIES_INTRADAY.
 *
 * Every request first takes a token from the client-side {@link TokenBucketRateLimiter} (waiting for the per-minute
 * bucket, failing fast with `AlphaVantageQuotaExceededError` when the daily budget is spent). A per-minute rate-limit
 * note, HTTP 429, HTTP 5xx, a timeout or a network failure is retried with exponential backoff and jitter (honouring
 * `Retry-After`), up to `maxRetries`; then the call fails with {@link AlphaVantageRateLimitError} or
 * {@link AlphaVantageHttpError} stating the attempts made. An invalid API key, an invalid request, a premium-only
 * request, the daily-quota note and an unexpected body are never retried. Results are in the ingest shape
 * ({@link AlphaVantageSeries}).
 */
export class AlphaVantageClient {
  private readonly baseUrl: string;
  private readonly limiter: TokenBucketRateLimiter;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AlphaVantageClientOptions) {
    if (!options.apiKey) throw new RangeError('an Alpha Vantage API key is required (ALPHAVANTAGE_API_KEY)');
    this.baseUrl = (options.baseUrl ?? 'https://www.alphavantage.co').replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    this.limiter = options.limiter ?? new TokenBucketRateLimiter(options.limits ?? FREE_PLAN_LIMITS, this.clock);
    this.retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? fetch;
  }

  /** A client configured from validated environment config (see {@link AlphaVantageConfigSchema}). */
  static fromConfig(
    config: AlphaVantageConfig,
    overrides: Partial<AlphaVantageClientOptions> = {},
  ): AlphaVantageClient {
    return new AlphaVantageClient({
      apiKey: config.ALPHAVANTAGE_API_KEY,
      baseUrl: config.ALPHAVANTAGE_BASE_URL,
      limits: { callsPerMinute: config.ALPHAVANTAGE_CALLS_PER_MINUTE, callsPerDay: config.ALPHAVANTAGE_CALLS_PER_DAY },
      retry: { maxRetries: config.ALPHAVANTAGE_MAX_RETRIES },
      timeoutMs: config.ALPHAVANTAGE_TIMEOUT_MS,
      ...overrides,
    });
  }

  /** Daily bars (raw OHLCV, adjusted close) and the splits and dividends of `symbol` (recorded under that name). */
  async dailyAdjusted(symbol: string, request: DailyAdjustedRequest = {}): Promise<AlphaVantageSeries> {
    const body = await this.call({
      function: 'TIME_SERIES_DAILY_ADJUSTED',
      symbol,
      outputsize: request.outputSize ?? 'compact',
      datatype: 'json',
    });
    return parseDailyAdjusted(body, { calendar: request.calendar, symbol });
  }

  /** Intraday bars of `symbol` at `request.interval`, times converted from the exchange zone to UTC. */
  async intraday(symbol: string, request: IntradayRequest): Promise<AlphaVantageSeries> {
    if (!(request.interval in INTRADAY_INTERVALS))
      throw new RangeError(`interval must be one of ${Object.keys(INTRADAY_INTERVALS).join(', ')}`);
    if (request.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(request.month))
      throw new RangeError('month must be YYYY-MM');
    const params: Record<string, string> = {
      function: 'TIME_SERIES_INTRADAY',
      symbol,
      interval: request.interval,
      outputsize: request.outputSize ?? 'compact',
      adjusted: String(request.adjusted ?? false),
      extended_hours: String(request.extendedHours ?? false),
      datatype: 'json',
    };
    if (request.month) params.month = request.month;
    const body = await this.call(params);
    return parseIntraday(body, request.interval, { calendar: request.calendar, symbol });
  }

  /** Sends one logical call (with rate limiting and retries) and returns the JSON body that carries data. */
  private async call(params: Record<string, string>): Promise<Record<string, unknown>> {
    const url = new URL(`${this.baseUrl}/query`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const shown = `${url.pathname}?${url.searchParams.toString()}`; // before the key is added: safe for messages
    url.searchParams.set('apikey', this.options.apiKey);
    let attempts = 0;
    for (;;) {
      await this.limiter.acquire();
      attempts++;
      const result = await this.attempt(url, shown, attempts);
      if (result.ok) return result.body;
      if (!result.retryable || attempts > this.retry.maxRetries) {
        if (result.retryable) throw this.exhausted(result.error, attempts, shown);
        throw result.error;
      }
      await this.clock.sleep(this.backoff(attempts, result.retryAfterMs));
    }
  }

  private async attempt(url: URL, shown: string, attempts: number): Promise<Attempt> {
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (cause) {
      const what =
        (cause as Error)?.name === 'TimeoutError'
          ? `timed out after ${this.timeoutMs} ms`
          : `failed: ${(cause as Error)?.message ?? String(cause)}`;
      return {
        ok: false,
        retryable: true,
        error: new AlphaVantageHttpError(`GET ${shown} ${what}`, 0, attempts, { cause }),
      };
    }
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), this.clock.now());
    if (res.status === 429) {
      return {
        ok: false,
        retryable: true,
        retryAfterMs,
        error: new AlphaVantageRateLimitError(
          `Alpha Vantage answered HTTP 429 to GET ${shown}`,
          'minute',
          attempts,
          text.slice(0, 500),
        ),
      };
    }
    if (res.status >= 500) {
      return {
        ok: false,
        retryable: true,
        retryAfterMs,
        error: new AlphaVantageHttpError(
          `Alpha Vantage answered HTTP ${res.status} to GET ${shown}`,
          res.status,
          attempts,
        ),
      };
    }
    if (res.status < 200 || res.status >= 300) {
      return {
        ok: false,
        retryable: false,
        error: new AlphaVantageHttpError(
          `Alpha Vantage answered HTTP ${res.status} to GET ${shown}: ${text.slice(0, 300)}`,
          res.status,
          attempts,
        ),
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return {
        ok: false,
        retryable: false,
        error: new AlphaVantageResponseError(
          `Alpha Vantage answered GET ${shown} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`,
        ),
      };
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return {
        ok: false,
        retryable: false,
        error: new AlphaVantageResponseError(`Alpha Vantage answered GET ${shown} with JSON that is not an object`),
      };
    }
    try {
      throwIfProviderMessage(body as Record<string, unknown>, attempts);
    } catch (error) {
      if (error instanceof AlphaVantageRateLimitError) return { ok: false, retryable: error.scope === 'minute', error };
      if (error instanceof AlphaVantageError) return { ok: false, retryable: false, error };
      throw error;
    }
    return { ok: true, body: body as Record<string, unknown> };
  }

  private exhausted(last: AlphaVantageError, attempts: number, shown: string): AlphaVantageError {
    const tail = `after ${attempts} attempts (${this.retry.maxRetries} retries) for GET ${shown}`;
    if (last instanceof AlphaVantageRateLimitError) {
      return new AlphaVantageRateLimitError(
        `gave up: Alpha Vantage still rate-limited ${tail}; last note: ${last.providerNote}`,
        last.scope,
        attempts,
        last.providerNote,
      );
    }
    if (last instanceof AlphaVantageHttpError) {
      return new AlphaVantageHttpError(`gave up ${tail}: ${last.message}`, last.httpStatus, attempts, {
        cause: last.cause,
      });
    }
    return last;
  }

  /** Delay before retry number `attempt` (1-based): base·2^(attempt−1), capped, jittered; at least any `Retry-After`. */
  private backoff(attempt: number, retryAfterMs?: number): number {
    const { baseDelayMs, maxDelayMs, jitter } = this.retry;
    const raw = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const jittered = raw * (1 - jitter + 2 * jitter * this.random());
    return Math.round(Math.max(jittered, retryAfterMs ?? 0));
  }
}

/** `Retry-After` as ms from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
