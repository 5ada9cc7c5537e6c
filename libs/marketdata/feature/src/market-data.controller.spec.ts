import type { BarColumns } from '@strata/marketdata-contracts';
import { barsPageJson, isoInstant, jsonNumber } from './market-data.controller';

describe('barsPageJson', () => {
  const cols = (adj: boolean): BarColumns => ({
    length: 4,
    ts: Float64Array.from([Date.UTC(1999, 11, 31), Date.UTC(2024, 1, 29, 14, 30), -86_400_000, 0]),
    open: Float64Array.from([1.5, 0.1 + 0.2, 1e21, -0]),
    high: Float64Array.from([2, 3, 4, 5]),
    low: Float64Array.from([1e-7, 2, 3, 4]),
    close: Float64Array.from([1.25, 2.5, 123456789.123, 4]),
    volume: Float64Array.from([1000, 0, 5e9, 7]),
    adjClose: adj ? Float64Array.from([1.2, NaN, 3, 4]) : null,
  });
  /** The page as the route built it before: objects, then JSON.stringify. */
  const viaObjects = (bars: BarColumns, n: number, nextCursor: string | null) =>
    JSON.stringify({
      symbol: 'BRK.B',
      timeframe: '1d',
      adjust: 'raw',
      items: Array.from({ length: n }, (_, i) => ({
        ts: new Date(bars.ts[i]).toISOString(),
        open: bars.open[i],
        high: bars.high[i],
        low: bars.low[i],
        close: bars.close[i],
        volume: bars.volume[i],
        adjClose: bars.adjClose && bars.adjClose[i] === bars.adjClose[i] ? bars.adjClose[i] : null,
      })),
      nextCursor,
    });

  it('writes the same JSON text as JSON.stringify of the page objects', () => {
    const q = { symbol: 'BRK.B', timeframe: '1d', adjust: 'raw' } as const;
    for (const adj of [true, false])
      for (const n of [0, 1, 4]) {
        const bars = cols(adj);
        expect(barsPageJson(q, bars, n, null)).toBe(viaObjects(bars, n, null));
        expect(barsPageJson(q, bars, n, 'eyJ"\\x')).toBe(viaObjects(bars, n, 'eyJ"\\x'));
        expect(JSON.parse(barsPageJson(q, bars, n, null)).items).toHaveLength(n);
      }
  });
});

describe('isoInstant', () => {
  it('equals Date#toISOString for every instant, in range or not', () => {
    const edge = [0, -1, 1, -86_400_000, -62135596800000, 253402300799999, -62135596800001, 253402300800000, 0.5];
    const leap = [Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(1900, 2, 1), Date.UTC(2024, 1, 29, 14, 30, 5, 7)];
    const random = Array.from({ length: 20_000 }, () => Math.floor((Math.random() * 2.2 - 1.1) * 253402300799999));
    for (const ms of [...edge, ...leap, ...random]) expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
  });
});

describe('jsonNumber', () => {
  it('equals JSON.stringify for prices, volumes and any other double', () => {
    const edge = [0, -0, 1, -1, 0.1, 0.30000000000000004, 1e-4, -1e-4, 1.5e-7, 99999999999.9999, 1e11, 1e15, 1e21];
    const special = [NaN, Infinity, -Infinity];
    const random = Array.from({ length: 50_000 }, (_, i) =>
      i % 4 === 0
        ? Math.round(Math.random() * 1e7) / 100
        : i % 4 === 1
          ? Math.round(Math.random() * 1e10)
          : i % 4 === 2
            ? Math.random() * 1000
            : (Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 30 - 10),
    );
    for (const x of [...edge, ...special, ...random]) expect(jsonNumber(x)).toBe(JSON.stringify(x));
  });
});
