import { cci, mfi, roc, rsi, simpleReturn, stochFast, willr } from './momentum.indicators';

const f64 = (xs: number[]) => Float64Array.from(xs);

function expectSeries(actual: Float64Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  expected.forEach((e, i) => {
    if (Number.isNaN(e)) expect(actual[i]).toBeNaN();
    else expect(actual[i]).toBeCloseTo(e, 10);
  });
}

// Five bars used by the high/low/close kernels.
//   bar   high  low  close   TP = (H+L+C)/3   volume
//   0     10    8    9       9                100
//   1     11    9    10      10               200
//   2     12    10   11      11               300
//   3     11    9    9.5     59/6             400
//   4     10    7    8       25/3             500
const high = f64([10, 11, 12, 11, 10]);
const low = f64([8, 9, 10, 9, 7]);
const close = f64([9, 10, 11, 9.5, 8]);
const volume = f64([100, 200, 300, 400, 500]);

describe('simple returns and ROC', () => {
  it('ret_n = close[t] / close[t-n] - 1', () => {
    expectSeries(simpleReturn(f64([100, 110, 99]), 1), [NaN, 0.1, -0.1]);
    expectSeries(simpleReturn(f64([100, 110, 99]), 2), [NaN, NaN, -0.01]);
  });

  it('roc is in percent', () => {
    expectSeries(roc(f64([100, 110, 99]), 1), [NaN, 10, -10]);
  });
});

describe('rsi (TA-Lib TA_RSI, Wilder)', () => {
  it('seeds with the mean gain/loss of the first n changes, then smooths (avg * (n-1) + x) / n', () => {
    // changes +1, -0.5, +1 -> gain 2/3, loss 1/6 -> RSI 100 * (2/3) / (5/6) = 80
    // change -0.5 -> gain (2/3 * 2 + 0) / 3 = 4/9, loss (1/6 * 2 + 0.5) / 3 = 5/18 -> 100 * 8/13
    expectSeries(rsi(f64([10, 11, 10.5, 11.5, 11]), 3), [NaN, NaN, NaN, 80, 800 / 13]);
  });

  it('is 0 on a flat series, as TA-Lib', () => {
    expectSeries(rsi(f64([5, 5, 5, 5, 5]), 3), [NaN, NaN, NaN, 0, 0]);
  });

  it('is 100 when prices only rise', () => {
    expectSeries(rsi(f64([1, 2, 3, 4]), 2), [NaN, NaN, 100, 100]);
  });
});

describe('stochFast (TA-Lib TA_STOCHF, SMA %D)', () => {
  it('computes %K over the window and %D as its SMA, withholding both until %D exists', () => {
    // %K bar 2: HH 12, LL 8 -> (11-8)/4*100 = 75 (computed but withheld: lookback (3-1)+(2-1) = 3)
    // %K bar 3: HH 12, LL 9 -> (9.5-9)/3*100 = 50/3;  %D = (75 + 50/3)/2 = 275/6
    // %K bar 4: HH 12, LL 7 -> (8-7)/5*100 = 20;      %D = (50/3 + 20)/2 = 55/3
    const r = stochFast(high, low, close, 3, 2);
    expectSeries(r.k, [NaN, NaN, NaN, 50 / 3, 20]);
    expectSeries(r.d, [NaN, NaN, NaN, 275 / 6, 55 / 3]);
  });

  it('gives 0 on a flat window', () => {
    const flat = f64([7, 7, 7, 7]);
    expectSeries(stochFast(flat, flat, flat, 2, 2).k, [NaN, NaN, 0, 0]);
  });
});

describe('willr (TA-Lib TA_WILLR)', () => {
  it('computes -100 * (HH - close) / (HH - LL)', () => {
    // bar 2: (12-11)/4 -> -25; bar 3: (12-9.5)/3 -> -250/3; bar 4: (12-8)/5 -> -80
    expectSeries(willr(high, low, close, 3), [NaN, NaN, -25, -250 / 3, -80]);
  });
});

describe('cci (TA-Lib TA_CCI)', () => {
  it('divides the TP deviation by 0.015 x the mean absolute deviation', () => {
    // bar 2: TPs 9, 10, 11: mean 10, MD 2/3 -> (11-10)/(0.015*2/3) = 100
    // bar 3: TPs 10, 11, 59/6: mean 185/18, MD (5+13+8)/18/3 = 13/27 -> (-8/18)/(0.015*13/27) = -800/13
    expectSeries(cci(high, low, close, 3), [NaN, NaN, 100, -800 / 13, cciBar4()]);
  });

  it('gives 0 on a flat window even when the mean carries rounding residue', () => {
    const flat = f64(Array(25).fill(97.31));
    const r = cci(flat, flat, flat, 20);
    for (let t = 19; t < 25; t++) expect(r[t]).toBe(0);
  });
});

/** bar 4 by hand: TPs 11, 59/6, 25/3 -> mean (66+59+50)/18 = 175/18; |198-175|, |177-175|, |150-175| / 18 */
function cciBar4(): number {
  const mean = 175 / 18;
  const md = (23 / 18 + 2 / 18 + 25 / 18) / 3;
  return (25 / 3 - mean) / (0.015 * md);
}

describe('mfi (TA-Lib TA_MFI)', () => {
  it('sums positive and negative money flows (TP x volume) by TP direction', () => {
    // flows: bar 1 +10*200 = 2000, bar 2 +11*300 = 3300, bar 3 -(59/6)*400 = -11800/3, bar 4 -(25/3)*500 = -12500/3
    // bar 3: 100 * 5300 / (5300 + 11800/3) = 15900/277
    // bar 4: 100 * 3300 / (3300 + 24300/3) = 550/19
    expectSeries(mfi(high, low, close, volume, 3), [NaN, NaN, NaN, 15900 / 277, 550 / 19]);
  });

  it('gives 0 when no flow is in the window (flat TP or zero volume)', () => {
    const flat = f64([5, 5, 5, 5, 5]);
    expectSeries(mfi(flat, flat, flat, volume, 3), [NaN, NaN, NaN, 0, 0]);
    expectSeries(mfi(high, low, close, f64([0, 0, 0, 0, 0]), 3), [NaN, NaN, NaN, 0, 0]);
  });

  it('treats TPs equal up to rounding residue as unchanged', () => {
    // (0.1 + 0.2 + 0.3)/3 and (0.3 + 0.2 + 0.1)/3 differ in floating point; the bar is neither up nor down.
    const h = f64([0.3, 0.3, 0.3, 0.6, 0.3]);
    const l = f64([0.1, 0.2, 0.1, 0.3, 0.1]);
    const c = f64([0.2, 0.1, 0.2, 0.45, 0.2]);
    const r = mfi(h, l, c, f64([1, 1, 1, 1, 1]), 2);
    // bar 3: flows bar 2 (equal TP -> none) and bar 3 (up) -> 100; bar 4: bar 3 up (0.45), bar 4 down (0.2)
    expect(r[3]).toBe(100);
    expect(r[4]).toBeCloseTo((100 * 0.45) / (0.45 + 0.2), 12);
  });
});

describe('mfi running sums', () => {
  it('stay within 1e-11 of per-window sums through volume bursts and flow-free stretches', () => {
    const n = 700;
    const c = Float64Array.from({ length: n }, (_, i) => 50 + Math.sin(i * 0.7) * 2);
    for (let i = 400; i < 450; i++) c[i] = 50; // flat typical price: no flows at all
    const h = c.map((x) => x + 0.25);
    const l = c.map((x) => x - 0.25);
    for (let i = 400; i < 450; i++) {
      h[i] = 50;
      l[i] = 50;
    }
    const v = Float64Array.from({ length: n }, (_, i) => (i % 53 === 0 ? 1e13 : 10 + (i % 7)));
    const r = mfi(h, l, c, v, 14);
    const tp = Array.from(c, (x, i) => (h[i] + l[i] + x) / 3);
    for (let t = 14; t < n; t++) {
      let p = 0;
      let q = 0;
      for (let j = t - 13; j <= t; j++) {
        const d = tp[j] - tp[j - 1];
        if (Math.abs(d) <= 1e-14 * (Math.abs(tp[j]) + Math.abs(tp[j - 1]))) continue;
        if (d > 0) p += tp[j] * v[j];
        else q += tp[j] * v[j];
      }
      const expected = p + q === 0 ? 0 : (100 * p) / (p + q);
      if (expected === 0 ? r[t] !== 0 : !(Math.abs(r[t] - expected) <= 1e-9 * Math.max(1, expected))) {
        throw new Error(`mfi[${t}] = ${r[t]}, expected ${expected}`);
      }
    }
  });
});

describe('partial computation (`from`)', () => {
  it('matches the full computation bit for bit from any start', () => {
    const n = 300;
    const c = Float64Array.from({ length: n }, (_, i) => 100 + Math.sin(i / 4) * 3 + i * 0.02);
    const h = c.map((x, i) => x + 0.5 + (i % 3) * 0.1);
    const l = c.map((x, i) => x - 0.4 - (i % 5) * 0.1);
    const v = Float64Array.from({ length: n }, (_, i) => 1000 + ((i * 7919) % 500));
    for (const from of [0, 13, 15, 63, 64, 65, 128, 250, 299, 300]) {
      const fill = () => new Float64Array(n).fill(-1);
      const pairs: [Float64Array, Float64Array][] = [
        [rsi(c, 14), rsi(c, 14, fill(), from)],
        [roc(c, 10), roc(c, 10, fill(), from)],
        [willr(h, l, c, 14), willr(h, l, c, 14, fill(), from)],
        [cci(h, l, c, 20), cci(h, l, c, 20, fill(), from)],
        [mfi(h, l, c, v, 14), mfi(h, l, c, v, 14, fill(), from)],
        [stochFast(h, l, c).k, stochFast(h, l, c, 14, 3, { k: fill(), d: fill() }, from).k],
        [stochFast(h, l, c).d, stochFast(h, l, c, 14, 3, { k: fill(), d: fill() }, from).d],
      ];
      for (const [full, part] of pairs) {
        for (let t = 0; t < n; t++) {
          if (t < from) expect(part[t]).toBe(-1);
          else expect(Object.is(part[t], full[t])).toBe(true);
        }
      }
    }
  });

  it('rejects inputs of different lengths', () => {
    expect(() => willr(f64([1, 2]), f64([1]), f64([1, 2]), 2)).toThrow(RangeError);
  });
});
