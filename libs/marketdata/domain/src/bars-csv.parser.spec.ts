import { BarsCsvFormatError } from './bars';
import { parseBarsCsv, readBarsCsv } from './bars-csv.parser';

const HEADER = 'timestamp,open,high,low,close,volume';

/** A file with one good row between every planted bad row; `expected` lists (line, reason) of each bad row. */
const PLANTED = [
  HEADER, //                                                    line 1
  '2024-01-02,10,11,9,10.5,1000', //                            2 ok
  '2024-01-03,10,11,9,10.5', //                                 3 unparsable: 5 fields
  '2024-01-03,10,11,9,10.5,1000', //                            4 ok
  '2024-13-01,10,11,9,10.5,1000', //                            5 unparsable: month 13
  '2024-01-04,ten,11,9,10.5,1000', //                           6 unparsable: open
  '2024-01-04,10,11,9,10.5,1000', //                            7 ok
  '2024-01-05,NaN,11,9,10.5,1000', //                           8 non_finite
  '2024-01-05,10,1e999,9,10.5,1000', //                         9 non_finite (overflow)
  '2024-01-05,10,11,9,10.5,1000', //                            10 ok
  '2024-01-08,0,11,9,10.5,1000', //                             11 non_positive_price (open)
  '2024-01-08,10,11,-9,10.5,1000', //                           12 non_positive_price (low)
  '2024-01-08,10,11,9,10.5,1000', //                            13 ok
  '2024-01-09,10,8,9,8.5,1000', //                              14 high_below_low
  '2024-01-09,12,11,9,10.5,1000', //                            15 open_close_outside_range (open > high)
  '2024-01-09,10,11,9,8.5,1000', //                             16 open_close_outside_range (close < low)
  '2024-01-09,10,11,9,10.5,-1', //                              17 negative_volume
  '2024-01-09,10,11,9,10.5,1000', //                            18 ok
  '2024-01-09,10,11,9,10.5,1000', //                            19 duplicate_timestamp
  '2024-01-05,10,11,9,10.5,1000', //                            20 out_of_order
  '', //                                                        21 unparsable: blank line between rows
  '2024-01-10T00:00:00Z,10,11,9,10.5,0', //                     22 ok (zero volume is allowed)
  '2024-01-11 00:00:00+00:00, 10 ,"11",9,10.5,1000', //        23 ok (space separator, padding, quotes)
  '',
  '',
].join('\n');

const EXPECTED_REJECTS: [number, string][] = [
  [3, 'unparsable'],
  [5, 'unparsable'],
  [6, 'unparsable'],
  [8, 'non_finite'],
  [9, 'non_finite'],
  [11, 'non_positive_price'],
  [12, 'non_positive_price'],
  [14, 'high_below_low'],
  [15, 'open_close_outside_range'],
  [16, 'open_close_outside_range'],
  [17, 'negative_volume'],
  [19, 'duplicate_timestamp'],
  [20, 'out_of_order'],
  [21, 'unparsable'],
];
const EXPECTED_GOOD_LINES = [2, 4, 7, 10, 13, 18, 22, 23];

describe('parseBarsCsv', () => {
  it('rejects every planted bad row with its reason and line, and keeps every good row', () => {
    const r = parseBarsCsv(PLANTED);
    expect(r.rejects.map((x) => [x.line, x.reason])).toEqual(EXPECTED_REJECTS);
    expect(Array.from(r.bars.line)).toEqual(EXPECTED_GOOD_LINES);
    expect(r.rowsRead).toBe(EXPECTED_REJECTS.length + EXPECTED_GOOD_LINES.length);
    for (const x of r.rejects) expect(x.message.length).toBeGreaterThan(5);
  });

  it('writes messages that name the field and the value', () => {
    const r = parseBarsCsv(PLANTED);
    const msg = (line: number) => r.rejects.find((x) => x.line === line)!.message;
    expect(msg(3)).toBe('expected 6 fields, found 5');
    expect(msg(6)).toBe('open "ten" is not a finite number');
    expect(msg(11)).toBe('open 0 is not positive');
    expect(msg(14)).toBe('high 8 is below low 9');
    expect(msg(16)).toBe('close 8.5 is outside [low 9, high 11]');
    expect(msg(19)).toBe('timestamp 2024-01-09T00:00:00.000Z repeats line 18');
    expect(msg(20)).toMatch(/earlier than 2024-01-09T00:00:00.000Z on line 18/);
    expect(msg(21)).toBe('empty line');
  });

  it('stores accepted values exactly as parsed (independently: Number / Date.parse)', () => {
    const r = parseBarsCsv(PLANTED);
    expect(r.bars.length).toBe(8);
    expect(r.bars.ts[0]).toBe(Date.parse('2024-01-02T00:00:00Z'));
    expect(r.bars.ts[7]).toBe(Date.parse('2024-01-11T00:00:00Z'));
    expect(Array.from(r.bars.close)).toEqual(new Array(8).fill(10.5));
    expect(r.bars.high[7]).toBe(11);
    expect(r.bars.volume[6]).toBe(0);
    expect(r.bars.adjClose).toBeNull();
  });

  it('reads adj_close, reordered columns, CRLF and a BOM', () => {
    const csv =
      '\uFEFFVolume,Timestamp,Open,High,Low,Close,Adj_Close\r\n1500,2021-03-31T19:00:00Z,1.5,2.25,1.25,2,1.9\r\n';
    const r = parseBarsCsv(csv);
    expect(r.rejects).toEqual([]);
    expect(r.bars.length).toBe(1);
    expect(r.bars.ts[0]).toBe(Date.UTC(2021, 2, 31, 19));
    expect([r.bars.open[0], r.bars.high[0], r.bars.low[0], r.bars.close[0], r.bars.volume[0]]).toEqual([
      1.5, 2.25, 1.25, 2, 1500,
    ]);
    expect(r.bars.adjClose![0]).toBe(1.9);
  });

  it('rejects a non-positive adj_close', () => {
    const r = parseBarsCsv(`${HEADER},adj_close\n2024-01-02,10,11,9,10.5,1000,0\n`);
    expect(r.rejects).toEqual([{ line: 2, reason: 'non_positive_price', message: 'adj_close 0 is not positive' }]);
  });

  it('throws a format error naming line 1 for a malformed header', () => {
    const bad = (csv: string) => {
      try {
        parseBarsCsv(csv);
      } catch (e) {
        expect(e).toBeInstanceOf(BarsCsvFormatError);
        expect((e as BarsCsvFormatError).line).toBe(1);
        return (e as Error).message;
      }
      throw new Error('expected a format error');
    };
    expect(bad('')).toMatch(/^line 1: empty header/);
    expect(bad('timestamp,open,high,low,close\n2024-01-02,1,1,1,1\n')).toMatch(
      /^line 1: malformed header .*missing column volume/,
    );
    expect(bad('2024-01-02,10,11,9,10.5,1000\n')).toMatch(/^line 1: malformed header .*unknown column "2024-01-02"/);
    expect(bad('timestamp,open,high,low,close,volume,open\n')).toMatch(/column "open" appears twice/);
  });

  it('handles a header-only file and a missing final newline', () => {
    expect(parseBarsCsv(`${HEADER}\n`).bars.length).toBe(0);
    const r = parseBarsCsv(`${HEADER}\n2024-01-02,10,11,9,10.5,1000`);
    expect(r.bars.length).toBe(1);
    expect(r.bars.line[0]).toBe(2);
  });

  it('accepts bytes (UTF-8) like text', () => {
    const text = `${HEADER}\n2024-01-02,10,11,9,10.5,1000\n`;
    const a = parseBarsCsv(new TextEncoder().encode(text));
    expect(a.bars.length).toBe(1);
    expect(a.bars.close[0]).toBe(10.5);
  });
});

describe('readBarsCsv', () => {
  it('hashes normalised values: formatting, CRLF, column order and rejected rows do not change the hash', () => {
    const a = readBarsCsv(`${HEADER}\n2024-01-02,10.50,11,9,10.5,1000\n2024-01-03,10,11,9,10.5,1000\n`, {
      timeframe: '1d',
    });
    const b = readBarsCsv(
      'close,open,high,low,volume,timestamp\r\n10.5,10.5,11.000,9,1e3,2024-01-02T00:00:00Z\r\n1,1,1,1,1,garbage\r\n10.5,10,11,9,1000,2024-01-03\r\n',
      { timeframe: '1d' },
    );
    expect(b.rejects.map((r) => r.line)).toEqual([3]);
    expect(a.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.contentHash).toBe(a.contentHash);
    const c = readBarsCsv(`${HEADER}\n2024-01-02,10.50,11,9,10.5,1000\n2024-01-03,10,11,9,10.5,1001\n`, {
      timeframe: '1d',
    });
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  it('reports range and calendar gaps', () => {
    // 2024-01-12 (Fri) -> 2024-01-17 (Wed): Mon 15 is MLK day, so only Tue 16 is missing on the NYSE calendar.
    const b = readBarsCsv(`${HEADER}\n2024-01-11,1,1,1,1,1\n2024-01-12,1,1,1,1,1\n2024-01-17,1,1,1,1,1\n`, {
      timeframe: '1d',
    });
    expect(b.calendar).toBe('nyse');
    expect(b.from).toBe('2024-01-11T00:00:00.000Z');
    expect(b.to).toBe('2024-01-17T00:00:00.000Z');
    expect(b.gaps).toEqual([{ after: '2024-01-12T00:00:00.000Z', before: '2024-01-17T00:00:00.000Z', missingBars: 1 }]);
  });
});

describe('parseBarsCsv field splitting', () => {
  it('never merges fields when a malformed timestamp has a comma where a fixed-width one would end', () => {
    const r = parseBarsCsv('timestamp,open,high,low,close,volume\n2024,1,2,3,4,5,6\n2024-01-0,1,1,1,1,1\n');
    expect(r.rejects).toEqual([
      { line: 2, reason: 'unparsable', message: 'expected 6 fields, found 7' },
      { line: 3, reason: 'unparsable', message: 'timestamp "2024-01-0" is not an ISO-8601 date or date-time' },
    ]);
  });
  it('parses the last column as a timestamp too', () => {
    const r = parseBarsCsv(
      'open,high,low,close,volume,timestamp\n1,1,1,1,1,2024-01-02\n1,1,1,1,1,2024-01-03T00:00:00Z\n',
    );
    expect(Array.from(r.bars.ts)).toEqual([Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3)]);
  });
});

describe('parseBarsCsv on long and exponent literals, rope and flat input', () => {
  // Prices like a drifting generator prints them: 16–25 significant digits and exponent forms.
  const rows: string[] = [HEADER];
  const want: number[][] = [];
  let x = 1.2345678901234567e10;
  for (let i = 0; i < 3000; i++) {
    x *= 1.0371;
    const o = x;
    const h = x * 1.01;
    const l = x * 0.99;
    const ts = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString();
    const fmt = (v: number, k: number) => (k % 3 === 0 ? String(v) : k % 3 === 1 ? v.toFixed(4) : v.toExponential(18));
    const texts = [fmt(o, i), fmt(h, i + 1), fmt(l, i + 2), fmt(o, i + 1)];
    // Padded and quoted variants take the general path and must agree with the fast ones.
    const padded = i % 5 === 0 ? ` ${texts[0]} ` : i % 7 === 0 ? `"${texts[0]}"` : texts[0];
    rows.push(`${ts},${padded},${texts.slice(1).join(',')},${i}`);
    want.push([...texts.map(Number), i]);
  }
  const csvRope = `${rows.join('\n')}\n`;

  it('reads every price exactly as Number() does, from a rope string, a flat string and bytes', () => {
    const flat = Buffer.from(csvRope, 'utf8').toString('utf8');
    const results = [parseBarsCsv(csvRope), parseBarsCsv(flat), parseBarsCsv(Buffer.from(csvRope, 'utf8'))];
    for (const r of results) expect(r).toEqual(results[0]);
    const r = results[0];
    expect([r.bars.length, r.rejects]).toEqual([3000, []]);
    for (let k = 0; k < r.bars.length; k++) {
      const w = want[k];
      expect([r.bars.open[k], r.bars.high[k], r.bars.low[k], r.bars.close[k], r.bars.volume[k]]).toEqual(w);
    }
  });

  describe('fixed-width timestamps (date reuse) and plain numbers', () => {
    // The same rows in canonical and in shuffled column order must give the same bars and rejects (line, reason,
    // message); timestamps that share the previous row's date reuse its conversion, which must not hide a bad time or
    // a bad date.
    const CASES = [
      '2024-02-28T23:00:00Z,10,11,9,10.5,100', //             ok
      '2024-02-29T00:00:00Z,10,11,9,10.5,100', //             ok (leap day, date changes)
      '2024-02-29T01:00:00Z,10,11,9,10.5,100', //             ok (cached date)
      '2024-02-30T02:00:00Z,10,11,9,10.5,100', //             unparsable: no 30 February (date changes to an invalid one)
      '2024-02-29T24:00:00Z,10,11,9,10.5,100', //             unparsable: hour 24 (cached date, bad time)
      '2024-02-29T02:60:00Z,10,11,9,10.5,100', //             unparsable: minute 60
      '2024-02-29T02:00:60Z,10,11,9,10.5,100', //             unparsable: leap second
      '2024-02-29X02:00:00Z,10,11,9,10.5,100', //             unparsable: separator
      '2024-02-29t02:00:00Z,10,11,9,10.5,100', //             ok (lower-case t)
      '2024-02-29 03:00:00Z,10,11,9,10.5,100', //             ok (space)
      '2024-02-29T03:00:00Z,10,11,9,10.5,100', //             duplicate_timestamp
      '2024-02-29T02:30:00Z,10,11,9,10.5,100', //             out_of_order
      '2024-02-29T04:00:00Z,-0,11,9,10.5,100', //             non_positive_price
      '2024-02-29T04:00:00Z,10,11,9,10.5,-0.5', //            negative_volume
      '2024-02-29T04:00:00Z,10,8,9,8.5,100', //               high_below_low
      '2024-02-29T04:00:00Z,10,11,9,11.5,100', //             open_close_outside_range
      '2024-02-29T04:00:00Z,1.05e1,11,9,10.5,100', //         ok (exponent: general reader)
      '2024-02-29T05:00:00Z,10.000000000000001,11,9,10.5,100', // ok (17 digits: general reader)
      '2024-02-29T06:00:00Z,0000000000000010.5,11,9,10.5,100', // ok (leading zeros past 15 digits)
      '2024-02-29T07:00:00Z,10,11,9,10.5,100,7', //           unparsable: 7 fields
      '2024-02-29T08:00:00Z,10,11,9,10.5', //                 unparsable: 5 fields
      '2024-02-29T09:00:00Z,10,11,9,10.5,', //                unparsable: empty volume
      '2024-02-29T10:00:00.000Z,10,11,9,10.5,100', //         ok (fraction: general timestamp reader)
      '2024-02-29T12:00:00+01:00,10,11,9,10.5,100', //        ok (offset) = 11:00Z
      '2024-03-01,10,11,9,10.5,100', //                       ok (date only)
      '2024-03-01T00:00:00Z,10,11,9,10.5,100', //             duplicate_timestamp (same instant as the date)
      '2024-03-01T01:00:00Z,10,11,9,10.5,1e400', //           non_finite
      '2024-03-01T02:00:00Z,10,11,9,10.5,100', //             ok
    ];
    const ORDER = [5, 3, 0, 4, 1, 2]; // volume,low,timestamp,close,open,high
    const NAMES = ['timestamp', 'open', 'high', 'low', 'close', 'volume'];
    const reorder = (row: string) => {
      const f = row.split(',');
      if (f.length !== 6) return row; // field-count errors: keep as is (same count either way)
      return ORDER.map((i) => f[i]).join(',');
    };

    it('accepts and rejects the same rows whatever the column order', () => {
      const canonical = parseBarsCsv([NAMES.join(','), ...CASES].join('\n'));
      const general = parseBarsCsv([ORDER.map((i) => NAMES[i]).join(','), ...CASES.map(reorder)].join('\n'));
      expect(canonical.rejects).toEqual(general.rejects);
      expect(canonical.bars).toEqual(general.bars);
      expect(canonical.rejects.map((r) => [r.line, r.reason])).toEqual([
        [5, 'unparsable'],
        [6, 'unparsable'],
        [7, 'unparsable'],
        [8, 'unparsable'],
        [9, 'unparsable'],
        [12, 'duplicate_timestamp'],
        [13, 'out_of_order'],
        [14, 'non_positive_price'],
        [15, 'negative_volume'],
        [16, 'high_below_low'],
        [17, 'open_close_outside_range'],
        [21, 'unparsable'],
        [22, 'unparsable'],
        [23, 'unparsable'],
        [27, 'duplicate_timestamp'],
        [28, 'non_finite'],
      ]);
      // Accepted times, independently: Date.parse.
      expect(Array.from(canonical.bars.ts)).toEqual(
        [2, 3, 4, 10, 11, 18, 19, 20, 24, 25, 26, 29].map((line) => {
          const t = CASES[line - 2].split(',')[0];
          return Date.parse(t.length === 10 ? `${t}T00:00:00Z` : t.replace(/^(.{10})[t ]/, '$1T'));
        }),
      );
      expect(Array.from(canonical.bars.line)).toEqual([2, 3, 4, 10, 11, 18, 19, 20, 24, 25, 26, 29]);
      expect([canonical.bars.open[5], canonical.bars.open[6], canonical.bars.open[7]]).toEqual([
        10.5, 10.000000000000001, 10.5,
      ]);
    });

    it('does not carry a date from one input to the next', () => {
      parseBarsCsv(`${HEADER}\n2024-05-06T10:00:00Z,10,11,9,10.5,100\n`);
      const r = parseBarsCsv(
        `${HEADER}\n2024-05-06T10:00:00Z,10,11,9,10.5,100\n2024-05-07T10:00:00Z,10,11,9,10.5,100\n`,
      );
      expect(Array.from(r.bars.ts)).toEqual([Date.parse('2024-05-06T10:00:00Z'), Date.parse('2024-05-07T10:00:00Z')]);
    });

    it('reads adj_close in either column position', () => {
      const rows = [
        '2024-01-02,10,11,9,10.5,100,9.5',
        '2024-01-03,10,11,9,10.5,100,0',
        '2024-01-04,10,11,9,10.5,100,9.75',
      ];
      const a = parseBarsCsv(['timestamp,open,high,low,close,volume,adj_close', ...rows].join('\n'));
      const b = parseBarsCsv(
        [
          'adj_close,timestamp,open,high,low,close,volume',
          ...rows.map((r) => {
            const f = r.split(',');
            return [f[6], ...f.slice(0, 6)].join(',');
          }),
        ].join('\n'),
      );
      expect([a.bars, a.rejects]).toEqual([b.bars, b.rejects]);
      expect(Array.from(a.bars.adjClose!)).toEqual([9.5, 9.75]);
      expect(a.rejects.map((x) => [x.line, x.reason])).toEqual([[3, 'non_positive_price']]);
    });
  });
});
