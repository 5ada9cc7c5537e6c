import { annualisationFactor, atr, bollinger, realizedVolatility, trueRange } from './volatility.indicators';

const f64 = (xs: number[]) => Float64Array.from(xs);

function expectSeries(actual: Float64Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    if (Number.isNaN(e)) expect(actual[i]).toBeNaN();
    else expect(actual[i]).toBeCloseTo(e, 12);
  });
}

//   bar  high  low   close   TR = max(H-L, |H-prevC|, |L-prevC|)
//   0    10    8     9       -
//   1    11    9     10      max(2, 2, 0)       = 2
//   2    14    12    13      max(2, 4, 2)       = 4     (gap up)
//   3    13    12.5  12.5    max(0.5, 0, 0.5)   = 0.5
//   4    12    9     10      max(3, 0.5, 3.5)   = 3.5   (gap down through the previous close)
//   5    11    10    10.5    max(1, 1, 0)       = 1
const high = f64([10, 11, 14, 13, 12, 11]);
const low = f64([8, 9, 12, 12.5, 9, 10]);
const close = f64([9, 10, 13, 12.5, 10, 10.5]);

describe('trueRange (TA-Lib TA_TRANGE)', () => {
  it('uses the previous close for gaps', () => {
    expectSeries(trueRange(high, low, close), [NaN, 2, 4, 0.5, 3.5, 1]);
  });
});

describe('atr (TA-Lib TA_ATR, Wilder)', () => {
  it('seeds with the mean of TR[1..n], then (ATR * (n-1) + TR) / n', () => {
    // seed (2 + 4 + 0.5)/3 = 13/6; (13/6*2 + 3.5)/3 = 47/18; (47/18*2 + 1)/3 = 56/27
    expectSeries(atr(high, low, close, 3), [NaN, NaN, NaN, 13 / 6, 47 / 18, 56 / 27]);
  });
});

describe('bollinger %B and bandwidth (TA-Lib TA_BBANDS, population sd)', () => {
  it('uses the population standard deviation', () => {
    const r = bollinger(f64([1, 2, 3, 5]), 3, 2);
    // bar 2: mean 2, var (1 + 0 + 1)/3 = 2/3
    const s2 = Math.sqrt(2 / 3);
    // bar 3: mean 10/3, var ((4/3)^2 + (1/3)^2 + (5/3)^2)/3 = 14/9
    const s3 = Math.sqrt(14) / 3;
    expectSeries(r.pctB, [NaN, NaN, (3 - (2 - 2 * s2)) / (4 * s2), (5 - (10 / 3 - 2 * s3)) / (4 * s3)]);
    expectSeries(r.bandwidth, [NaN, NaN, (4 * s2) / 2, (4 * s3) / (10 / 3)]);
  });

  it('gives NaN %B (undefined) and 0 bandwidth on a flat window', () => {
    const r = bollinger(f64(Array(22).fill(97.31)), 20, 2);
    expect(r.pctB[19]).toBeNaN();
    expect(r.pctB[21]).toBeNaN();
    expect(r.bandwidth[21]).toBe(0);
  });

  it('keeps full precision at price levels where E[x^2] - mean^2 would cancel', () => {
    // closes near 1e6 moving by ~0.001: the deviations from the first close are exact doubles (Sterbenz),
    // so the reference variance is taken on them, where nothing cancels.
    const x = f64([1e6, 1e6 + 0.001, 1e6 + 0.002]);
    const d = [0, x[1] - x[0], x[2] - x[0]];
    const m = (d[0] + d[1] + d[2]) / 3;
    const sd = Math.sqrt(((d[0] - m) ** 2 + (d[1] - m) ** 2 + (d[2] - m) ** 2) / 3);
    const expected = (4 * sd) / (x[0] + m);
    const r = bollinger(x, 3, 2);
    expect(Math.abs(r.bandwidth[2] - expected) / expected).toBeLessThan(1e-12);
    // The one-pass raw formula E[x^2] - mean^2 (TA-Lib 0.4) misses by far more than 1e-9 here.
    const mean = (x[0] + x[1] + x[2]) / 3;
    const naiveVar = (x[0] ** 2 + x[1] ** 2 + x[2] ** 2) / 3 - mean * mean;
    const naive = (4 * Math.sqrt(Math.max(naiveVar, 0))) / mean;
    expect(Math.abs(naive - expected) / expected).toBeGreaterThan(1e-9);
  });
});

describe('annualisationFactor', () => {
  it('documents the bars per year by timeframe and calendar', () => {
    expect(annualisationFactor('1d')).toBe(252);
    expect(annualisationFactor('1h')).toBe(1638);
    expect(annualisationFactor('15m')).toBe(6552);
    expect(annualisationFactor('5m')).toBe(19656);
    expect(annualisationFactor('1m')).toBe(98280);
    expect(annualisationFactor('1d', 'crypto-24x7')).toBe(365);
    expect(annualisationFactor('1h', 'crypto-24x7')).toBe(8760);
    expect(annualisationFactor('1m', 'crypto-24x7')).toBe(525600);
  });
});

describe('realizedVolatility', () => {
  it('is the sample sd of one-bar log returns times sqrt(bars per year)', () => {
    // returns ln 1.1, ln 0.9, ln 1.1: sample sd of a pair (a, b) is |a - b| / sqrt(2)
    const pair = Math.abs(Math.log(1.1) - Math.log(0.9)) / Math.SQRT2;
    expectSeries(realizedVolatility(f64([100, 110, 99, 108.9]), 2, 1), [NaN, NaN, pair, pair]);
    expectSeries(realizedVolatility(f64([100, 110, 99, 108.9]), 2, 252), [
      NaN,
      NaN,
      pair * Math.sqrt(252),
      pair * Math.sqrt(252),
    ]);
  });

  it('is 0 for constant prices', () => {
    expectSeries(realizedVolatility(f64([5, 5, 5, 5]), 2, 252), [NaN, NaN, 0, 0]);
  });
});

describe('partial computation (`from`)', () => {
  it('matches the full computation bit for bit from any start', () => {
    const n = 300;
    const c = Float64Array.from({ length: n }, (_, i) => 100 + Math.sin(i / 4) * 3 + i * 0.02);
    const h = c.map((x, i) => x + 0.5 + (i % 3) * 0.1);
    const l = c.map((x, i) => x - 0.4 - (i % 5) * 0.1);
    for (const from of [0, 14, 19, 20, 63, 64, 65, 299, 300]) {
      const fill = () => new Float64Array(n).fill(-1);
      const pairs: [Float64Array, Float64Array][] = [
        [atr(h, l, c, 14), atr(h, l, c, 14, fill(), from)],
        [realizedVolatility(c, 20, 252), realizedVolatility(c, 20, 252, fill(), from)],
        [bollinger(c).pctB, bollinger(c, 20, 2, { pctB: fill(), bandwidth: fill() }, from).pctB],
        [bollinger(c).bandwidth, bollinger(c, 20, 2, { pctB: fill(), bandwidth: fill() }, from).bandwidth],
      ];
      for (const [full, part] of pairs) {
        for (let t = 0; t < n; t++) {
          if (t < from) expect(part[t]).toBe(-1);
          else expect(Object.is(part[t], full[t])).toBe(true);
        }
      }
    }
  });
});
