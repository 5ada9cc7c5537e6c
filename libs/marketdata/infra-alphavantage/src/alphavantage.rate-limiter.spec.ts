import { AlphaVantageQuotaExceededError } from './alphavantage.errors';
import { TokenBucketRateLimiter } from './alphavantage.rate-limiter';
import { FakeClock } from './testing/alphavantage-replay.server';

describe('TokenBucketRateLimiter', () => {
  it('allows a burst of the per-minute capacity, then one call per 60 s / rate', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ callsPerMinute: 5, callsPerDay: 100 }, clock);
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      await limiter.acquire();
      times.push(clock.now());
    }
    expect(times).toEqual([0, 0, 0, 0, 0, 12_000, 24_000, 36_000]);
  });

  it('refills while idle, up to capacity only', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ callsPerMinute: 2, callsPerDay: Infinity }, clock);
    await limiter.acquire();
    await limiter.acquire();
    clock.t += 3_600_000; // an hour idle refills 2 tokens, not 120
    expect(limiter.available().minute).toBe(2);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      await limiter.acquire();
      times.push(clock.now() - 3_600_000);
    }
    expect(times).toEqual([0, 0, 30_000]);
  });

  it('fails fast when the daily budget is spent and recovers as it refills', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ callsPerMinute: 100, callsPerDay: 25 }, clock);
    for (let i = 0; i < 25; i++) await limiter.acquire();
    const err = await limiter.acquire().catch((e) => e);
    expect(err).toBeInstanceOf(AlphaVantageQuotaExceededError);
    expect(err.retryAfterMs).toBe(86_400_000 / 25);
    clock.t += 86_400_000 / 25;
    await expect(limiter.acquire()).resolves.toBeUndefined();
  });

  it('serves concurrent callers in FIFO order', async () => {
    const clock = new FakeClock(0);
    const limiter = new TokenBucketRateLimiter({ callsPerMinute: 1, callsPerDay: Infinity }, clock);
    const order: number[] = [];
    await Promise.all([0, 1, 2].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2]);
    expect(clock.sleeps).toEqual([60_000, 60_000]);
  });
});
