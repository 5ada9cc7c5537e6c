import { inferTradingCalendar } from '@strata/shared-timeseries';
import { findCalendarGaps } from './calendar-gaps';

describe('findCalendarGaps', () => {
  const ts = (...isos: string[]) => Float64Array.from(isos.map((s) => Date.parse(s)));

  it('1d on nyse: weekends and holidays are not gaps, missing sessions are', () => {
    const t = ts('2024-07-03T00:00:00Z', '2024-07-05T00:00:00Z', '2024-07-08T00:00:00Z', '2024-07-11T00:00:00Z');
    expect(findCalendarGaps(t, '1d', 'nyse')).toEqual([
      { after: '2024-07-08T00:00:00.000Z', before: '2024-07-11T00:00:00.000Z', missingBars: 2 },
    ]);
    expect(findCalendarGaps(t, '1d', 'weekdays').map((g) => g.missingBars)).toEqual([1, 2]);
  });

  it('intraday 24x7: each missing step counts, off-grid bars included', () => {
    const t = ts('2021-01-01T00:00:00Z', '2021-01-01T01:00:00Z', '2021-01-01T04:00:00Z', '2021-01-01T06:30:00Z');
    expect(findCalendarGaps(t, '1h', '24x7').map((g) => g.missingBars)).toEqual([2, 2]);
  });

  it('intraday session market: overnight is not a gap; in-session holes and missing sessions are', () => {
    const t = ts(
      '2024-01-11T14:00:00Z',
      '2024-01-11T15:00:00Z',
      '2024-01-11T16:00:00Z',
      '2024-01-12T14:00:00Z',
      '2024-01-12T16:00:00Z', // 15:00 missing
      '2024-01-17T14:00:00Z', // Tue 16 missing (Mon 15 MLK): 1 session x 3 bars
    );
    expect(findCalendarGaps(t, '1h', 'nyse')).toEqual([
      { after: '2024-01-12T14:00:00.000Z', before: '2024-01-12T16:00:00.000Z', missingBars: 1 },
      { after: '2024-01-12T16:00:00.000Z', before: '2024-01-17T14:00:00.000Z', missingBars: 3 },
    ]);
  });

  it('infers 24x7 from weekend bars', () => {
    expect(inferTradingCalendar(ts('2024-01-12T00:00:00Z', '2024-01-13T00:00:00Z'))).toBe('24x7');
    expect(inferTradingCalendar(ts('2024-01-12T00:00:00Z', '2024-01-15T00:00:00Z'))).toBe('nyse');
  });
});
