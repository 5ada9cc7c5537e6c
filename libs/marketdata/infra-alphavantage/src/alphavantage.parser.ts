import type { BarRows, CorporateAction, Timeframe, UnreadableRow } from '@strata/marketdata-contracts';
import {
  barColumn,
  barTimeProblem,
  createBarRows,
  readBarText,
  TS_ROLE,
  validateBars,
  type BarBatch,
} from '@strata/marketdata-domain';
import { type TradingCalendar } from '@strata/shared-timeseries';
import {
  AlphaVantageApiKeyError,
  AlphaVantageInvalidRequestError,
  AlphaVantagePremiumError,
  AlphaVantageRateLimitError,
  AlphaVantageResponseError,
} from './alphavantage.errors';
import { isKnownTimeZone, wallTimeToUtcMs } from './exchange-time';

/** Alpha Vantage intraday intervals the platform has a timeframe for (Alpha Vantage's `30min` has none). */
export const INTRADAY_INTERVALS = {
  '1min': '1m',
  '5min': '5m',
  '15min': '15m',
  '60min': '1h',
} as const satisfies Record<string, Timeframe>;
/** An Alpha Vantage intraday interval. */
export type IntradayInterval = keyof typeof INTRADAY_INTERVALS;

/** A corporate-action field that could not be read; kept and reported, never dropped silently. */
export interface CorporateActionIssue {
  date: string;
  field: '7. dividend amount' | '8. split coefficient';
  value: string;
  message: string;
}

/** One Alpha Vantage series turned into the ingest shape: decoded rows, the validated batch, corporate actions. */
export interface AlphaVantageSeries {
  /** Symbol as echoed by Alpha Vantage in "Meta Data" ("2. Symbol"). */
  symbol: string;
  timeframe: Timeframe;
  function: 'TIME_SERIES_DAILY_ADJUSTED' | 'TIME_SERIES_INTRADAY';
  /** Exchange time zone from "Meta Data" (e.g. `US/Eastern`); intraday times were converted from it to UTC. */
  timeZone: string;
  /** "3. Last Refreshed", verbatim (exchange time). */
  lastRefreshed: string;
  /**
   * The series decoded for `validateBars` (columns `timestamp,open,high,low,close,volume`, plus `adj_close` for daily
   * adjusted), oldest first, row i reported at line i + 2. Numbers are Alpha Vantage's decimal text read once,
   * correctly rounded. Daily rows carry the exchange trading date (00:00 UTC); intraday rows the bar start in UTC.
   * OHLC are as traded (raw). A key or value that cannot be read makes its row unreadable, with the reason.
   */
  rows: BarRows;
  /** `validateBars(rows)` of `@strata/marketdata-domain`: bars, rejects with line numbers, gaps and content hash. */
  batch: BarBatch;
  /** Splits and dividends on their ex-dates, oldest first (daily adjusted only; empty for intraday). */
  corporateActions: CorporateAction[];
  /** Corporate-action fields that could not be parsed. */
  corporateActionIssues: CorporateActionIssue[];
}

type Json = Record<string, unknown>;

const DAILY_FIELDS = ['1. open', '2. high', '3. low', '4. close', '6. volume', '5. adjusted close'] as const;
const INTRADAY_FIELDS = ['1. open', '2. high', '3. low', '4. close', '5. volume'] as const;

/**
 * Throws the typed error an Alpha Vantage "message instead of data" body stands for; returns for anything else.
 * Alpha Vantage answers these with HTTP 200:
 * - `{"Error Message": "the parameter apikey is invalid or missing ..."}` → {@link AlphaVantageApiKeyError};
 * - `{"Error Message": "Invalid API call ..."}` (unknown symbol, bad parameter) → {@link AlphaVantageInvalidRequestError};
 * - `{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute ..."}` and
 *   `{"Information": "... rate limit ..."}` → {@link AlphaVantageRateLimitError} (`scope` `day` when the note is about
 *   the daily quota);
 * - `{"Information": "... premium endpoint ..."}` → {@link AlphaVantagePremiumError};
 * - `{"Information": "The **demo** API key is for demo purposes only ..."}` → {@link AlphaVantageApiKeyError}.
 */
export function throwIfProviderMessage(body: Json, attempts = 1): void {
  const errorMessage = body['Error Message'];
  const note = body['Note'];
  const information = body['Information'];
  if (typeof errorMessage === 'string') {
    if (/apikey|api key/i.test(errorMessage))
      throw new AlphaVantageApiKeyError(`Alpha Vantage rejected the API key: ${errorMessage}`);
    throw new AlphaVantageInvalidRequestError(`Alpha Vantage refused the request: ${errorMessage}`);
  }
  const text = typeof note === 'string' ? note : typeof information === 'string' ? information : undefined;
  if (text === undefined) return;
  if (/premium/i.test(text) && !/rate limit|call frequency|requests per|calls per/i.test(text)) {
    throw new AlphaVantagePremiumError(`Alpha Vantage requires a premium plan: ${text}`);
  }
  if (/demo/i.test(text) && /api key|apikey/i.test(text))
    throw new AlphaVantageApiKeyError(`Alpha Vantage rejected the API key: ${text}`);
  if (/apikey is invalid|api key is invalid|invalid api key/i.test(text))
    throw new AlphaVantageApiKeyError(`Alpha Vantage rejected the API key: ${text}`);
  if (typeof note === 'string' || /rate limit|call frequency|requests per|calls per|per second|sparingly/i.test(text)) {
    const daily = /per day|daily/i.test(text) && !/per minute|per second/i.test(text);
    throw new AlphaVantageRateLimitError(
      `Alpha Vantage rate limit (${daily ? 'daily quota' : 'call frequency'}): ${text}`,
      daily ? 'day' : 'minute',
      attempts,
      text,
    );
  }
  // Any other "Information" without data is unexpected; the caller's shape check reports it if there is no series.
}

function metaValue(meta: Json, suffix: string): string | undefined {
  for (const [k, v] of Object.entries(meta))
    if (k.replace(/^\d+\.\s*/, '') === suffix && typeof v === 'string') return v;
  return undefined;
}

function seriesOf(body: Json, key: string): { meta: Json; series: Record<string, Json> } {
  const meta = body['Meta Data'];
  const series = body[key];
  if (!meta || typeof meta !== 'object' || !series || typeof series !== 'object') {
    const info = typeof body['Information'] === 'string' ? ` (Information: ${body['Information']})` : '';
    throw new AlphaVantageResponseError(
      `expected "Meta Data" and "${key}" in the Alpha Vantage response, found keys ${JSON.stringify(Object.keys(body))}${info}`,
    );
  }
  return { meta: meta as Json, series: series as Record<string, Json> };
}

/**
 * A value's text as the CSV rendering of commit 96d1b41 carried it (kept so that rejects read the same): absent →
 * empty; commas, quotes and line breaks → spaces.
 */
function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return String(v).replace(/[,"\r\n]/g, ' ');
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/**
 * The bar start in epoch ms UTC of an intraday key (`YYYY-MM-DD HH:MM:SS`, exchange wall time), or, for a key that is
 * not in that form or names a wall time that does not exist in the zone, the text its row is rejected with.
 */
function intradayKeyToUtc(key: string, timeZone: string): number | string {
  const m = DATETIME_RE.exec(key);
  if (m) {
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    const utc = wallTimeToUtcMs(timeZone, wall);
    if (Number.isFinite(utc) && new Date(wall).toISOString().slice(0, 19).replace('T', ' ') === key) return utc;
    return cell(`${key} (not a valid ${timeZone} time)`);
  }
  return cell(`${key} (not an Alpha Vantage timestamp)`);
}

/**
 * Decodes the rows of one series (keys sorted, oldest first): the time from `time(key)` (epoch ms, or a text read as
 * a timestamp field), then each of `fields` into the next column. The first field that cannot be read makes the row
 * unreadable.
 */
function decodeRows(
  series: Record<string, Json>,
  keys: readonly string[],
  fields: readonly string[],
  columns: string[],
  time: (key: string) => number | string,
): BarRows {
  const rows = createBarRows(keys.length, columns);
  const unreadable: UnreadableRow[] = rows.unreadable;
  for (let r = 0; r < keys.length; r++) {
    rows.line[r] = r + 2;
    const t = time(keys[r]);
    let bad: { reason: UnreadableRow['reason']; message: string } | null = null;
    if (typeof t === 'number') {
      const problem = barTimeProblem(t);
      if (problem === null) rows.ts[r] = t;
      else bad = { reason: 'unparsable', message: problem };
    } else bad = readBarText(t, 0, t.length, TS_ROLE, rows.ts, r);
    const row = series[keys[r]] ?? {};
    for (let k = 0; k < fields.length && bad === null; k++) {
      const text = cell(row[fields[k]]);
      bad = readBarText(text, 0, text.length, k + 1, barColumn(rows, k + 1), r);
    }
    if (bad !== null) unreadable.push({ row: r, reason: bad.reason, message: bad.message });
  }
  rows.length = keys.length;
  return rows;
}

/** Options of {@link parseDailyAdjusted} and {@link parseIntraday}. */
export interface AlphaVantageParseOptions {
  /** Calendar for gap detection in the validated batch (default `auto`). */
  calendar?: TradingCalendar | 'auto';
  /** Symbol the corporate actions are recorded under (default: the "Meta Data" symbol). */
  symbol?: string;
}

/** Smallest n/d (d ≤ 1000) equal to `x` within 1e-9 relative; for split ratios such as 0.1 (1-for-10) or 1.5 (3-for-2). */
export function splitRatioToShares(x: number): { newShares: number; oldShares: number } {
  for (let d = 1; d <= 1000; d++) {
    const n = Math.round(x * d);
    if (n > 0 && Math.abs(n / d - x) <= 1e-9 * x) return { newShares: n, oldShares: d };
  }
  return { newShares: x, oldShares: 1 };
}

const DAILY_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume', 'adj_close'];
const INTRADAY_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'];

/**
 * Parses a TIME_SERIES_DAILY_ADJUSTED JSON body. Rows come out oldest first with the raw (as-traded) OHLC and volume
 * and "5. adjusted close" as `adj_close`; non-zero "7. dividend amount" and a "8. split coefficient" other than 1
 * become {@link CorporateAction}s (a coefficient of 0.1 is a 1-for-10 reverse split). Bad rows are kept and rejected
 * by the validation with their line.
 * @throws the typed error for a provider message ({@link throwIfProviderMessage}) or {@link AlphaVantageResponseError}.
 */
export function parseDailyAdjusted(body: Json, options: AlphaVantageParseOptions = {}): AlphaVantageSeries {
  throwIfProviderMessage(body);
  const { meta, series } = seriesOf(body, 'Time Series (Daily)');
  const timeZone = metaValue(meta, 'Time Zone') ?? 'US/Eastern';
  const symbol = metaValue(meta, 'Symbol') ?? '';
  const actionsSymbol = options.symbol ?? symbol;
  const keys = Object.keys(series).sort();
  const corporateActions: CorporateAction[] = [];
  const corporateActionIssues: CorporateActionIssue[] = [];
  for (const key of keys) {
    const row = series[key] ?? {};
    const div = row['7. dividend amount'];
    const split = row['8. split coefficient'];
    if (div !== undefined) {
      const x = Number(div);
      if (typeof div !== 'string' || div.trim() === '' || !Number.isFinite(x) || x < 0) {
        corporateActionIssues.push({
          date: key,
          field: '7. dividend amount',
          value: String(div),
          message: 'not a non-negative number',
        });
      } else if (x > 0) corporateActions.push({ kind: 'dividend', symbol: actionsSymbol, exDate: key, amount: x });
    }
    if (split !== undefined) {
      const x = Number(split);
      if (typeof split !== 'string' || split.trim() === '' || !Number.isFinite(x) || x <= 0) {
        corporateActionIssues.push({
          date: key,
          field: '8. split coefficient',
          value: String(split),
          message: 'not a positive number',
        });
      } else if (x !== 1)
        corporateActions.push({ kind: 'split', symbol: actionsSymbol, exDate: key, ...splitRatioToShares(x) });
    }
  }
  const rows = decodeRows(series, keys, DAILY_FIELDS, DAILY_COLUMNS, (key) =>
    DATE_RE.test(key) ? key : cell(`${key} (not an Alpha Vantage date)`),
  );
  return {
    symbol,
    timeframe: '1d',
    function: 'TIME_SERIES_DAILY_ADJUSTED',
    timeZone,
    lastRefreshed: metaValue(meta, 'Last Refreshed') ?? '',
    rows,
    batch: validateBars(rows, { timeframe: '1d', calendar: options.calendar ?? 'auto' }),
    corporateActions,
    corporateActionIssues,
  };
}

/**
 * Parses a TIME_SERIES_INTRADAY JSON body for `interval`. Keys are exchange wall times in "Meta Data" "6. Time Zone"
 * (e.g. `US/Eastern`); each becomes the bar's start in UTC, daylight saving included (09:30 is 14:30Z in January and
 * 13:30Z in July). Rows come out oldest first; bad rows are kept for the validation to reject with their line.
 * @throws the typed error for a provider message ({@link throwIfProviderMessage}) or {@link AlphaVantageResponseError}.
 */
export function parseIntraday(
  body: Json,
  interval: IntradayInterval,
  options: AlphaVantageParseOptions = {},
): AlphaVantageSeries {
  throwIfProviderMessage(body);
  const { meta, series } = seriesOf(body, `Time Series (${interval})`);
  const timeZone = metaValue(meta, 'Time Zone');
  if (!timeZone || !isKnownTimeZone(timeZone)) {
    throw new AlphaVantageResponseError(
      `unknown exchange time zone ${JSON.stringify(timeZone)} in "Meta Data"; cannot convert intraday times to UTC`,
    );
  }
  const timeframe = INTRADAY_INTERVALS[interval];
  const rows = decodeRows(series, Object.keys(series).sort(), INTRADAY_FIELDS, INTRADAY_COLUMNS, (key) =>
    intradayKeyToUtc(key, timeZone),
  );
  return {
    symbol: metaValue(meta, 'Symbol') ?? '',
    timeframe,
    function: 'TIME_SERIES_INTRADAY',
    timeZone,
    lastRefreshed: metaValue(meta, 'Last Refreshed') ?? '',
    rows,
    batch: validateBars(rows, { timeframe, calendar: options.calendar ?? 'auto' }),
    corporateActions: [],
    corporateActionIssues: [],
  };
}
