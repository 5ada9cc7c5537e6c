import { ConfigError } from './config';
import { DEFAULT_STREAM_LIMITS, resolveStreamLimits, streamLimitsFromEnv } from './stream-limits';

const DAY = 86_400_000;
const MIB = 1024 * 1024;
const DOMAINS = ['marketdata', 'dataquality', 'signals'];

describe('stream limits', () => {
  it('defaults: a year for domain streams, data quality and dead letters bounded by age and size', () => {
    expect(resolveStreamLimits('MARKETDATA')).toEqual({ maxAgeMs: 365 * DAY, maxBytes: -1, discard: 'old' });
    expect(resolveStreamLimits('DATAQUALITY')).toEqual({ maxAgeMs: 30 * DAY, maxBytes: 256 * MIB, discard: 'old' });
    expect(resolveStreamLimits('DLQ_MARKETDATA')).toEqual(DEFAULT_STREAM_LIMITS.deadLetters);
    expect(DEFAULT_STREAM_LIMITS.deadLetters).toEqual({ maxAgeMs: 30 * DAY, maxBytes: 64 * MIB, discard: 'old' });
  });

  it('reads STRATA_STREAM_<STREAM>_* overrides: DLQ for every dead-letter stream, then the stream itself', () => {
    const cfg = streamLimitsFromEnv(
      {
        STRATA_STREAM_MARKETDATA_MAX_AGE: '730d',
        STRATA_STREAM_MARKETDATA_MAX_BYTES: '10GiB',
        STRATA_STREAM_DATAQUALITY_DISCARD: 'new',
        STRATA_STREAM_DLQ_MAX_BYTES: '16MiB',
        STRATA_STREAM_DLQ_SIGNALS_MAX_AGE: '12h',
        STRATA_STREAM_SIGNALS_MAX_BYTES: '-1',
        STRATA_STREAM_SIGNALS_MAX_AGE: '',
        OTHER: 'x',
      },
      DOMAINS,
    );
    expect(resolveStreamLimits('MARKETDATA', cfg)).toEqual({
      maxAgeMs: 730 * DAY,
      maxBytes: 10 * 1024 * MIB,
      discard: 'old',
    });
    expect(resolveStreamLimits('DATAQUALITY', cfg)).toEqual({
      maxAgeMs: 30 * DAY,
      maxBytes: 256 * MIB,
      discard: 'new',
    });
    expect(resolveStreamLimits('DLQ_MARKETDATA', cfg)).toEqual({
      maxAgeMs: 30 * DAY,
      maxBytes: 16 * MIB,
      discard: 'old',
    });
    expect(resolveStreamLimits('DLQ_SIGNALS', cfg)).toEqual({
      maxAgeMs: 12 * 3_600_000,
      maxBytes: 16 * MIB,
      discard: 'old',
    });
    expect(resolveStreamLimits('SIGNALS', cfg)).toEqual({ maxAgeMs: 365 * DAY, maxBytes: -1, discard: 'old' });
  });

  it('names every bad variable: unknown stream, bad duration, bad size, bad discard policy', () => {
    let err: unknown;
    try {
      streamLimitsFromEnv(
        {
          STRATA_STREAM_MARKETDAT_MAX_AGE: '1d',
          STRATA_STREAM_MARKETDATA_MAX_AGE: 'a year',
          STRATA_STREAM_DLQ_MAX_BYTES: '12 MB',
          STRATA_STREAM_SIGNALS_DISCARD: 'oldest',
          STRATA_STREAM_SIGNALS_RETENTION: 'work',
        },
        DOMAINS,
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues.map((i) => i.variable).sort()).toEqual([
      'STRATA_STREAM_DLQ_MAX_BYTES',
      'STRATA_STREAM_MARKETDATA_MAX_AGE',
      'STRATA_STREAM_MARKETDAT_MAX_AGE',
      'STRATA_STREAM_SIGNALS_DISCARD',
      'STRATA_STREAM_SIGNALS_RETENTION',
    ]);
    expect((err as ConfigError).message).toContain('STRATA_STREAM_MARKETDAT_MAX_AGE: no stream MARKETDAT');
  });
});
