import { AlphaVantageQuotaExceededError } from './alphavantage.errors';

/** Time source and sleeper; injectable so tests run rate limits and backoff without waiting. Times in epoch ms. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Call budget of an Alpha Vantage plan. The free plan allows 5 calls per minute and 25 per day. */
export interface RateLimits {
  /** Calls per rolling minute (token bucket: bursts up to this many, then one every 60 s / callsPerMinute). */
  callsPerMinute: number;
  /** Calls per rolling 24 h (token bucket refilled evenly over a day); `Infinity` for plans without a daily cap. */
  callsPerDay: number;
}

/** The free plan: 5 calls per minute, 25 per day. */
export const FREE_PLAN_LIMITS: RateLimits = { callsPerMinute: 5, callsPerDay: 25 };

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/**
 * Client-side rate limiter: two token buckets (per minute, per day), both starting full. `acquire()` waits (on the
 * injected clock) for a per-minute token, and throws {@link AlphaVantageQuotaExceededError} instead of waiting when
 * the daily bucket is empty (waiting hours inside one request helps nobody; the error says how long). Callers are served
 * in FIFO order, so concurrent requests are spaced too.
 */
export class TokenBucketRateLimiter {
  private minuteTokens: number;
  private dayTokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly limits: RateLimits,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(limits.callsPerMinute > 0)) throw new RangeError('callsPerMinute must be > 0');
    if (!(limits.callsPerDay > 0)) throw new RangeError('callsPerDay must be > 0');
    this.minuteTokens = limits.callsPerMinute;
    this.dayTokens = limits.callsPerDay;
    this.last = clock.now();
  }

  /** Resolves when one call may be made (and counts it); rejects with {@link AlphaVantageQuotaExceededError} when the daily budget is spent. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Tokens currently available per bucket (after refill), for diagnostics. */
  available(): { minute: number; day: number } {
    this.refill();
    return { minute: this.minuteTokens, day: this.dayTokens };
  }

  private refill(): void {
    const now = this.clock.now();
    const dt = Math.max(0, now - this.last);
    this.last = now;
    const { callsPerMinute, callsPerDay } = this.limits;
    this.minuteTokens = Math.min(callsPerMinute, this.minuteTokens + (dt * callsPerMinute) / MINUTE_MS);
    if (Number.isFinite(callsPerDay))
      this.dayTokens = Math.min(callsPerDay, this.dayTokens + (dt * callsPerDay) / DAY_MS);
  }

  private async take(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.dayTokens < 1) {
        const waitMs = Math.ceil(((1 - this.dayTokens) * DAY_MS) / this.limits.callsPerDay);
        throw new AlphaVantageQuotaExceededError(
          `the client-side budget of ${this.limits.callsPerDay} Alpha Vantage calls per day is spent; the next call is allowed in ${Math.ceil(waitMs / 1000)} s`,
          waitMs,
        );
      }
      if (this.minuteTokens >= 1) {
        this.minuteTokens -= 1;
        if (Number.isFinite(this.limits.callsPerDay)) this.dayTokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.minuteTokens) * MINUTE_MS) / this.limits.callsPerMinute));
    }
  }
}
