import { obv, volumeZScore } from './volume.indicators';

const f64 = (xs: number[]) => Float64Array.from(xs);

describe('obv (TA-Lib TA_OBV)', () => {
  it('starts at the first volume and adds/subtracts volume by close direction', () => {
    // 100; up +200 = 300; equal = 300; down -400 = -100; up +500 = 400
    expect(Array.from(obv(f64([10, 11, 11, 10, 12]), f64([100, 200, 300, 400, 500])))).toEqual([
      100, 300, 300, -100, 400,
    ]);
  });

  it('writes only from `from` on', () => {
    const r = obv(f64([10, 11, 11, 10, 12]), f64([100, 200, 300, 400, 500]), new Float64Array(5).fill(-1), 3);
    expect(Array.from(r)).toEqual([-1, -1, -1, -100, 400]);
  });
});

describe('volumeZScore', () => {
  it('uses the window mean and sample standard deviation, current bar included', () => {
    // bar 2: 100 200 300 -> mean 200, sd 100 -> z 1; bar 3: 200 300 400 -> 1
    // bar 4: 300 400 100 -> mean 800/3, squared deviations (100^2 + 400^2 + 500^2)/9 = 420000/9, /2 -> sd sqrt(210000)/3
    const r = volumeZScore(f64([100, 200, 300, 400, 100]), 3);
    expect(r[0]).toBeNaN();
    expect(r[1]).toBeNaN();
    expect(r[2]).toBeCloseTo(1, 12);
    expect(r[3]).toBeCloseTo(1, 12);
    expect(r[4]).toBeCloseTo(-500 / Math.sqrt(210000), 12);
  });

  it('is NaN (undefined) when the window has identical volumes', () => {
    const r = volumeZScore(f64([7e7, 7e7, 7e7, 7e7]), 3);
    expect(r[2]).toBeNaN();
    expect(r[3]).toBeNaN();
  });
});
