import { type Timeframe, type BarColumns } from '@strata/marketdata-contracts';
import { civilFromDays } from '@strata/shared-timeseries';

/** The ingest CSV header (the same six columns as the files in `data/`); `,adj_close` is appended when present. */
export const INGEST_CSV_HEADER = 'timestamp,open,high,low,close,volume';

const TWO_DIGITS: string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));
const MS_PER_DAY = 86_400_000;

/** `YYYY-MM-DD` of a day number (days since 1970-01-01), without a `Date` allocation. */
function civilDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  const yyyy = y >= 0 && y <= 9999 ? `${TWO_DIGITS[Math.floor(y / 100)]}${TWO_DIGITS[y % 100]}` : String(y);
  return `${yyyy}-${TWO_DIGITS[m]}-${TWO_DIGITS[d]}`;
}

/**
 * Formats a bar time the way the ingest CSV does: `YYYY-MM-DD` (the trading date) for daily bars, ISO-8601 UTC without
 * milliseconds (`2021-01-04T14:30:00Z`) for intraday bars (with `.sss` only when the time has milliseconds).
 */
export function formatIngestTimestamp(tsMs: number, timeframe: Timeframe): string {
  const days = Math.floor(tsMs / MS_PER_DAY);
  const date = civilDate(days);
  if (timeframe === '1d') return date;
  const msOfDay = tsMs - days * MS_PER_DAY;
  const sec = Math.floor(msOfDay / 1000);
  const ms = msOfDay - sec * 1000;
  const hms = `${TWO_DIGITS[Math.floor(sec / 3600)]}:${TWO_DIGITS[Math.floor(sec / 60) % 60]}:${TWO_DIGITS[sec % 60]}`;
  return ms === 0 ? `${date}T${hms}Z` : `${date}T${hms}.${String(ms).padStart(3, '0')}Z`;
}

/**
 * Renders columnar bars as ingest CSV text: header `timestamp,open,high,low,close,volume` (plus `adj_close` when the
 * bars carry one), one row per bar, `\n` line ends and a trailing newline. Numbers use JavaScript's shortest round-trip
 * form, so parsing the text gives back the exact doubles. Row `i` is on line `i + 2` (the header is line 1). Rows are
 * written as they are, invalid ones included: validating them is the ingest's job. (The ingest itself takes the
 * columns through `decodeBarColumns`, no text; this is for files and tools.)
 */
export function toIngestCsv(bars: BarColumns, timeframe: Timeframe): string {
  const { ts, open, high, low, close, volume, adjClose } = bars;
  // Rows are joined in chunks: a million live row strings at once cost far more in garbage collection.
  const CHUNK = 8192;
  const chunks: string[] = [adjClose ? `${INGEST_CSV_HEADER},adj_close` : INGEST_CSV_HEADER];
  const rows: string[] = new Array(CHUNK);
  let k = 0;
  for (let i = 0; i < bars.length; i++) {
    const row =
      formatIngestTimestamp(ts[i], timeframe) +
      ',' +
      open[i] +
      ',' +
      high[i] +
      ',' +
      low[i] +
      ',' +
      close[i] +
      ',' +
      volume[i];
    rows[k++] = adjClose ? row + ',' + adjClose[i] : row;
    if (k === CHUNK) {
      chunks.push(rows.join('\n'));
      k = 0;
    }
  }
  if (k > 0) chunks.push(rows.slice(0, k).join('\n'));
  return chunks.join('\n') + '\n';
}
