import { civilFromDays, daysFromCivil } from './iso-time';
import { easterSunday, isTradingDay, nyseHolidays, tradingDaysBetween } from './trading-calendar';

const iso = (d: number) =>
  civilFromDays(d)
    .map((x, i) => String(x).padStart(i ? 2 : 4, '0'))
    .join('-');
const day = (s: string) => Date.parse(`${s}T00:00:00Z`) / 86400000;

describe('NYSE calendar', () => {
  // Published NYSE holiday schedules.
  it.each([
    [
      2019,
      [
        '2019-01-01',
        '2019-01-21',
        '2019-02-18',
        '2019-04-19',
        '2019-05-27',
        '2019-07-04',
        '2019-09-02',
        '2019-11-28',
        '2019-12-25',
      ],
    ],
    [
      2021,
      [
        '2021-01-01',
        '2021-01-18',
        '2021-02-15',
        '2021-04-02',
        '2021-05-31',
        '2021-07-05',
        '2021-09-06',
        '2021-11-25',
        '2021-12-24',
      ],
    ],
    [
      2022,
      [
        '2022-01-17',
        '2022-02-21',
        '2022-04-15',
        '2022-05-30',
        '2022-06-20',
        '2022-07-04',
        '2022-09-05',
        '2022-11-24',
        '2022-12-26',
      ],
    ],
    [
      1997,
      ['1997-01-01', '1997-02-17', '1997-03-28', '1997-05-26', '1997-07-04', '1997-09-01', '1997-11-27', '1997-12-25'],
    ],
    [
      2001,
      [
        '2001-01-01',
        '2001-01-15',
        '2001-02-19',
        '2001-04-13',
        '2001-05-28',
        '2001-07-04',
        '2001-09-03',
        '2001-09-11',
        '2001-09-12',
        '2001-09-13',
        '2001-09-14',
        '2001-11-22',
        '2001-12-25',
      ],
    ],
  ])('holidays of %i', (year, expected) => {
    expect(nyseHolidays(year).map(iso)).toEqual(expected);
  });

  it('computes Easter (known dates)', () => {
    expect(iso(easterSunday(2024))).toBe('2024-03-31');
    expect(iso(easterSunday(2000))).toBe('2000-04-23');
    expect(iso(easterSunday(2038))).toBe('2038-04-25');
  });

  it('counts trading days between two dates', () => {
    expect(isTradingDay('nyse', daysFromCivil(2024, 1, 15))).toBe(false); // MLK day
    expect(isTradingDay('weekdays', daysFromCivil(2024, 1, 15))).toBe(true);
    expect(isTradingDay('nyse', daysFromCivil(2024, 1, 13))).toBe(false); // Saturday
    // Fri 2024-12-20 .. Thu 2025-01-02: 23, 24, 26, 27, 30, 31 (25 Dec and 1 Jan closed).
    expect(tradingDaysBetween('nyse', day('2024-12-20'), day('2025-01-02'))).toBe(6);
    expect(tradingDaysBetween('weekdays', day('2024-12-20'), day('2025-01-02'))).toBe(8);
    expect(tradingDaysBetween('24x7', day('2024-12-20'), day('2025-01-02'))).toBe(12);
    expect(tradingDaysBetween('nyse', day('2024-12-20'), day('2024-12-21'))).toBe(0);
  });
});
