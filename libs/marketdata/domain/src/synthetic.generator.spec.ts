import { generateSyntheticSeries } from './synthetic.generator';
import { stationaryDistribution } from './regime.markov';
import { DEFAULT_REGIMES, DEFAULT_TRANSITIONS, SyntheticConfigError, type SyntheticSeries } from './synthetic.types';

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

function sameSeries(a: SyntheticSeries, b: SyntheticSeries): boolean {
  const cols = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
  return (
    a.length === b.length &&
    cols.every((c) => bytes(a[c]).equals(bytes(b[c]))) &&
    bytes(a.truth.regime).equals(bytes(b.truth.regime)) &&
    bytes(a.truth.anomaly).equals(bytes(b.truth.anomaly)) &&
    bytes(a.truth.jumps).equals(bytes(b.truth.jumps)) &&
    JSON.stringify(a.truth.events) === JSON.stringify(b.truth.events)
  );
}

/** Mean and sample standard deviation. */
function moments(xs: number[]): { n: number; mean: number; sd: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const ss = xs.reduce((a, b) => a + (b - mean) * (b - mean), 0);
  return { n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

/**
 * Stationary distribution by repeated squaring of P (a different method from the library's linear solve): P^(2^20)
 * has every row equal to π for these fast-mixing chains. (More squarings would amplify rounding: row sums square too.)
 */
function stationaryByPowers(p: readonly (readonly number[])[]): number[] {
  let m = p.map((r) => [...r]);
  for (let it = 0; it < 20; it++) {
    const prev = m;
    m = prev.map((row) => row.map((_, j) => row.reduce((acc, x, k) => acc + x * prev[k][j], 0)));
  }
  const sum = m[0].reduce((a, b) => a + b, 0);
  return m[0].map((x) => x / sum);
}

const anomalyRates = { spike: 0.004, gap: 0.003, stale: 0.002, bad_tick: 0.004, volume_burst: 0.004 };

describe('generateSyntheticSeries: determinism', () => {
  it('same seed and config give bit-identical output, a different seed does not', () => {
    const cfg = { seed: 2024, bars: 20_000, timeframe: '1d' as const, anomalies: { rates: anomalyRates } };
    const a = generateSyntheticSeries(cfg);
    const b = generateSyntheticSeries({ ...cfg });
    expect(sameSeries(a, b)).toBe(true);
    const c = generateSyntheticSeries({ ...cfg, seed: 2025 });
    expect(sameSeries(a, c)).toBe(false);
    expect(bytes(a.close).equals(bytes(c.close.subarray(0, Math.min(a.length, c.length))))).toBe(false);
    const s1 = generateSyntheticSeries({ ...cfg, seed: 'desk-a' });
    const s2 = generateSyntheticSeries({ ...cfg, seed: 'desk-a' });
    expect(sameSeries(s1, s2)).toBe(true);
  });

  it('intraday and 24x7 series are deterministic too', () => {
    for (const cfg of [
      { seed: 3, bars: 5_000, timeframe: '5m' as const, anomalies: { rates: anomalyRates } },
      { seed: 3, bars: 5_000, timeframe: '1m' as const, calendar: '24x7' as const, anomalies: { rates: anomalyRates } },
    ]) {
      expect(sameSeries(generateSyntheticSeries(cfg), generateSyntheticSeries(cfg))).toBe(true);
    }
  });
});

describe('generateSyntheticSeries: statistics against the configured model', () => {
  it('per-regime log-return mean and std match (μ − σ²/2)Δt and σ√Δt', () => {
    const regimes = [
      { name: 'bull', drift: 0.3, volatility: 0.1 },
      { name: 'bear', drift: -0.4, volatility: 0.3 },
      { name: 'high_vol', drift: 0.0, volatility: 0.8 },
    ];
    const P = [
      [0.98, 0.015, 0.005],
      [0.03, 0.95, 0.02],
      [0.05, 0.05, 0.9],
    ];
    const s = generateSyntheticSeries({
      seed: 11,
      bars: 200_000,
      timeframe: '1d',
      regimes,
      transitionMatrix: P,
      jumps: { intensityPerYear: 0, meanLog: 0, stdLog: 0 },
    });
    const dt = 1 / 252;
    const byRegime: number[][] = [[], [], []];
    for (let t = 1; t < s.length; t++) byRegime[s.truth.regime[t]].push(Math.log(s.close[t] / s.close[t - 1]));
    regimes.forEach((r, k) => {
      const m = moments(byRegime[k]);
      const expMean = (r.drift - 0.5 * r.volatility ** 2) * dt;
      const expSd = r.volatility * Math.sqrt(dt);
      expect(m.n).toBeGreaterThan(10_000);
      expect(Math.abs(m.mean - expMean)).toBeLessThan(4.5 * (expSd / Math.sqrt(m.n)));
      expect(Math.abs(m.sd - expSd)).toBeLessThan(4.5 * (expSd / Math.sqrt(2 * m.n)));
    });
    // Overnight gap: open-to-previous-close carries 20 % of the variance, open-to-close the other 80 %.
    const gaps: number[] = [];
    const intra: number[] = [];
    for (let t = 1; t < s.length; t++) {
      if (s.truth.regime[t] !== 0) continue;
      gaps.push(Math.log(s.open[t] / s.close[t - 1]));
      intra.push(Math.log(s.close[t] / s.open[t]));
    }
    const sd0 = 0.1 * Math.sqrt(dt);
    expect(Math.abs(moments(gaps).sd - sd0 * Math.sqrt(0.2))).toBeLessThan(0.02 * sd0);
    expect(Math.abs(moments(intra).sd - sd0 * Math.sqrt(0.8))).toBeLessThan(0.02 * sd0);
  });

  it('the stationary distribution of the default chain matches an independent computation', () => {
    const piLib = stationaryDistribution(DEFAULT_TRANSITIONS);
    const piRef = stationaryByPowers(DEFAULT_TRANSITIONS);
    piRef.forEach((p, k) => expect(piLib[k]).toBeCloseTo(p, 10));
    // πP = π and Σπ = 1 for the reference itself.
    piRef.forEach((p, j) => expect(piRef.reduce((a, x, i) => a + x * DEFAULT_TRANSITIONS[i][j], 0)).toBeCloseTo(p, 10));
    expect(piRef.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('regime occupancy and transition frequencies match the chain', () => {
    // A fast-mixing chain keeps the sampling error of occupancy small (its autocorrelation decays within a few bars).
    const P = [
      [0.8, 0.15, 0.05],
      [0.2, 0.7, 0.1],
      [0.3, 0.3, 0.4],
    ];
    const s = generateSyntheticSeries({
      seed: 77,
      bars: 200_000,
      timeframe: '1d',
      regimes: [...DEFAULT_REGIMES],
      transitionMatrix: P,
    });
    const pi = stationaryByPowers(P);
    const K = P.length;
    const occ = new Array(K).fill(0);
    const trans = Array.from({ length: K }, () => new Array(K).fill(0));
    for (let t = 0; t < s.length; t++) {
      occ[s.truth.regime[t]]++;
      if (t > 0) trans[s.truth.regime[t - 1]][s.truth.regime[t]]++;
    }
    for (let k = 0; k < K; k++) expect(Math.abs(occ[k] / s.length - pi[k])).toBeLessThan(0.01);
    for (let i = 0; i < K; i++) {
      const from = trans[i].reduce((a: number, b: number) => a + b, 0);
      for (let j = 0; j < K; j++) {
        const p = P[i][j];
        expect(Math.abs(trans[i][j] / from - p)).toBeLessThan(4.5 * Math.sqrt((p * (1 - p)) / from));
      }
    }
    expect(s.truth.regimeNames).toEqual(['bull', 'bear', 'high_vol']);
  });

  it('jump frequency matches λ and jump bars carry N(m, s²) on top of the diffusion', () => {
    const lambda = 25;
    const jm = -0.03;
    const js = 0.04;
    const sigma = 0.2;
    const mu = 0.05;
    const s = generateSyntheticSeries({
      seed: 5,
      bars: 200_000,
      timeframe: '1d',
      regimes: [{ name: 'only', drift: mu, volatility: sigma }],
      transitionMatrix: [[1]],
      jumps: { intensityPerYear: lambda, meanLog: jm, stdLog: js },
    });
    const dt = 1 / 252;
    const years = s.length * dt;
    let total = 0;
    let ones = 0;
    for (let t = 0; t < s.length; t++) {
      total += s.truth.jumps[t];
      if (s.truth.jumps[t] === 1) ones++;
    }
    expect(Math.abs(total / years - lambda)).toBeLessThan((4.5 * Math.sqrt(lambda * years)) / years);
    const p1 = lambda * dt * Math.exp(-lambda * dt);
    expect(Math.abs(ones / s.length - p1)).toBeLessThan(4.5 * Math.sqrt((p1 * (1 - p1)) / s.length));
    const withOne: number[] = [];
    const none: number[] = [];
    for (let t = 1; t < s.length; t++) {
      const r = Math.log(s.close[t] / s.close[t - 1]);
      if (s.truth.jumps[t] === 1) withOne.push(r);
      else if (s.truth.jumps[t] === 0) none.push(r);
    }
    const diffMean = (mu - 0.5 * sigma * sigma) * dt;
    const diffVar = sigma * sigma * dt;
    const m1 = moments(withOne);
    const sd1 = Math.sqrt(diffVar + js * js);
    expect(Math.abs(m1.mean - (diffMean + jm))).toBeLessThan((4.5 * sd1) / Math.sqrt(m1.n));
    expect(Math.abs(m1.sd - sd1)).toBeLessThan((4.5 * sd1) / Math.sqrt(2 * m1.n) + 0.002 * sd1);
    const m0 = moments(none);
    expect(Math.abs(m0.sd - Math.sqrt(diffVar))).toBeLessThan((4.5 * Math.sqrt(diffVar)) / Math.sqrt(2 * m0.n));
  });

  it('log volume has the configured regime levels and rises with |return|', () => {
    const base = 2_000_000;
    const logSigma = 0.3;
    const beta = 0.5;
    const regimes = [
      { name: 'calm', drift: 0, volatility: 0.15, volumeMultiplier: 1 },
      { name: 'busy', drift: 0, volatility: 0.4, volumeMultiplier: 2.5 },
    ];
    const s = generateSyntheticSeries({
      seed: 8,
      bars: 150_000,
      timeframe: '1d',
      regimes,
      transitionMatrix: [
        [0.97, 0.03],
        [0.05, 0.95],
      ],
      jumps: { intensityPerYear: 0, meanLog: 0, stdLog: 0 },
      volume: { base, logSigma, absReturnBeta: beta, decimals: 2 },
    });
    // E[|Z|] = √(2/π), so for jump-free bars E[ln V] = ln(base·m) − s²/2 exactly; sd² = β²(1 − 2/π) + s².
    const sdLogV = Math.sqrt(beta * beta * (1 - 2 / Math.PI) + logSigma * logSigma);
    regimes.forEach((r, k) => {
      const lv: number[] = [];
      for (let t = 1; t < s.length; t++) if (s.truth.regime[t] === k) lv.push(Math.log(s.volume[t]));
      const m = moments(lv);
      expect(Math.abs(m.mean - (Math.log(base * r.volumeMultiplier) - 0.5 * logSigma * logSigma))).toBeLessThan(
        (4.5 * sdLogV) / Math.sqrt(m.n),
      );
      expect(Math.abs(m.sd - sdLogV)).toBeLessThan(0.02 * sdLogV);
    });
    // Correlation of ln V with the absolute standardised return is β·sd(|Z|)/sd(ln V) in each regime.
    const k = 0;
    const sd = regimes[k].volatility * Math.sqrt(1 / 252);
    const mu = -0.5 * regimes[k].volatility ** 2 * (1 / 252);
    const xs: number[] = [];
    const ys: number[] = [];
    for (let t = 1; t < s.length; t++) {
      if (s.truth.regime[t] !== k) continue;
      xs.push(Math.abs(Math.log(s.close[t] / s.close[t - 1]) - mu) / sd);
      ys.push(Math.log(s.volume[t]));
    }
    const mx = moments(xs);
    const my = moments(ys);
    let cov = 0;
    for (let i = 0; i < xs.length; i++) cov += (xs[i] - mx.mean) * (ys[i] - my.mean);
    const corr = cov / (xs.length - 1) / (mx.sd * my.sd);
    const expected = (beta * Math.sqrt(1 - 2 / Math.PI)) / sdLogV;
    expect(Math.abs(corr - expected)).toBeLessThan(0.02);
  });
});

describe('generateSyntheticSeries: bars', () => {
  it('keeps OHLC invariants on every bar that is not a bad tick, for daily, intraday and 24x7 series', () => {
    for (const cfg of [
      { seed: 1, bars: 60_000, timeframe: '1d' as const, jumps: { intensityPerYear: 30, meanLog: -0.05, stdLog: 0.1 } },
      { seed: 2, bars: 60_000, timeframe: '5m' as const, priceDecimals: 2 },
      {
        seed: 3,
        bars: 60_000,
        timeframe: '1m' as const,
        calendar: '24x7' as const,
        volume: { decimals: 6, base: 3.5 },
      },
    ]) {
      const s = generateSyntheticSeries({ ...cfg, anomalies: { rates: anomalyRates } });
      let bad = 0;
      let badTicks = 0;
      for (let t = 0; t < s.length; t++) {
        const o = s.open[t];
        const h = s.high[t];
        const l = s.low[t];
        const c = s.close[t];
        const v = s.volume[t];
        const ok =
          [o, h, l, c, v].every(Number.isFinite) && l > 0 && l <= Math.min(o, c) && h >= Math.max(o, c) && v >= 0;
        if (s.truth.anomaly[t] === 4) badTicks++;
        else if (!ok) bad++;
        if ('priceDecimals' in cfg && [o, h, l, c].some((x) => Math.round(x * 100) / 100 !== x)) bad++; // anomalies keep the tick too
        if (t > 0 && !(s.ts[t] > s.ts[t - 1])) bad++;
      }
      expect(bad).toBe(0);
      expect(badTicks).toBeGreaterThan(0);
    }
  });

  it('opens intraday bars at the previous close except at a session open, and 24x7 bars never gap', () => {
    const s = generateSyntheticSeries({ seed: 4, bars: 2_000, timeframe: '15m' });
    let sessionOpens = 0;
    let wrong = 0;
    for (let t = 1; t < s.length; t++) {
      const newDay = new Date(s.ts[t]).getUTCDate() !== new Date(s.ts[t - 1]).getUTCDate();
      if (newDay) sessionOpens++;
      if (newDay === (s.open[t] === s.close[t - 1])) wrong++;
    }
    expect(wrong).toBe(0);
    expect(sessionOpens).toBe(Math.ceil(2_000 / 26) - 1);
    const c = generateSyntheticSeries({ seed: 4, bars: 2_000, timeframe: '1h', calendar: '24x7' });
    let gapped = 0;
    for (let t = 1; t < c.length; t++) if (c.open[t] !== c.close[t - 1]) gapped++;
    expect(gapped).toBe(0);
  });

  it('rejects bad configs naming every bad field', () => {
    let err: unknown;
    try {
      generateSyntheticSeries({
        seed: 1,
        bars: 0,
        timeframe: '2h' as never,
        transitionMatrix: [
          [0.5, 0.6, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
        anomalies: { rates: { spike: 2 } },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyntheticConfigError);
    const fields = (err as SyntheticConfigError).issues.map((i) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining(['bars', 'timeframe', 'transitionMatrix.0', 'anomalies.rates.spike']),
    );
    expect(() =>
      generateSyntheticSeries({
        seed: 1,
        bars: 10,
        timeframe: '1d',
        regimes: [
          { name: 'a', drift: 0, volatility: 0.1 },
          { name: 'b', drift: 0, volatility: 0.1 },
        ],
      }),
    ).toThrow(/transitionMatrix: is required/);
  });
});
