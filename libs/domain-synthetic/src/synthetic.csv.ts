import type { Timeframe } from '@strata/contracts';

/** The ingest CSV header (the same six columns as the files in `data/`). */
export const INGEST_CSV_HEADER = 'timestamp,open,high,low,close,volume';

/** Columnar OHLCV bars: bar start time in epoch ms UTC, prices and volume as doubles. */
export interface ColumnarBars {
  timeframe: Timeframe;
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

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
 * Renders bars as ingest CSV text: header `timestamp,open,high,low,close,volume`, one row per bar, `\n` line ends and a
 * trailing newline. Numbers use JavaScript's shortest round-trip form, so parsing the text gives back the exact doubles.
 * Row `i` is on line `i + 2` (the header is line 1). Rows are written as they are, including any invalid ones.
 */
export function toIngestCsv(bars: ColumnarBars): string {
  const parts: string[] = new Array(bars.length + 1);
  parts[0] = INGEST_CSV_HEADER;
  const { ts, open, high, low, close, volume, timeframe } = bars;
  for (let i = 0; i < bars.length; i++) {
    parts[i + 1] = `${formatIngestTimestamp(ts[i], timeframe)},${open[i]},${high[i]},${low[i]},${close[i]},${volume[i]}`;
  }
  return parts.join('\n') + '\n';
}
