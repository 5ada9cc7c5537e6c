import { parseConfig, ConfigError } from '@strata/shared-util';
import { AlphaVantageClient } from './alphavantage.client';
import { AlphaVantageConfigSchema } from './alphavantage.config';
import {
  AlphaVantageApiKeyError,
  AlphaVantageHttpError,
  AlphaVantageInvalidRequestError,
  AlphaVantagePremiumError,
  AlphaVantageQuotaExceededError,
  AlphaVantageRateLimitError,
  AlphaVantageResponseError,
} from './alphavantage.errors';
import { AlphaVantageReplayServer, FakeClock, fixture } from './testing/alphavantage-replay.server';

const errors = fixture<Record<string, Record<string, unknown>>>('errors.json');
const KEY = 'TESTKEY123SECRET';

/**
 * The real client against a local node:http server replaying Alpha Vantage's JSON, over the global fetch.
 * The fake clock makes rate-limit waits and backoff instant while recording every delay.
 */
describe('AlphaVantageClient over HTTP', () => {
  let server: AlphaVantageReplayServer;
  let baseUrl: string;
  let clock: FakeClock;

  beforeEach(async () => {
    clock = new FakeClock();
    server = new AlphaVantageReplayServer(clock);
    baseUrl = await server.start();
  });
  afterEach(() => server.stop());

  const client = (over: Partial<ConstructorParameters<typeof AlphaVantageClient>[0]> = {}) =>
    new AlphaVantageClient({ apiKey: KEY, baseUrl, clock, random: () => 0.5, ...over });

  it('fetches TIME_SERIES_DAILY_ADJUSTED with the documented parameters and parses the answer', async () => {
    server.enqueue({ body: fixture('daily-adjusted-aapl.json') });
    const s = await client().dailyAdjusted('AAPL', { outputSize: 'full', calendar: 'nyse' });
    expect(server.received).toHaveLength(1);
    expect(server.received[0].path).toBe('/query');
    expect(server.received[0].params).toEqual({
      function: 'TIME_SERIES_DAILY_ADJUSTED',
      symbol: 'AAPL',
      outputsize: 'full',
      datatype: 'json',
      apikey: KEY,
    });
    expect(s.batch.bars.length).toBe(6);
    expect(s.corporateActions).toEqual([
      { kind: 'dividend', symbol: 'AAPL', exDate: '2020-08-07', amount: 0.82 },
      { kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 },
    ]);
    expect(clock.sleeps).toEqual([]);
  });

  it('fetches TIME_SERIES_INTRADAY raw, regular session, converting exchange times to UTC', async () => {
    server.enqueue({ body: fixture('intraday-ibm-60min-dst.json') });
    const s = await client().intraday('IBM', { interval: '60min', month: '2024-03' });
    expect(server.received[0].params).toEqual({
      function: 'TIME_SERIES_INTRADAY',
      symbol: 'IBM',
      interval: '60min',
      outputsize: 'compact',
      adjusted: 'false',
      extended_hours: 'false',
      month: '2024-03',
      datatype: 'json',
      apikey: KEY,
    });
    expect(s.batch.bars.ts[0]).toBe(Date.UTC(2024, 2, 8, 14, 30));
    expect(s.batch.bars.ts[2]).toBe(Date.UTC(2024, 2, 11, 13, 30));
  });

  it('retries after rate-limit notes with exponential backoff, then succeeds', async () => {
    server.enqueue(
      { body: errors.minuteNote },
      { body: errors.burstInformation },
      { body: fixture('daily-adjusted-aapl.json') },
    );
    const s = await client().dailyAdjusted('AAPL');
    expect(s.batch.bars.length).toBe(6);
    expect(server.received).toHaveLength(3);
    expect(clock.sleeps).toEqual([15_000, 30_000]); // base 15 s doubling; jitter factor 1 with random() = 0.5
    expect(server.received.map((r) => r.at - server.received[0].at)).toEqual([0, 15_000, 45_000]);
  });

  it('applies jitter within ±20 % and caps the delay', async () => {
    server.enqueue(
      { body: errors.minuteNote },
      { body: errors.minuteNote },
      { body: errors.minuteNote },
      { body: fixture('daily-adjusted-aapl.json') },
    );
    const draws = [0, 0.999999, 0];
    await client({ random: () => draws.shift()!, retry: { maxDelayMs: 20_000 } }).dailyAdjusted('AAPL');
    expect(clock.sleeps).toEqual([12_000, 24_000, 16_000]); // 15 s × 0.8, min(30 s, 20 s) × 1.2, min(60 s, 20 s) × 0.8
  });

  it('gives up after maxRetries with a clear rate-limit error', async () => {
    for (let i = 0; i < 3; i++) server.enqueue({ body: errors.minuteNote });
    const err = await client({ retry: { maxRetries: 2 } })
      .dailyAdjusted('IBM')
      .catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageRateLimitError);
    expect(err.attempts).toBe(3);
    expect(err.scope).toBe('minute');
    expect(err.message).toMatch(
      /^gave up: Alpha Vantage still rate-limited after 3 attempts \(2 retries\) for GET \/query\?function=TIME_SERIES_DAILY_ADJUSTED&symbol=IBM/,
    );
    expect(err.message).toContain('5 calls per minute');
    expect(err.message).not.toContain(KEY);
    expect(server.received).toHaveLength(3);
    expect(clock.sleeps).toEqual([15_000, 30_000]);
  });

  it('does not retry the daily-quota note', async () => {
    server.enqueue({ body: errors.dailyInformation });
    const err = await client()
      .dailyAdjusted('IBM')
      .catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageRateLimitError);
    expect(err.scope).toBe('day');
    expect(server.received).toHaveLength(1);
  });

  it('reports an invalid API key at once, without retrying and without echoing the key', async () => {
    server.enqueue({ body: errors.invalidApiKey });
    const err = await client()
      .dailyAdjusted('IBM')
      .catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageApiKeyError);
    expect(err.message).toBe(
      'Alpha Vantage rejected the API key: the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds.',
    );
    expect(err.toProblem().type).toBe('urn:strata:problem:alphavantage-invalid-api-key');
    expect(server.received).toHaveLength(1);
  });

  it('reports an invalid call and a premium-only request without retrying', async () => {
    server.enqueue({ body: errors.invalidCall }, { body: errors.premiumInformation });
    await expect(client().dailyAdjusted('NOPE')).rejects.toThrow(AlphaVantageInvalidRequestError);
    await expect(client().intraday('IBM', { interval: '1min', outputSize: 'full' })).rejects.toThrow(
      AlphaVantagePremiumError,
    );
    expect(server.received).toHaveLength(2);
  });

  it('retries HTTP 5xx and 429, honouring Retry-After', async () => {
    server.enqueue(
      { status: 503, body: 'upstream unavailable', headers: { 'retry-after': '40' } },
      { status: 500, body: 'oops' },
      { status: 429, body: 'slow down' },
      { body: fixture('intraday-ibm-5min.json') },
    );
    const s = await client().intraday('IBM', { interval: '5min' });
    expect(s.batch.bars.length).toBe(3);
    expect(clock.sleeps).toEqual([40_000, 30_000, 60_000]);
  });

  it('gives up on persistent 5xx with the status and attempts, and does not retry other 4xx', async () => {
    for (let i = 0; i < 2; i++) server.enqueue({ status: 502, body: 'bad gateway' });
    const err = await client({ retry: { maxRetries: 1 } })
      .dailyAdjusted('IBM')
      .catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageHttpError);
    expect(err.httpStatus).toBe(502);
    expect(err.attempts).toBe(2);
    expect(err.message).toMatch(/^gave up after 2 attempts \(1 retries\)/);
    server.enqueue({ status: 404, body: 'not found' });
    const notFound = await client()
      .dailyAdjusted('IBM')
      .catch((e) => e);
    expect(notFound).toBeInstanceOf(AlphaVantageHttpError);
    expect(notFound.httpStatus).toBe(404);
    expect(server.received).toHaveLength(3);
  });

  it('reports a body that is not the documented JSON', async () => {
    server.enqueue({ body: '<html>maintenance</html>' }, { body: { hello: 'world' } });
    await expect(client().dailyAdjusted('IBM')).rejects.toThrow(/body that is not JSON: "<html>maintenance<\/html>"/);
    await expect(client().dailyAdjusted('IBM')).rejects.toThrow(AlphaVantageResponseError);
  });

  it('retries network failures and then reports them', async () => {
    await server.stop();
    const err = await client({ retry: { maxRetries: 2 } })
      .dailyAdjusted('IBM')
      .catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageHttpError);
    expect(err.httpStatus).toBe(0);
    expect(err.attempts).toBe(3);
    expect(err.message).toMatch(/gave up after 3 attempts .* failed/);
    server = new AlphaVantageReplayServer(clock); // for afterEach
  });

  it('spaces calls by the client-side limiter: 5 per minute, then one every 12 s, and stops at the daily budget', async () => {
    for (let i = 0; i < 8; i++) server.enqueue({ body: fixture('intraday-ibm-5min.json') });
    const c = client({ limits: { callsPerMinute: 5, callsPerDay: 8 } });
    // Sequential here so arrival times at the server are exact; FIFO order of concurrent callers is in the limiter spec.
    for (let i = 0; i < 7; i++) await c.intraday('IBM', { interval: '5min' });
    const t0 = server.received[0].at;
    expect(server.received.map((r) => r.at - t0)).toEqual([0, 0, 0, 0, 0, 12_000, 24_000]);
    await c.intraday('IBM', { interval: '5min' });
    expect(server.received[7].at - t0).toBe(36_000);
    const err = await c.intraday('IBM', { interval: '5min' }).catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageQuotaExceededError);
    expect(err.message).toMatch(/budget of 8 Alpha Vantage calls per day is spent/);
    expect(err.retryAfterMs).toBeGreaterThan(0);
    expect(server.received).toHaveLength(8);
  });

  it('is configured from the environment, base URL included', async () => {
    const cfg = parseConfig(AlphaVantageConfigSchema, {
      ALPHAVANTAGE_API_KEY: KEY,
      ALPHAVANTAGE_BASE_URL: `${baseUrl}/`,
    });
    server.enqueue({ body: fixture('daily-adjusted-aapl.json') });
    const s = await AlphaVantageClient.fromConfig(cfg, { clock }).dailyAdjusted('AAPL');
    expect(s.symbol).toBe('AAPL');
    expect(server.received[0].params.apikey).toBe(KEY);
  });
});

describe('AlphaVantageConfigSchema', () => {
  it('defaults to the public endpoint and the free plan', () => {
    expect(parseConfig(AlphaVantageConfigSchema, { ALPHAVANTAGE_API_KEY: 'k' })).toEqual({
      ALPHAVANTAGE_API_KEY: 'k',
      ALPHAVANTAGE_BASE_URL: 'https://www.alphavantage.co',
      ALPHAVANTAGE_CALLS_PER_MINUTE: 5,
      ALPHAVANTAGE_CALLS_PER_DAY: 25,
      ALPHAVANTAGE_MAX_RETRIES: 4,
      ALPHAVANTAGE_TIMEOUT_MS: 30_000,
    });
    expect(
      parseConfig(AlphaVantageConfigSchema, {
        ALPHAVANTAGE_API_KEY: 'k',
        ALPHAVANTAGE_CALLS_PER_MINUTE: '75',
        ALPHAVANTAGE_CALLS_PER_DAY: '0',
      }),
    ).toMatchObject({
      ALPHAVANTAGE_CALLS_PER_MINUTE: 75,
      ALPHAVANTAGE_CALLS_PER_DAY: Infinity,
    });
  });

  it('names each bad variable', () => {
    let err: unknown;
    try {
      parseConfig(AlphaVantageConfigSchema, { ALPHAVANTAGE_BASE_URL: 'ftp://x', ALPHAVANTAGE_CALLS_PER_MINUTE: '-1' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'ALPHAVANTAGE_API_KEY',
      'ALPHAVANTAGE_BASE_URL',
      'ALPHAVANTAGE_CALLS_PER_MINUTE',
    ]);
    expect((err as ConfigError).message).toContain('ALPHAVANTAGE_API_KEY: is required');
  });
});
