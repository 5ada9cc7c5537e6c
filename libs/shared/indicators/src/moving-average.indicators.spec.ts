import { ema, emaRatio, macd, sma, smaRatio } from './moving-average.indicators';

const f64 = (xs: number[]) => Float64Array.from(xs);

/** Expects NaN at the given indices and values within 1e-12 elsewhere. */
function expectSeries(actual: Float64Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    if (Number.isNaN(e)) expect(actual[i]).toBeNaN();
    else expect(actual[i]).toBeCloseTo(e, 12);
  });
}

describe('sma (TA-Lib TA_SMA)', () => {
  it('averages each 3-bar window; warm-up is NaN, not 0', () => {
    expectSeries(sma(f64([2, 4, 6, 5, 9]), 3), [NaN, NaN, 4, 5, 20 / 3]);
  });

  it('re-sums exactly at anchors: a long series equals the per-window mean', () => {
    const x = Float64Array.from({ length: 300 }, (_, i) => 100 + Math.sin(i) * 10 + i * 0.01);
    const out = sma(x, 20);
    for (let t = 19; t < 300; t++) {
      let s = 0;
      for (let j = t - 19; j <= t; j++) s += x[j];
      expect(Math.abs(out[t] - s / 20)).toBeLessThan(1e-12);
    }
  });
});

describe('ema (TA-Lib TA_EMA, SMA-seeded)', () => {
  it('seeds with the SMA of the first n values, then e = (x - e) * k + e', () => {
    // k = 2 / (3 + 1) = 0.5; seed (2 + 4 + 6) / 3 = 4; (5 - 4) * 0.5 + 4 = 4.5; (9 - 4.5) * 0.5 + 4.5 = 6.75
    expectSeries(ema(f64([2, 4, 6, 5, 9]), 3), [NaN, NaN, 4, 4.5, 6.75]);
  });

  it('returns all NaN when there are fewer bars than the period', () => {
    expectSeries(ema(f64([1, 2]), 3), [NaN, NaN]);
  });
});

describe('close-to-average ratios', () => {
  it('sma ratio = close / SMA - 1', () => {
    // SMA3 = 4, 5, 20/3 -> 6/4 - 1, 5/5 - 1, 9 / (20/3) - 1
    expectSeries(smaRatio(f64([2, 4, 6, 5, 9]), 3), [NaN, NaN, 0.5, 0, 0.35]);
  });

  it('ema ratio = close / EMA - 1', () => {
    expectSeries(emaRatio(f64([2, 4, 6, 5, 9]), 3), [NaN, NaN, 0.5, 5 / 4.5 - 1, 9 / 6.75 - 1]);
  });
});

describe('macd (TA-Lib TA_MACD)', () => {
  // closes 1 5 3 6 4 8, fast 2 (k 2/3), slow 3 (k 1/2), signal 2 (k 2/3)
  // slow EMA: seed (1+5+3)/3 = 3 at bar 2; 4.5; 4.25; 6.125
  // fast EMA: TA-Lib seeds it at the SLOW start with the mean of bars 1..2 = 4; then 16/3, 40/9, 184/27
  //   (a fast EMA seeded at bar 1 with (1+5)/2 = 3 would give 3 at bar 2, hence a different MACD)
  // macd: 1, 5/6, 7/36, 149/216; signal seeded at bar 3 with (1 + 5/6)/2 = 11/12, then 47/108, 49/81
  const close = f64([1, 5, 3, 6, 4, 8]);

  it('aligns the fast EMA to the slow start and withholds every output until the signal exists', () => {
    const r = macd(close, 2, 3, 2);
    expectSeries(r.macd, [NaN, NaN, NaN, 5 / 6, 7 / 36, 149 / 216]);
    expectSeries(r.signal, [NaN, NaN, NaN, 11 / 12, 47 / 108, 49 / 81]);
    expectSeries(r.hist, [NaN, NaN, NaN, -1 / 12, -13 / 54, 55 / 648]);
  });

  it('swaps fast and slow when given in the wrong order, as TA-Lib does', () => {
    const a = macd(close, 3, 2, 2);
    const b = macd(close, 2, 3, 2);
    expect(Array.from(a.macd)).toEqual(Array.from(b.macd));
  });

  it('has lookback 33 for (12, 26, 9)', () => {
    const x = Float64Array.from({ length: 40 }, (_, i) => 50 + Math.cos(i));
    const r = macd(x);
    expect(Number.isNaN(r.macd[32])).toBe(true);
    expect(Number.isNaN(r.signal[32])).toBe(true);
    expect(Number.isFinite(r.macd[33]) && Number.isFinite(r.signal[33]) && Number.isFinite(r.hist[33])).toBe(true);
  });
});

describe('partial computation (`from`)', () => {
  it('writes only indices >= from and leaves the others untouched, with identical values', () => {
    const x = Float64Array.from({ length: 200 }, (_, i) => 100 + Math.sin(i / 3) * 5);
    for (const from of [0, 19, 63, 64, 65, 150, 199, 200]) {
      for (const [full, part] of [
        [sma(x, 20), sma(x, 20, new Float64Array(200).fill(-1), from)],
        [ema(x, 20), ema(x, 20, new Float64Array(200).fill(-1), from)],
        [smaRatio(x, 20), smaRatio(x, 20, new Float64Array(200).fill(-1), from)],
      ]) {
        for (let t = 0; t < 200; t++) {
          if (t < from) expect(part[t]).toBe(-1);
          else expect(Object.is(part[t], full[t])).toBe(true);
        }
      }
    }
  });

  it('rejects bad parameters', () => {
    expect(() => sma(f64([1, 2]), 0)).toThrow(RangeError);
    expect(() => ema(f64([1, 2]), 2.5)).toThrow(RangeError);
    expect(() => sma(f64([1, 2]), 2, undefined, 3)).toThrow(RangeError);
    expect(() => sma(f64([1, 2]), 2, new Float64Array(3))).toThrow(RangeError);
  });
});
