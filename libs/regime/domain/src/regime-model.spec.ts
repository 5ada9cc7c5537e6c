import { type GaussianHmmParams } from './gaussian-hmm';
import {
  type RegimeModel,
  filterRegimeHistory,
  fitRegimeModel,
  initialFilterState,
  matchStates,
  refilterWindow,
  refitSignal,
  regimeFilterStep,
  regimeObservations,
  smoothedRegimes,
} from './regime-model';
import { generateRegimeSeries } from './regime-synthetic';
import { ruleRegimes } from './rule-regime';

const SPEC = {
  transition: [
    [0.99, 0.01],
    [0.03, 0.97],
  ],
  drift: [0.0004, -0.0008],
  vol: [0.007, 0.02],
};
const series = generateRegimeSeries({ ...SPEC, seed: 5, bars: 1500 });
const times = Array.from({ length: series.close.length }, (_, i) => Date.UTC(2020, 0, 1) + i * 86_400_000);
const FIT = { restarts: 2, ks: [2] };
const model = fitRegimeModel(series.close.subarray(0, 1000), FIT);

describe('regime observations', () => {
  it('are the log return and the log RMS of the last volWindow log returns, from past closes only', () => {
    const close = [100, 101, 99, 100, 102, 101, 103, 104, 102, 101, 100, 103, 104];
    const { obs, first } = regimeObservations(close, 10);
    expect(first).toBe(10);
    expect(obs.length).toBe(2 * 3);
    for (let r = 0; r < 3; r++) {
      const t = r + 10;
      const rets = close
        .slice(t - 10, t + 1)
        .map((c, i, a) => (i ? Math.log(c / a[i - 1]) : 0))
        .slice(1);
      expect(obs[r * 2]).toBeCloseTo(Math.log(close[t] / close[t - 1]), 15);
      expect(obs[r * 2 + 1]).toBeCloseTo(0.5 * Math.log(rets.reduce((a, x) => a + x * x, 0) / 10), 13);
    }
    expect(() => regimeObservations([1, 2, 0, 3], 10)).toThrow(/bar 2/);
  });
});

describe('past data only: served labels come from the forward filter', () => {
  const CUT = 1100;
  /** The same series up to CUT, then different later bars (corrected and extended). */
  function alteredLater(): Float64Array {
    const other = generateRegimeSeries({ ...SPEC, seed: 99, bars: 800 });
    const c = new Float64Array(CUT + 700);
    c.set(series.close.subarray(0, CUT));
    // Later bars three times as volatile as the other seed's: a turbulent stretch right after CUT.
    for (let t = CUT; t < c.length; t++) c[t] = c[t - 1] * (other.close[t - CUT + 1] / other.close[t - CUT]) ** 3;
    return c;
  }
  const altered = alteredLater();
  const alteredTimes = Array.from({ length: altered.length }, (_, i) => times[0] + i * 86_400_000);

  it('changing or adding later bars leaves every earlier filtered label and probability unchanged', () => {
    const a = filterRegimeHistory(model, times, series.close).points;
    const b = filterRegimeHistory(model, alteredTimes, altered).points;
    const earlier = a.filter((p) => p.time < times[CUT]);
    expect(earlier.length).toBe(CUT - model.volWindow);
    for (let i = 0; i < earlier.length; i++) expect(b[i]).toEqual(earlier[i]);
    // The later bars did change the later labels (the test is not vacuous).
    expect(b.slice(earlier.length).some((p, i) => p.probabilities[0] !== a[earlier.length + i]?.probabilities[0])).toBe(
      true,
    );
  });

  it('the smoothed view is not past-only: the same check fails on it (why it is never served)', () => {
    const a = smoothedRegimes(model, series.close).probabilities;
    const b = smoothedRegimes(model, altered).probabilities;
    const rows = CUT - model.volWindow;
    let maxDiff = 0;
    for (let i = 0; i < rows * model.k; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeGreaterThan(1e-3);
  });

  it('online steps equal the history, and a bar seen again is a no-op (idempotent per bar time)', () => {
    let state = initialFilterState();
    const points = [];
    for (let t = 0; t < 1200; t++) {
      const r = regimeFilterStep(model, state, { time: times[t], close: series.close[t] });
      expect(r.status).toBe(t < model.volWindow ? 'warming_up' : 'applied');
      const again = regimeFilterStep(model, r.state, { time: times[t], close: series.close[t] });
      expect(again.status).toBe('duplicate');
      expect(again.state).toBe(r.state);
      state = r.state;
      if (r.point) points.push(r.point);
    }
    expect(points).toEqual(filterRegimeHistory(model, times.slice(0, 1200), series.close.subarray(0, 1200)).points);
    const corrected = regimeFilterStep(model, state, { time: times[1199], close: series.close[1199] * 1.01 });
    expect(corrected.status).toBe('out_of_order');
    expect(regimeFilterStep(model, state, { time: times[5], close: 1 }).status).toBe('out_of_order');
  });

  it('a corrected bar is recomputed from the checkpoint before it, within the bound', () => {
    const checkpoint = filterRegimeHistory(model, times.slice(0, 1150), series.close.subarray(0, 1150)).state;
    const fixed = Float64Array.from(series.close.subarray(0, 1200));
    fixed[1150] *= 1.03;
    const full = filterRegimeHistory(model, times.slice(0, 1200), fixed).points;
    const re = refilterWindow(model, checkpoint, times.slice(1150, 1200), fixed.subarray(1150, 1200), 100);
    expect(re.points).toEqual(full.slice(full.length - 50));
    expect(() => refilterWindow(model, checkpoint, times.slice(1150, 1200), fixed.subarray(1150, 1200), 49)).toThrow(
      /exceeds the bound of 49/,
    );
  });

  it('labels are names, and labelSince is the first bar of the current run', () => {
    const pts = filterRegimeHistory(model, times, series.close).points;
    for (let i = 0; i < pts.length; i++) {
      expect(['calm', 'turbulent']).toContain(pts[i].label);
      const start = i === 0 || pts[i - 1].label !== pts[i].label ? pts[i].time : pts[i - 1].labelSince;
      expect(pts[i].labelSince).toBe(start);
    }
  });
});

describe('label hysteresis on the filtered probabilities', () => {
  it('a move to a calmer label waits for the minimum stay; a move to turbulent is never delayed', () => {
    // The plain most probable state (no hysteresis) against a stay of 8 bars and a switch probability of 0.6.
    const plain = filterRegimeHistory({ ...model, minStayBars: 1, switchProbability: 0 }, times, series.close).points;
    const sticky: RegimeModel = { ...model, minStayBars: 8, switchProbability: 0.6 };
    const pts = filterRegimeHistory(sticky, times, series.close).points;
    let run = 1;
    let calmerMoves = 0;
    for (let i = 1; i < pts.length; i++) {
      if (pts[i].label === pts[i - 1].label) {
        run++;
        continue;
      }
      if (pts[i].label === 'calm') {
        expect(run).toBeGreaterThanOrEqual(8);
        calmerMoves++;
      }
      run = 1;
    }
    expect(calmerMoves).toBeGreaterThan(3);
    for (const p of pts) if (p.probabilities[1] >= 0.6) expect(p.label).toBe('turbulent');
    // The probabilities are the filter's own, unchanged by the label rule; fewer switches than the plain argmax.
    pts.forEach((p, i) => expect(p.probabilities).toEqual(plain[i].probabilities));
    const switches = (xs: typeof pts) => xs.filter((p, i) => i > 0 && p.label !== xs[i - 1].label).length;
    expect(switches(pts)).toBeLessThan(switches(plain));
  });
});

describe('stable names across refits', () => {
  it('orders the first fit by volatility: calm has the lower return variance', () => {
    expect(model.labels).toEqual(['calm', 'turbulent']);
    expect(model.states[0].annualisedVol).toBeLessThan(model.states[1].annualisedVol);
    // Near the generator's vols (0.7 %, 2 % a day).
    expect(model.states[0].annualisedVol / Math.sqrt(252)).toBeGreaterThan(0.005);
    expect(model.states[1].annualisedVol / Math.sqrt(252)).toBeGreaterThan(0.015);
  });

  it('a refit on extended data never swaps names: each refit labels the shared history as the one before', () => {
    let prev: RegimeModel = model;
    for (const end of [1100, 1250, 1400, 1500]) {
      const next = fitRegimeModel(series.close.subarray(0, end), FIT, prev);
      const a = filterRegimeHistory(prev, times.slice(0, 1000), series.close.subarray(0, 1000)).points;
      const b = filterRegimeHistory(next, times.slice(0, 1000), series.close.subarray(0, 1000)).points;
      const same = a.filter((p, i) => p.label === b[i].label).length / a.length;
      expect(same).toBeGreaterThan(0.9); // a swap would make this ≈ 1 − 0.9
      prev = next;
    }
  });

  it('matching overrides the volatility order when two states have nearly equal volatility', () => {
    const mk = (vols: number[], means: number[]): GaussianHmmParams => ({
      k: 2,
      d: 2,
      startProb: Float64Array.from([0.5, 0.5]),
      transition: Float64Array.from([0.95, 0.05, 0.05, 0.95]),
      means: Float64Array.from([means[0], -4, means[1], -4]),
      covariances: Float64Array.from([vols[0] ** 2, 0, 0, 0.1, vols[1] ** 2, 0, 0, 0.1]),
    });
    const previous = mk([0.01, 0.0101], [0.002, -0.002]); // calm: positive drift
    // Refit: state 0 still has the positive drift but now a slightly higher vol than state 1.
    const refit = mk([0.0102, 0.0099], [0.002, -0.002]);
    expect(matchStates(refit)).toEqual([1, 0]); // volatility order alone would swap the names
    expect(matchStates(refit, previous)).toEqual([0, 1]); // matching keeps them
  });
});

describe('refit signal', () => {
  it('is due when the recent predictive log density falls (a vol shock the model never saw), not in sample', () => {
    const inSample = filterRegimeHistory(model, times.slice(0, 1000), series.close.subarray(0, 1000)).state;
    expect(refitSignal(model, inSample).due).toBe(false);
    const shocked = Float64Array.from(series.close.subarray(0, 1100));
    for (let t = 1000; t < 1100; t++) shocked[t] = shocked[t - 1] * Math.exp((t % 2 ? 1 : -1) * 0.08);
    const s = filterRegimeHistory(model, times.slice(1000, 1100), shocked.subarray(1000, 1100), inSample).state;
    const sig = refitSignal(model, s);
    expect(sig.due).toBe(true);
    expect(sig.rollingMean).toBeLessThan(sig.threshold);
  });
});

describe('rule regime', () => {
  it('is point-in-time and follows trend and volatility with hysteresis and a minimum stay', () => {
    const r = ruleRegimes(series.close);
    const cut = ruleRegimes(series.close.subarray(0, 900));
    for (let t = 0; t < 900; t++) expect(cut.labels[t]).toBe(r.labels[t]);
    expect(r.labels[270]).toBeNull(); // 20 + 252 − 1 = 271 is the first bar with a volatility median
    expect(r.labels[271]).not.toBeNull();
    // Minimum stay: no side switches twice within 5 bars.
    for (const side of [r.trend, r.turbulent]) {
      let last = -100;
      for (let t = 272; t < side.length; t++)
        if (side[t] !== side[t - 1]) {
          expect(t - last).toBeGreaterThanOrEqual(5);
          last = t;
        }
    }
    // A steady uptrend with one volatility burst and a quieter stretch after it: up throughout; turbulent during the
    // burst; calm again once the short volatility is below the median by the band.
    const c = [100];
    for (let t = 1; t < 700; t++)
      c.push(c[t - 1] * Math.exp(0.001 + (t >= 500 && t < 560 ? 0.03 : t < 500 ? 0.005 : 0.004) * (t % 2 ? 1 : -1)));
    const u = ruleRegimes(c);
    expect(u.labels[499]).toBe('up_calm');
    expect(u.labels[530]).toBe('up_turbulent');
    expect(u.labels[650]).toBe('up_calm');
  });
});
