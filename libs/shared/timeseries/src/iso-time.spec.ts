import { civilFromDays, daysFromCivil, formatIsoUtc, parseIsoTimestamp, weekday } from './iso-time';

describe('parseIsoTimestamp', () => {
  it('matches Date.parse on accepted forms (UTC when no offset)', () => {
    const cases: [string, string][] = [
      ['2024-01-02', '2024-01-02T00:00:00Z'],
      ['2024-02-29', '2024-02-29T00:00:00Z'],
      ['1998-01-02T14:00:00Z', '1998-01-02T14:00:00Z'],
      ['1998-01-02T14:00', '1998-01-02T14:00:00Z'],
      ['1998-01-02 14:00:00', '1998-01-02T14:00:00Z'],
      ['2021-03-31T19:00:00.5Z', '2021-03-31T19:00:00.500Z'],
      ['2021-03-31T19:00:00.123000Z', '2021-03-31T19:00:00.123Z'],
      ['2021-03-31T15:00:00-04:00', '2021-03-31T19:00:00Z'],
      ['2021-03-31T15:00:00-0400', '2021-03-31T19:00:00Z'],
      ['2021-04-01T01:30:00+05:30', '2021-03-31T20:00:00Z'],
      ['2021-03-31T21:00:00+02', '2021-03-31T19:00:00Z'],
      ['1969-12-31T23:59:59Z', '1969-12-31T23:59:59Z'],
      ['2000-02-29t00:00:00z', '2000-02-29T00:00:00Z'],
    ];
    for (const [input, ref] of cases) expect([input, parseIsoTimestamp(input)]).toEqual([input, Date.parse(ref)]);
  });

  it('rejects impossible or unsupported text', () => {
    for (const t of [
      '',
      '2024-1-02',
      '2023-02-29',
      '1900-02-29',
      '2024-04-31',
      '2024-00-10',
      '2024-01-02T24:00:00Z',
      '2024-01-02T12:60',
      '2024-01-02T12:00:60Z',
      '2024-01-02T12:00:00.1234Z',
      '2024-01-02T12',
      '2024-01-02X12:00',
      '2024-01-02T12:00Z+',
      '2024-01-02T12:00:00+5',
      '20240102',
      '2024/01/02',
      '2024-01-02T12:00:00.Z',
      'abcd-ef-gh',
    ]) {
      expect([t, parseIsoTimestamp(t)]).toEqual([t, NaN]);
    }
  });

  it('allows sub-millisecond digits only when they are zero', () => {
    expect(parseIsoTimestamp('2024-01-02T00:00:00.001000000Z')).toBe(Date.parse('2024-01-02T00:00:00.001Z'));
    expect(parseIsoTimestamp('2024-01-02T00:00:00.0010001Z')).toBeNaN();
  });

  it('parses a slice of a longer string', () => {
    const s = 'x,2024-01-02,y';
    expect(parseIsoTimestamp(s, 2, 12)).toBe(Date.UTC(2024, 0, 2));
  });
});

describe('civil day numbers', () => {
  it('round-trips and agrees with Date.UTC over 1600–2400', () => {
    for (let d = daysFromCivil(1600, 1, 1); d < daysFromCivil(2400, 1, 1); d += 17) {
      const [y, m, dd] = civilFromDays(d);
      expect(daysFromCivil(y, m, dd)).toBe(d);
      expect(Date.UTC(y, m - 1, dd)).toBe(d * 86400000);
      expect(weekday(d)).toBe(new Date(d * 86400000).getUTCDay());
    }
  });
  it('formats ISO UTC', () => {
    expect(formatIsoUtc(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});
