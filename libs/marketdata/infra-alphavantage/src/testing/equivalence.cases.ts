import { fixture } from './alphavantage-replay.server';

/** An Alpha Vantage body and how it is parsed, for the ingestion equivalence spec. */
export interface AlphaVantageCase {
  name: string;
  body: Record<string, unknown>;
  /** `daily` for TIME_SERIES_DAILY_ADJUSTED, otherwise the intraday interval. */
  kind: 'daily' | '1min' | '5min' | '15min' | '60min';
}

/**
 * The replay fixtures, plus bodies with bad keys and values of every JSON type (null, numbers, objects, text with
 * commas, quotes and line breaks), for comparing the JSON decoder with the CSV rendering it replaced (commit 96d1b41).
 */
export function alphaVantageCases(): AlphaVantageCase[] {
  const intraday = fixture('intraday-ibm-5min.json');
  const series = intraday['Time Series (5min)'] as Record<string, Record<string, unknown>>;
  const first = series['2024-07-15 09:30:00'];
  series['2024-03-10 02:30:00'] = first; // skipped by the spring-forward change
  series['2024-11-03 01:30:00'] = first; // repeated by the fall-back change
  series['yesterday'] = first;
  series['2024-07-15 09:32:00'] = { ...first, '1. open': 178.1, '2. high': null, '5. volume': '1,000' };
  series['2024-07-15 09:33:00'] = { ...first, '1. open': '"177.9"', '3. low': 'a\nb', '4. close': { x: 1 } };
  series['2024-07-15 09:34:00'] = { ...first, '1. open': ' 177.95 ', '5. volume': '-0' };
  series['2024-07-15 09:36:00'] = { '1. open': '1' };
  const daily = fixture('daily-adjusted-bad-rows.json');
  const days = daily['Time Series (Daily)'] as Record<string, Record<string, unknown>>;
  const d0 = days['2023-06-09'];
  days['2023-06-31'] = d0;
  days['2023-6-1'] = d0;
  days['2023-06-12'] = { ...d0, '5. adjusted close': '0', '6. volume': 12.5 };
  days['2023-06-13'] = { ...d0, '5. adjusted close': 'NaN', '1. open': 'Infinity' };
  days['2023-06-14'] = { ...d0, '5. adjusted close': '' };
  days['2023-06-15'] = { ...d0, '2. high': '1e999', '7. dividend amount': '0.5' };
  return [
    { name: 'daily-adjusted-aapl', body: fixture('daily-adjusted-aapl.json'), kind: 'daily' },
    { name: 'daily-adjusted-bad-rows', body: fixture('daily-adjusted-bad-rows.json'), kind: 'daily' },
    { name: 'intraday-ibm-5min', body: fixture('intraday-ibm-5min.json'), kind: '5min' },
    { name: 'intraday-ibm-60min-dst', body: fixture('intraday-ibm-60min-dst.json'), kind: '60min' },
    { name: 'intraday-odd', body: intraday, kind: '5min' },
    { name: 'daily-odd', body: daily, kind: 'daily' },
  ];
}
