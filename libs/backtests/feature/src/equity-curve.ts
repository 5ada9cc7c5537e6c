import type { BacktestSeriesStore } from '@strata/backtests-contracts';

/** The whole equity curve of a completed run attempt, in order: instants (epoch ms) and equity. */
export async function readEquityCurve(
  series: BacktestSeriesStore,
  runId: string,
  attempt: string,
): Promise<{ ts: Float64Array; equity: Float64Array }> {
  const ts: number[] = [];
  const equity: number[] = [];
  let after: number | null = null;
  for (;;) {
    const page = await series.readEquity({ runId, attempt, after, limit: 5000 });
    for (const p of page) {
      ts.push(Date.parse(p.ts));
      equity.push(p.equity);
    }
    if (page.length < 5000) break;
    after = page[page.length - 1].seq;
  }
  return { ts: Float64Array.from(ts), equity: Float64Array.from(equity) };
}
