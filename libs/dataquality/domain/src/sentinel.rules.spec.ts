import { findCalendarGaps, generateSyntheticSeries } from '@strata/marketdata-domain';
import { formatIsoUtc } from '@strata/shared-timeseries';
import { type OhlcvSeries } from '@strata/marketdata-contracts';
import { correctionAnomaly, excursionAt, matchSplit, missingBarsBefore } from './sentinel.rules';
import { DEFAULT_SENTINEL_CONFIG } from './sentinel.config';

describe('missingBarsBefore', () => {
  it.each([
    ['1d', 'nyse'],
    ['1h', 'nyse'],
    ['1h', '24x7'],
    ['5m', 'nyse'],
  ] as const)('marks exactly the holes findCalendarGaps reports (%s, %s)', (timeframe, calendar) => {
    const s = generateSyntheticSeries({
      seed: `gaps-${timeframe}-${calendar}`,
      bars: 4000,
      timeframe,
      calendar,
      anomalies: { rates: { gap: 0.01 } },
    });
    const reference = findCalendarGaps(s.ts, timeframe, calendar);
    const ours: string[] = [];
    for (let i = 1; i < s.length; i++) {
      const m = missingBarsBefore(s.ts, i, timeframe, calendar);
      if (m) ours.push(formatIsoUtc(s.ts[i]));
    }
    expect(ours).toEqual(reference.map((g) => g.before));
    expect(ours.length).toBeGreaterThan(5);
    // Counts agree where they do not depend on the session-size estimate (daily, 24x7, same-day holes).
    if (timeframe === '1d' || calendar === '24x7') {
      for (const g of reference) {
        const i = s.ts.indexOf(Date.parse(g.before));
        expect(missingBarsBefore(s.ts, i, timeframe, calendar)?.bars).toBe(g.missingBars);
      }
    }
  });
});

function bars(rows: number[][]): OhlcvSeries {
  const col = (k: number) => Float64Array.from(rows.map((r) => r[k]));
  return {
    ts: Float64Array.from(rows.map((_, i) => i * 86_400_000)),
    open: col(0),
    high: col(1),
    low: col(2),
    close: col(3),
    volume: col(4),
  };
}

describe('excursionAt and matchSplit', () => {
  it('measures a wick against the median of the neighbours and sees it revert', () => {
    const b = bars([
      [100, 101, 99, 100, 10],
      [100, 130, 99, 100.5, 10],
      [100.4, 101, 99.5, 100.2, 10],
    ]);
    const e = excursionAt(b, 1, 0.6);
    // ref = median(100, 100.5, 100, 100.4, 100.2) = 100.2; farthest field high: ln(130/100.2).
    expect(e.ref).toBe(100.2);
    expect(e.field).toBe('high');
    expect(e.logSize).toBeCloseTo(Math.log(130 / 100.2), 12);
    expect(e.reverted).toBe(true);
  });

  it('matches a 7:1 split with rising volume, not a crash of the same size with the next bar reverting', () => {
    const split = bars([
      [640, 650, 636, 645.57, 12e6],
      [92.69, 93.88, 91.75, 93.7, 73e6],
      [94.64, 95.05, 93.57, 94.25, 60e6],
    ]);
    expect(matchSplit(split, 1, DEFAULT_SENTINEL_CONFIG.rules)).toEqual({
      newShares: 7,
      oldShares: 1,
      priceRatio: 645.57 / 92.69,
      volumeRatio: 73 / 12,
    });
    const fallingVolume = bars([
      [640, 650, 636, 645.57, 12e6],
      [92.69, 93.88, 91.75, 93.7, 5e6],
      [94.64, 95.05, 93.57, 94.25, 6e6],
    ]);
    expect(matchSplit(fallingVolume, 1, DEFAULT_SENTINEL_CONFIG.rules)).toBeNull();
    const reverts = bars([
      [640, 650, 636, 645.57, 12e6],
      [92.69, 93.88, 91.75, 93.7, 73e6],
      [640, 650, 636, 645, 60e6],
    ]);
    expect(matchSplit(reverts, 1, DEFAULT_SENTINEL_CONFIG.rules)).toBeNull();
  });
});

describe('correctionAnomaly', () => {
  const base = { open: 10, high: 11, low: 9, close: 10.5, volume: 100, adjClose: null };
  const c = (nw: Partial<typeof base>) => ({
    symbol: 'AAPL',
    timeframe: '1d' as const,
    ts: '2024-01-02T00:00:00.000Z',
    old: base,
    new: { ...base, ...nw },
    oldIngestionId: 'a',
    ingestionId: 'b',
    correctedAt: '2024-01-03T00:00:00.000Z',
  });

  it('is HIGH for a small correction and CRITICAL from 5 %, with the change in words', () => {
    const small = correctionAnomaly(c({ close: 10.6 }));
    expect(small).toMatchObject({
      kind: 'correction',
      severity: 'HIGH',
      index: -1,
      ts: Date.parse('2024-01-02T00:00:00.000Z'),
    });
    expect(small.reason).toBe('stored bar corrected by ingestion b: close 10.50 → 10.60 (+1.0%)');
    expect(correctionAnomaly(c({ high: 12 })).severity).toBe('CRITICAL'); // +9.1 %
  });
});
