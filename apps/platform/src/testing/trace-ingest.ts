/**
 * The trace-context specs' ingest: a two-bar hourly CSV posted to `/market-data/ingest` with an operator key and any
 * extra headers (the caller's `traceparent`), through whatever `inject` the spec's HTTP entry point offers.
 */
export function ingestTwoBars<R>(
  inject: (request: {
    method: 'POST';
    url: string;
    headers: Record<string, string>;
    payload: Record<string, string>;
  }) => Promise<R>,
  symbol: string,
  headers: Record<string, string> = {},
): Promise<R> {
  return inject({
    method: 'POST',
    url: '/market-data/ingest',
    headers: { 'x-api-key': 'operator-key-0001', ...headers },
    payload: {
      symbol,
      timeframe: '1h',
      csv: 'timestamp,open,high,low,close,volume\n2024-01-02T14:00:00Z,1,2,0.5,1.5,10\n2024-01-02T15:00:00Z,1.5,2,1,1.8,12\n',
    },
  });
}
