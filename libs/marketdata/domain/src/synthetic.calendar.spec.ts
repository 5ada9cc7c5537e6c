import { isTradingDay, tradingDaysBetween } from '@strata/shared-timeseries';
import { layoutSlots, timeZoneOffsetMs, US_EQUITY_SESSION, zonedWallTimeToUtcMs } from './synthetic.calendar';
import { generateSyntheticSeries } from './synthetic.generator';
import { formatIngestTimestamp, INGEST_CSV_HEADER, toIngestCsv } from './synthetic.csv';

const iso = (ms: number) => new Date(ms).toISOString();

describe('time zone conversion', () => {
  it('maps New York wall times to UTC across both 2024 DST changes (EST = UTC−5, EDT = UTC−4)', () => {
    const ny = 'America/New_York';
    expect(iso(zonedWallTimeToUtcMs(ny, 2024, 3, 8, 9 * 60 + 30))).toBe('2024-03-08T14:30:00.000Z'); // Friday, EST
    expect(iso(zonedWallTimeToUtcMs(ny, 2024, 3, 11, 9 * 60 + 30))).toBe('2024-03-11T13:30:00.000Z'); // Monday after, EDT
    expect(iso(zonedWallTimeToUtcMs(ny, 2024, 11, 1, 9 * 60 + 30))).toBe('2024-11-01T13:30:00.000Z'); // Friday, EDT
    expect(iso(zonedWallTimeToUtcMs(ny, 2024, 11, 4, 9 * 60 + 30))).toBe('2024-11-04T14:30:00.000Z'); // Monday after, EST
    // 01:30 on 2024-11-03 happens twice: the earlier (EDT) instant is chosen.
    expect(iso(zonedWallTimeToUtcMs(ny, 2024, 11, 3, 90))).toBe('2024-11-03T05:30:00.000Z');
    // 02:30 on 2024-03-10 does not exist: mapped with the pre-change offset (= 03:30 EDT).
    expect(iso(zonedWallTimeToUtcMs(ny, 2024, 3, 10, 150))).toBe('2024-03-10T07:30:00.000Z');
    expect(timeZoneOffsetMs('Europe/London', Date.UTC(2024, 6, 1))).toBe(3_600_000);
    expect(timeZoneOffsetMs('UTC', Date.UTC(2024, 6, 1, 12, 0, 0, 123))).toBe(0);
  });
});

describe('layoutSlots', () => {
  it('daily weekday bars skip weekends and sit at 00:00 UTC', () => {
    const s = layoutSlots(6, '1d', 'weekdays', Date.parse('2024-03-09T00:00:00Z'), US_EQUITY_SESSION); // a Saturday
    expect(Array.from(s.ts, (t) => iso(t).slice(0, 10))).toEqual([
      '2024-03-11',
      '2024-03-12',
      '2024-03-13',
      '2024-03-14',
      '2024-03-15',
      '2024-03-18',
    ]);
    expect(s.barsPerYear).toBe(252);
    expect(Array.from(s.sessionStart)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('NYSE daily bars skip exchange holidays (2024-01-15 Martin Luther King Jr. Day)', () => {
    const s = layoutSlots(3, '1d', 'nyse', Date.parse('2024-01-12T00:00:00Z'), US_EQUITY_SESSION);
    expect(Array.from(s.ts, (t) => iso(t).slice(0, 10))).toEqual(['2024-01-12', '2024-01-16', '2024-01-17']);
  });

  it('NYSE daily slots are exactly the market data library trading days, far into the future too', () => {
    for (const start of ['1995-01-02', '2190-06-01']) {
      const s = layoutSlots(5_000, '1d', 'nyse', Date.parse(`${start}T00:00:00Z`), US_EQUITY_SESSION);
      let wrong = 0;
      for (let i = 1; i < s.ts.length; i++) {
        const a = s.ts[i - 1] / 86_400_000;
        const b = s.ts[i] / 86_400_000;
        if (!isTradingDay('nyse', b) || tradingDaysBetween('nyse', a, b) !== 0) wrong++;
      }
      expect(wrong).toBe(0);
    }
  });

  it('intraday NYSE bars fill 09:30–16:00 New York time, following DST in UTC', () => {
    const s = layoutSlots(14, '1h', 'nyse', Date.parse('2024-03-08T00:00:00Z'), US_EQUITY_SESSION);
    expect(Array.from(s.ts, iso)).toEqual([
      '2024-03-08T14:30:00.000Z',
      '2024-03-08T15:30:00.000Z',
      '2024-03-08T16:30:00.000Z',
      '2024-03-08T17:30:00.000Z',
      '2024-03-08T18:30:00.000Z',
      '2024-03-08T19:30:00.000Z',
      '2024-03-08T20:30:00.000Z',
      '2024-03-11T13:30:00.000Z',
      '2024-03-11T14:30:00.000Z',
      '2024-03-11T15:30:00.000Z',
      '2024-03-11T16:30:00.000Z',
      '2024-03-11T17:30:00.000Z',
      '2024-03-11T18:30:00.000Z',
      '2024-03-11T19:30:00.000Z',
    ]);
    expect(Array.from(s.sessionStart)).toEqual([1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(s.barsPerYear).toBe(7 * 252);
    expect(layoutSlots(1, '1m', 'weekdays', 0, US_EQUITY_SESSION).barsPerYear).toBe(390 * 252);
  });

  it('24x7 bars are contiguous', () => {
    const s = layoutSlots(3, '15m', '24x7', Date.parse('2021-01-01T23:30:00Z'), US_EQUITY_SESSION);
    expect(Array.from(s.ts, iso)).toEqual([
      '2021-01-01T23:30:00.000Z',
      '2021-01-01T23:45:00.000Z',
      '2021-01-02T00:00:00.000Z',
    ]);
    expect(s.barsPerYear).toBe(365 * 96);
  });
});

describe('toIngestCsv', () => {
  /** Minimal independent parser of the ingest CSV format. */
  function parse(text: string) {
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    return { header: lines[0], rows: lines.slice(1).map((l) => l.split(',')) };
  }

  it('writes daily bars as YYYY-MM-DD rows whose numbers parse back to the exact doubles', () => {
    const s = generateSyntheticSeries({
      seed: 9,
      bars: 500,
      timeframe: '1d',
      anomalies: { rates: { bad_tick: 0.05, gap: 0.02 } },
    });
    const { header, rows } = parse(toIngestCsv(s, s.timeframe));
    expect(header).toBe(INGEST_CSV_HEADER);
    expect(rows).toHaveLength(s.length);
    rows.forEach((r, i) => {
      expect(r).toHaveLength(6);
      expect(r[0]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Date.parse(`${r[0]}T00:00:00Z`)).toBe(s.ts[i]);
      expect(r.slice(1).map(Number)).toEqual([s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]]);
    });
    // Event lines point at the labelled rows (header = line 1).
    const text = toIngestCsv(s, s.timeframe).split('\n');
    for (const e of s.truth.events) expect(text[e.line - 1].startsWith(iso(e.ts).slice(0, 10))).toBe(true);
  });

  it('appends adj_close when the bars carry one, and writes just the header for no bars', () => {
    const f = (xs: number[]) => Float64Array.from(xs);
    const bars = {
      length: 1,
      ts: f([Date.UTC(2020, 7, 31)]),
      open: f([127.58]),
      high: f([131]),
      low: f([126]),
      close: f([129.04]),
      volume: f([225702700]),
      adjClose: f([126.8995]),
    };
    expect(toIngestCsv(bars, '1d')).toBe(
      'timestamp,open,high,low,close,volume,adj_close\n2020-08-31,127.58,131,126,129.04,225702700,126.8995\n',
    );
    expect(toIngestCsv({ ...bars, length: 0, adjClose: null }, '1d')).toBe(`${INGEST_CSV_HEADER}\n`);
  });

  it('writes intraday bars as ISO-8601 UTC with a Z and no milliseconds', () => {
    const s = generateSyntheticSeries({ seed: 9, bars: 3, timeframe: '5m', start: '2024-07-01' });
    const { rows } = parse(toIngestCsv(s, s.timeframe));
    expect(rows.map((r) => r[0])).toEqual(['2024-07-01T13:30:00Z', '2024-07-01T13:35:00Z', '2024-07-01T13:40:00Z']);
  });
});

describe('formatIngestTimestamp', () => {
  it('agrees with Date#toISOString over many dates and times, leap days and centuries included', () => {
    let wrong = 0;
    for (let ms = Date.UTC(1899, 0, 1); ms < Date.UTC(2401, 0, 1); ms += 86_400_000 * 7 + 3_661_000) {
      const iso = new Date(ms).toISOString();
      if (formatIngestTimestamp(ms, '1d') !== iso.slice(0, 10)) wrong++;
      if (formatIngestTimestamp(ms, '1m') !== `${iso.slice(0, 19)}Z`) wrong++;
    }
    expect(wrong).toBe(0);
    expect(formatIngestTimestamp(Date.UTC(2000, 1, 29, 23, 59, 59, 5), '5m')).toBe('2000-02-29T23:59:59.005Z');
  });
});
