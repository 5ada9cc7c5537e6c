import { isKnownTimeZone, wallTimeToUtcMs, zoneOffsetMs } from './exchange-time';

const wall = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
const iso = (ms: number) => new Date(ms).toISOString();

describe('exchange time → UTC', () => {
  it('follows US/Eastern daylight saving (second Sunday of March, first Sunday of November)', () => {
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 1, 15, 9, 30)))).toBe('2024-01-15T14:30:00.000Z');
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 7, 15, 9, 30)))).toBe('2024-07-15T13:30:00.000Z');
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 3, 10, 1, 59)))).toBe('2024-03-10T06:59:00.000Z');
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 3, 10, 3, 0)))).toBe('2024-03-10T07:00:00.000Z');
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 11, 3, 0, 30)))).toBe('2024-11-03T04:30:00.000Z');
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 11, 3, 2, 30)))).toBe('2024-11-03T07:30:00.000Z');
    // Before 2007 the US changed on the first Sunday of April and the last Sunday of October.
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2005, 4, 1, 9, 30)))).toBe('2005-04-01T14:30:00.000Z');
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2005, 4, 4, 9, 30)))).toBe('2005-04-04T13:30:00.000Z');
  });

  it('returns NaN for a skipped wall time and the earlier instant for a repeated one', () => {
    expect(wallTimeToUtcMs('US/Eastern', wall(2024, 3, 10, 2, 30))).toBeNaN();
    expect(iso(wallTimeToUtcMs('US/Eastern', wall(2024, 11, 3, 1, 30)))).toBe('2024-11-03T05:30:00.000Z');
  });

  it('handles other exchanges and knows which zones exist', () => {
    expect(iso(wallTimeToUtcMs('Europe/London', wall(2024, 7, 1, 8)))).toBe('2024-07-01T07:00:00.000Z');
    expect(iso(wallTimeToUtcMs('Asia/Kolkata', wall(2024, 7, 1, 9, 15)))).toBe('2024-07-01T03:45:00.000Z');
    expect(zoneOffsetMs('UTC', Date.UTC(2024, 0, 1, 0, 0, 0, 500))).toBe(0);
    expect(isKnownTimeZone('US/Eastern')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus')).toBe(false);
  });
});
