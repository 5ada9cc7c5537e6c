import {
  AlphaVantageApiKeyError,
  AlphaVantageInvalidRequestError,
  AlphaVantagePremiumError,
  AlphaVantageRateLimitError,
  AlphaVantageResponseError,
} from './alphavantage.errors';
import { parseDailyAdjusted, parseIntraday, throwIfProviderMessage } from './alphavantage.parser';
import { fixture } from './testing/alphavantage-replay.server';

const errors = fixture<Record<string, Record<string, unknown>>>('errors.json');

describe('parseDailyAdjusted', () => {
  it('turns the newest-first JSON into oldest-first rows with the exact decimal values', () => {
    const s = parseDailyAdjusted(fixture('daily-adjusted-aapl.json'));
    expect(s.symbol).toBe('AAPL');
    expect(s.timeframe).toBe('1d');
    expect(s.timeZone).toBe('US/Eastern');
    expect(s.lastRefreshed).toBe('2020-09-01');
    const expected = [
      'timestamp,open,high,low,close,volume,adj_close',
      '2020-08-06,441.6200,457.6500,439.1900,455.6100,50607225,111.8006',
      '2020-08-07,452.8200,454.7000,441.1700,444.4500,49511403,109.2697',
      '2020-08-27,508.5700,509.9400,495.3300,500.0400,38888096,122.9355',
      '2020-08-28,504.0500,505.7700,498.3100,499.2300,46907479,122.7364',
      '2020-08-31,127.5800,131.0000,126.0000,129.0400,225702700,126.8995',
      '2020-09-01,132.7600,134.8000,130.5300,134.1800,151948100,131.9542',
    ];
    const { rows } = s;
    expect(rows.columns.join(',')).toBe(expected[0]);
    expect(rows.length).toBe(expected.length - 1);
    expect(rows.unreadable).toEqual([]);
    expected.slice(1).forEach((text, i) => {
      const [date, ...values] = text.split(',');
      expect(rows.line[i]).toBe(i + 2);
      expect(rows.ts[i]).toBe(Date.parse(`${date}T00:00:00Z`));
      expect([rows.open[i], rows.high[i], rows.low[i], rows.close[i], rows.volume[i], rows.adjClose![i]]).toEqual(
        values.map(Number),
      );
    });
  });

  it('produces the validated columnar batch of the CSV path, raw prices and adjusted close', () => {
    const { batch } = parseDailyAdjusted(fixture('daily-adjusted-aapl.json'), { calendar: 'nyse' });
    expect(batch.rejects).toEqual([]);
    expect(batch.bars.length).toBe(6);
    expect(Array.from(batch.bars.ts.subarray(0, 2))).toEqual([Date.UTC(2020, 7, 6), Date.UTC(2020, 7, 7)]);
    expect(batch.bars.close[3]).toBe(499.23); // the day before the 4:1 split, unadjusted
    expect(batch.bars.close[4]).toBe(129.04);
    expect(batch.bars.adjClose![4]).toBe(126.8995);
    expect(batch.bars.volume[4]).toBe(225702700);
    expect(batch.from).toBe('2020-08-06T00:00:00.000Z');
    expect(batch.to).toBe('2020-09-01T00:00:00.000Z');
    // 2020-08-10 … 2020-08-26 are 13 NYSE trading days missing from this hand-picked fixture: reported, not filled.
    expect(batch.gaps).toEqual([
      { after: '2020-08-07T00:00:00.000Z', before: '2020-08-27T00:00:00.000Z', missingBars: 13 },
    ]);
  });

  it('surfaces splits (including reverse splits) and dividends as corporate actions', () => {
    expect(parseDailyAdjusted(fixture('daily-adjusted-aapl.json')).corporateActions).toEqual([
      { kind: 'dividend', symbol: 'AAPL', exDate: '2020-08-07', amount: 0.82 },
      { kind: 'split', symbol: 'AAPL', exDate: '2020-08-31', newShares: 4, oldShares: 1 },
    ]);
    const bad = parseDailyAdjusted(fixture('daily-adjusted-bad-rows.json'));
    expect(bad.corporateActions).toEqual([
      { kind: 'split', symbol: 'XYZ', exDate: '2023-06-09', newShares: 1, oldShares: 10 },
    ]);
    // Recorded under the symbol asked for, when given.
    expect(
      parseDailyAdjusted(fixture('daily-adjusted-aapl.json'), { symbol: 'AAPL.US' }).corporateActions.map(
        (a) => a.symbol,
      ),
    ).toEqual(['AAPL.US', 'AAPL.US']);
    expect(bad.corporateActionIssues).toEqual([
      { date: '2023-06-06', field: '7. dividend amount', value: 'abc', message: 'not a non-negative number' },
    ]);
  });

  it('keeps bad rows for the ingest validation, which rejects each with its line and reason', () => {
    const { batch } = parseDailyAdjusted(fixture('daily-adjusted-bad-rows.json'));
    // Line 1 header; 2 = 2023-06-05 … 6 = 2023-06-09.
    expect(batch.rejects.map((r) => [r.line, r.reason])).toEqual([
      [3, 'negative_volume'],
      [4, 'unparsable'],
      [5, 'high_below_low'],
    ]);
    expect(batch.rejects[1].message).toContain('N/A');
    expect(batch.bars.length).toBe(2);
    expect(batch.rowsRead).toBe(5);
  });
});

describe('parseIntraday', () => {
  it('converts US/Eastern bar times to UTC across both DST changes', () => {
    const s = parseIntraday(fixture('intraday-ibm-60min-dst.json'), '60min');
    expect(s.timeframe).toBe('1h');
    expect(s.function).toBe('TIME_SERIES_INTRADAY');
    expect(
      Array.from(s.rows.ts.subarray(0, s.rows.length), (t) => `${new Date(t).toISOString().slice(0, 19)}Z`),
    ).toEqual([
      '2024-03-08T14:30:00Z', // Friday before the spring change: EST, UTC−5
      '2024-03-08T20:30:00Z',
      '2024-03-11T13:30:00Z', // Monday after: EDT, UTC−4
      '2024-03-11T14:30:00Z',
      '2024-11-01T13:30:00Z', // Friday before the fall change: EDT
      '2024-11-01T19:30:00Z',
      '2024-11-04T14:30:00Z', // Monday after: EST
      '2024-11-04T20:30:00Z',
    ]);
    expect(s.batch.rejects).toEqual([]);
    expect(s.batch.bars.length).toBe(8);
    expect(s.batch.bars.ts[2]).toBe(Date.UTC(2024, 2, 11, 13, 30));
    expect(s.batch.bars.adjClose).toBeNull();
    expect(s.corporateActions).toEqual([]);
  });

  it('parses 5min bars; a missing bar in the session is a reported gap', () => {
    const s = parseIntraday(fixture('intraday-ibm-5min.json'), '5min', { calendar: 'nyse' });
    expect(Array.from(s.batch.bars.ts.subarray(0, 3))).toEqual([
      Date.UTC(2024, 6, 15, 13, 30),
      Date.UTC(2024, 6, 15, 13, 40),
      Date.UTC(2024, 6, 15, 13, 45),
    ]);
    expect(Array.from(s.batch.bars.close.subarray(0, 3))).toEqual([177.88, 178.2, 178.44]);
    expect(s.batch.gaps).toEqual([
      { after: '2024-07-15T13:30:00.000Z', before: '2024-07-15T13:40:00.000Z', missingBars: 1 },
    ]);
  });

  it('a key that is not a valid exchange time is kept and rejected as unparsable, not dropped', () => {
    const body = fixture('intraday-ibm-5min.json');
    const series = body['Time Series (5min)'] as Record<string, unknown>;
    series['2024-03-10 02:30:00'] = series['2024-07-15 09:30:00']; // skipped by the spring-forward change
    series['yesterday'] = series['2024-07-15 09:30:00'];
    const s = parseIntraday(body, '5min');
    expect(s.batch.rowsRead).toBe(5);
    expect(s.batch.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'unparsable'],
      [6, 'unparsable'],
    ]);
    expect(s.batch.rejects[0].message).toContain('2024-03-10 02:30:00 (not a valid US/Eastern time)');
    expect(s.batch.rejects[1].message).toContain('yesterday');
  });

  it('refuses an unknown time zone or a missing series with a clear error', () => {
    const body = fixture('intraday-ibm-5min.json');
    (body['Meta Data'] as Record<string, string>)['6. Time Zone'] = 'Mars/Olympus';
    expect(() => parseIntraday(body, '5min')).toThrow(/unknown exchange time zone "Mars\/Olympus"/);
    expect(() => parseIntraday(fixture('intraday-ibm-5min.json'), '60min')).toThrow(AlphaVantageResponseError);
    expect(() => parseIntraday(fixture('intraday-ibm-5min.json'), '60min')).toThrow(
      /expected "Meta Data" and "Time Series \(60min\)"/,
    );
  });
});

describe('throwIfProviderMessage', () => {
  it.each([
    ['invalidApiKey', AlphaVantageApiKeyError, /apikey is invalid or missing/],
    ['demoInformation', AlphaVantageApiKeyError, /demo/],
    ['invalidCall', AlphaVantageInvalidRequestError, /Invalid API call/],
    ['premiumInformation', AlphaVantagePremiumError, /premium endpoint/],
    ['minuteNote', AlphaVantageRateLimitError, /call frequency/],
    ['burstInformation', AlphaVantageRateLimitError, /sparingly/],
    ['dailyInformation', AlphaVantageRateLimitError, /25 requests per day/],
  ] as const)('%s → %p', (key, type, message) => {
    expect(() => throwIfProviderMessage(errors[key])).toThrow(type);
    expect(() => throwIfProviderMessage(errors[key])).toThrow(message);
  });

  it('tells the per-minute note from the daily quota', () => {
    const scope = (key: string) => {
      try {
        throwIfProviderMessage(errors[key]);
      } catch (e) {
        return (e as AlphaVantageRateLimitError).scope;
      }
      return undefined;
    };
    expect(scope('minuteNote')).toBe('minute');
    expect(scope('burstInformation')).toBe('minute');
    expect(scope('dailyInformation')).toBe('day');
  });

  it('renders errors as problem documents', () => {
    try {
      throwIfProviderMessage(errors.invalidApiKey);
    } catch (e) {
      expect((e as AlphaVantageApiKeyError).toProblem()).toEqual({
        type: 'urn:strata:problem:alphavantage-invalid-api-key',
        title: 'Alpha Vantage rejected the API key',
        status: 502,
        code: 'invalid_api_key',
        detail: expect.stringContaining('the parameter apikey is invalid or missing'),
      });
    }
    expect.assertions(1);
  });
});
