import { adx } from './trend.indicators';

const f64 = (xs: number[]) => Float64Array.from(xs);

//   bar  high  low   close   up = H-prevH  down = prevL-L   DM           TR
//   0    10    8     9
//   1    11    9     10      1             -1               +DM 1        2
//   2    12    9.5   11      1             -0.5             +DM 1        2.5
//   3    11.5  10    10.5    -0.5          -0.5             none         1.5
//   4    11    9     9.5     -0.5          1                -DM 1        2
//   5    10    8.5   9       -1            0.5              -DM 0.5      1.5
const high = f64([10, 11, 12, 11.5, 11, 10]);
const low = f64([8, 9, 9.5, 10, 9, 8.5]);
const close = f64([9, 10, 11, 10.5, 9.5, 9]);

describe('adx (TA-Lib TA_ADX, Wilder)', () => {
  it('follows TA-Lib seeding: n-1 summed bars, Wilder sums, mean of the first n DX, then Wilder ADX', () => {
    // n = 2. Seed sums over bar 1: DM+ 1, DM- 0, TR 2.
    // bar 2: DM+ = 1 - 1/2 + 1 = 1.5, DM- 0, TR = 2 - 1 + 2.5 = 3.5 -> -DI 0, +DI > 0 -> DX 100
    // bar 3: DM+ 0.75, DM- 0, TR 3.25 -> DX 100; ADX[3] = (100 + 100)/2 = 100
    // bar 4: DM+ 0.375, DM- 1, TR 3.625 -> DX = 100 * (1 - 0.375)/(1 + 0.375) = 500/11; ADX = (100 + 500/11)/2 = 800/11
    // bar 5: DM+ 0.1875, DM- = 1 - 0.5 + 0.5 = 1, TR 3.3125 -> DX = 100 * 0.8125/1.1875 = 1300/19;
    //        ADX = (800/11 + 1300/19)/2 = 14750/209
    const r = adx(high, low, close, 2);
    expect(r[0]).toBeNaN();
    expect(r[1]).toBeNaN();
    expect(r[2]).toBeNaN();
    expect(r[3]).toBeCloseTo(100, 12);
    expect(r[4]).toBeCloseTo(800 / 11, 12);
    expect(r[5]).toBeCloseTo(14750 / 209, 12);
  });

  it('has lookback 2n - 1 and gives 0 on a flat series', () => {
    const flat = f64(Array(30).fill(3));
    const r = adx(flat, flat, flat, 14);
    expect(r[26]).toBeNaN();
    expect(r[27]).toBe(0);
    expect(r[29]).toBe(0);
  });

  it('writes only from `from` on, with values identical to the full computation', () => {
    const n = 120;
    const c = Float64Array.from({ length: n }, (_, i) => 50 + Math.sin(i / 5) * 4);
    const h = c.map((x, i) => x + 0.3 + (i % 4) * 0.2);
    const l = c.map((x, i) => x - 0.3 - (i % 3) * 0.2);
    const full = adx(h, l, c, 14);
    const part = adx(h, l, c, 14, new Float64Array(n).fill(-1), 70);
    for (let t = 0; t < n; t++) expect(Object.is(part[t], t < 70 ? -1 : full[t])).toBe(true);
  });
});
