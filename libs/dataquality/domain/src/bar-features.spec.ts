import { computeBarStats, FEATURE_COUNT, isConsistentBar, isStaleBar } from './bar-features';
import { DEFAULT_SENTINEL_CONFIG, mergeSentinelConfig } from './sentinel.config';
import { type OhlcvSeries } from '@strata/marketdata-contracts';

/** Deterministic irregular bars (no randomness), W = 5 for hand-sized windows. */
function bars(n: number): OhlcvSeries {
  const b: OhlcvSeries = {
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  let p = 50;
  for (let i = 0; i < n; i++) {
    b.ts[i] = i * 60_000;
    b.open[i] = p * (1 + 0.001 * Math.sin(i));
    b.close[i] = p * (1 + 0.02 * Math.sin(i * 2.3));
    b.high[i] = Math.max(b.open[i], b.close[i]) * (1 + 0.003 * (1 + Math.cos(i)));
    b.low[i] = Math.min(b.open[i], b.close[i]) * (1 - 0.002 * (1 + Math.sin(i * 0.7)));
    b.volume[i] = 1000 + 300 * Math.cos(i * 1.3);
    p = b.close[i];
  }
  return b;
}

// Straightforward reference formulas, written independently of the implementation.
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

describe('computeBarStats', () => {
  const cfg = mergeSentinelConfig({ windowBars: 5 });
  const b = bars(40);
  const st = computeBarStats(b, 0, cfg, true);

  it('computes the six features of a bar from their definitions', () => {
    for (const i of [5, 12, 39]) {
      const W = 5;
      const r = Math.log(b.close[i] / b.close[i - 1]);
      const rets: number[] = [];
      const parks: number[] = [];
      for (let j = i - W + 1; j < i; j++) {
        rets.push(Math.log(b.close[j] / b.close[j - 1]));
        parks.push(Math.log(b.high[j] / b.low[j]) / (2 * Math.sqrt(Math.log(2))));
      }
      const mad = 1.482602218505602 * median(rets.map(Math.abs));
      const park = median(parks);
      const sigma = Math.sqrt((mad * mad + park * park) / 2);
      const drift = rets.reduce((a, x) => a + x, 0) / rets.length;
      const lv: number[] = [];
      for (let j = i - W; j < i; j++) lv.push(Math.log(1 + b.volume[j]));
      const mean = lv.reduce((a, x) => a + x, 0) / W;
      const sd = Math.sqrt(lv.reduce((a, x) => a + (x - mean) ** 2, 0) / W);
      const closes: number[] = [];
      for (let j = i - W; j < i; j++) closes.push(b.close[j]);
      const f = st.features.subarray(i * FEATURE_COUNT, (i + 1) * FEATURE_COUNT);
      expect(st.valid[i]).toBe(1);
      expect(st.sigma[i]).toBeCloseTo(sigma, 12);
      expect(f[0]).toBeCloseTo(r, 12);
      expect(f[1]).toBeCloseTo((b.high[i] - b.low[i]) / b.close[i], 12);
      expect(f[2]).toBeCloseTo(b.open[i] / b.close[i - 1] - 1, 12);
      expect(f[3]).toBeCloseTo((Math.log(1 + b.volume[i]) - mean) / sd, 9);
      expect(f[4]).toBeCloseTo(b.close[i] / median(closes) - 1, 12);
      expect(f[5]).toBeCloseTo((r - drift) / sigma, 9);
    }
  });

  it('leaves the warm-up bars invalid and depends only on the window (same values from a later start)', () => {
    for (let i = 0; i < 5; i++) expect(st.valid[i]).toBe(0);
    const late = computeBarStats(b, 20, cfg, true);
    for (let i = 20; i < 40; i++) {
      expect(Array.from(late.features.subarray(i * 6, i * 6 + 6))).toEqual(
        Array.from(st.features.subarray(i * 6, i * 6 + 6)),
      );
      expect(late.priceResidual[i]).toBe(st.priceResidual[i]);
    }
  });

  it('zeroes the volume feature when the class trades no volume', () => {
    const fx = computeBarStats(b, 0, DEFAULT_SENTINEL_CONFIG, false);
    for (let i = 20; i < 40; i++) expect(fx.features[i * 6 + 3]).toBe(0);
  });

  it('recognises stale and inconsistent bars', () => {
    const c = bars(3);
    c.open[2] = c.high[2] = c.low[2] = c.close[2] = c.close[1];
    expect(isStaleBar(c, 2)).toBe(true);
    expect(isStaleBar(c, 1)).toBe(false);
    expect(isConsistentBar(c, 1)).toBe(true);
    c.close[1] = c.high[1] * 1.5;
    expect(isConsistentBar(c, 1)).toBe(false);
  });
});
