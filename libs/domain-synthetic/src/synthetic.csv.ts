import type { Timeframe } from '@strata/contracts';
import type { BarColumns } from '@strata/domain-marketdata';

/** The ingest CSV header (the same six columns as the files in `data/`); `,adj_close` is appended when present. */
export const INGEST_CSV_HEADER = 'timestamp,open,high,low,close,volume';

/**
 * Formats a bar time the way the ingest CSV does: `YYYY-MM-DD` (the trading date) for daily bars, ISO-8601 UTC without
 * milliseconds (`2021-01-04T14:30:00Z`) for intraday bars.
 */
export function formatIngestTimestamp(tsMs: number, timeframe: Timeframe): string {
  const iso = new Date(tsMs).toISOString();
  if (timeframe === '1d') return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

/**
 * Renders columnar bars as ingest CSV text: header `timestamp,open,high,low,close,volume` (plus `adj_close` when the
 * bars carry one), one row per bar, `\n` line ends and a trailing newline. Numbers use JavaScript's shortest round-trip
 * form, so parsing the text gives back the exact doubles. Row `i` is on line `i + 2` (the header is line 1). Rows are
 * written as they are, invalid ones included: validating them is the ingest parser's job.
 */
export function toIngestCsv(bars: BarColumns, timeframe: Timeframe): string {
  const parts: string[] = new Array(bars.length + 1);
  const { ts, open, high, low, close, volume, adjClose } = bars;
  parts[0] = adjClose ? `${INGEST_CSV_HEADER},adj_close` : INGEST_CSV_HEADER;
  for (let i = 0; i < bars.length; i++) {
    const row = `${formatIngestTimestamp(ts[i], timeframe)},${open[i]},${high[i]},${low[i]},${close[i]},${volume[i]}`;
    parts[i + 1] = adjClose ? `${row},${adjClose[i]}` : row;
  }
  return parts.join('\n') + '\n';
}
