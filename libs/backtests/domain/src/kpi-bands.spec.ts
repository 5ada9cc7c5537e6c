import { Xoshiro128ss } from '@strata/shared-random';
import {
  KpiBandsError,
  fitGarchT,
  garchBackcast,
  garchTLogLikelihood,
  logGamma,
  percentileBand,
  politisWhiteBlockLength,
  quantileSorted,
  simulateKpiBands,
} from './kpi-bands';

/** Simple returns from a GARCH(1,1) with standardised t(ν) errors (t by the ratio of normals and a χ² sum, integer ν). */
function garchTReturns(
  n: number,
  p: { omega: number; alpha: number; beta: number; nu: number; mu?: number },
  seed: number,
) {
  const rng = new Xoshiro128ss(seed, 7);
  const out = new Float64Array(n);
  let s2 = p.omega / (1 - p.alpha - p.beta);
  const scale = Math.sqrt((p.nu - 2) / p.nu);
  for (let i = 0; i < n; i++) {
    let chi = 0;
    for (let k = 0; k < p.nu; k++) chi += rng.normal() ** 2;
    const e = Math.sqrt(s2) * scale * (rng.normal() / Math.sqrt(chi / p.nu));
    out[i] = Math.expm1((p.mu ?? 0) + e);
    s2 = p.omega + p.alpha * e * e + p.beta * s2;
  }
  return out;
}

describe('kpi bands: numerical building blocks', () => {
  it('logGamma matches closed forms', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(3.5)).toBeCloseTo(Math.log(2.5 * 1.5 * 0.5 * Math.sqrt(Math.PI)), 12);
  });

  it('quantiles are numpy type 7 (by hand) and the selection agrees with a full sort', () => {
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 15);
    expect(quantileSorted([10, 20, 30, 40, 50], 0.95)).toBeCloseTo(48, 12);
    const rng = new Xoshiro128ss(3);
    for (const m of [1, 2, 7, 1001, 4096]) {
      const a = Float64Array.from({ length: m }, () => Math.round(rng.normal() * 5));
      const sorted = Float64Array.from(a).sort();
      const band = percentileBand(Float64Array.from(a));
      const q = [0.05, 0.25, 0.5, 0.75, 0.95].map((p) => quantileSorted(sorted, p));
      // + 0 folds −0 into 0: the two orders may place −0 and 0 (equal values) differently.
      expect([band.p5, band.p25, band.p50, band.p75, band.p95].map((v) => v + 0)).toEqual(q.map((v) => v + 0));
    }
    // The bucketed selection (m ≥ 256): continuous, heavy-tailed (one bucket holds almost everything), sorted,
    // constant and two-valued inputs.
    const cases: Float64Array[] = [
      Float64Array.from({ length: 10_000 }, () => Math.exp(0.1 * rng.normal())),
      Float64Array.from({ length: 5_000 }, () => rng.normal() / Math.max(1e-9, Math.abs(rng.normal()) ** 4)),
      Float64Array.from({ length: 3_001 }, (_, i) => i * 0.5),
      new Float64Array(500).fill(2.5),
      Float64Array.from({ length: 999 }, (_, i) => (i % 3 === 0 ? 1 : 7)),
    ];
    for (const a of cases) {
      const sorted = Float64Array.from(a).sort();
      const band = percentileBand(Float64Array.from(a));
      const q = [0.05, 0.25, 0.5, 0.75, 0.95].map((p) => quantileSorted(sorted, p));
      expect([band.p5, band.p25, band.p50, band.p75, band.p95]).toEqual(q);
    }
  });

  it('the GARCH(1,1)-t log-likelihood equals a naive loop over the t density (ν = 5, closed-form Γ)', () => {
    const x = garchTReturns(300, { omega: 2e-6, alpha: 0.1, beta: 0.85, nu: 6 }, 11);
    const p = { mu: 3e-4, omega: 3e-6, alpha: 0.08, beta: 0.88, nu: 5 };
    const resid = Array.from(x, (v) => v - x.reduce((a, b) => a + b, 0) / x.length);
    const bc = garchBackcast(resid);
    // Γ(3) = 2, Γ(2.5) = 1.5 · 0.5 · √π
    const g = 2 / (1.5 * 0.5 * Math.sqrt(Math.PI));
    let naive = 0;
    let prevE2 = bc;
    let prevS2 = bc;
    for (let t = 0; t < x.length; t++) {
      const s2 = p.omega + p.alpha * prevE2 + p.beta * prevS2;
      const e = x[t] - p.mu;
      const dens =
        (g / Math.sqrt(Math.PI * (p.nu - 2) * s2)) * Math.pow(1 + (e * e) / ((p.nu - 2) * s2), -(p.nu + 1) / 2);
      naive += Math.log(dens);
      prevE2 = e * e;
      prevS2 = s2;
    }
    expect(garchTLogLikelihood(x, p, bc) / naive - 1).toBeLessThan(1e-12);
    expect(Math.abs(garchTLogLikelihood(x, p, bc) - naive)).toBeLessThan(1e-9 * Math.abs(naive));
  });

  it('Politis–White on an AR(1) (φ = 0.5) is near the theoretical (2G²/D_SB)^{1/3} n^{1/3} = (2φ/(1−φ²))^{2/3} n^{1/3}', () => {
    const n = 20_000;
    const phi = 0.5;
    const rng = new Xoshiro128ss(5);
    const x = new Float64Array(n);
    let prev = 0;
    for (let i = 0; i < n; i++) x[i] = prev = phi * prev + rng.normal();
    const theory = Math.pow((2 * phi) / (1 - phi * phi), 2 / 3) * Math.cbrt(n);
    const b = politisWhiteBlockLength(x);
    expect(Math.abs(b / theory - 1)).toBeLessThan(0.25);
    // white noise: a block length near 1
    const w = Float64Array.from({ length: n }, () => rng.normal());
    expect(politisWhiteBlockLength(w)).toBeLessThan(3);
  });

  it('the GARCH-t fit recovers known parameters and is at least as likely as the truth', () => {
    const truth = { omega: 2e-6, alpha: 0.08, beta: 0.9, nu: 6 };
    const r = garchTReturns(3000, truth, 21);
    const x = Float64Array.from(r, Math.log1p);
    const fit = fitGarchT(x);
    expect(fit.alpha).toBeGreaterThan(0.04);
    expect(fit.alpha).toBeLessThan(0.13);
    expect(fit.beta).toBeGreaterThan(0.85);
    expect(fit.beta).toBeLessThan(0.94);
    expect(fit.nu).toBeGreaterThan(4);
    expect(fit.nu).toBeLessThan(10);
    const llTruth = garchTLogLikelihood(x, { mu: 0, ...truth }, fit.backcast);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(llTruth - 1e-9);
  });
});

describe('simulateKpiBands', () => {
  const r = garchTReturns(1500, { omega: 2e-6, alpha: 0.08, beta: 0.9, nu: 6, mu: 3e-4 }, 4);

  it('refuses flat, short and non-finite input with a typed reason', () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof KpiBandsError ? e.reason : 'other';
      }
      return 'none';
    };
    expect(reason(() => simulateKpiBands(new Float64Array(500), { horizon: 21 }))).toBe('flat');
    expect(reason(() => simulateKpiBands(r.subarray(0, 50), { horizon: 21 }))).toBe('too_short');
    expect(reason(() => simulateKpiBands(r.subarray(0, 200), { horizon: 21, method: 'garch_t' }))).toBe('too_short');
    const bad = Float64Array.from(r);
    bad[10] = NaN;
    expect(reason(() => simulateKpiBands(bad, { horizon: 21 }))).toBe('non_finite');
    const spiky = new Float64Array(500);
    spiky[3] = 0.01;
    expect(reason(() => simulateKpiBands(spiky, { horizon: 21 }))).toBe('degenerate');
  });

  it('is deterministic in the seed and orders its percentiles', () => {
    const a = simulateKpiBands(r, { horizon: 63, paths: 1000, seed: 9 });
    const b = simulateKpiBands(r, { horizon: 63, paths: 1000, seed: 9 });
    const c = simulateKpiBands(r, { horizon: 63, paths: 1000, seed: 10 });
    expect(a).toEqual(b);
    expect(a.equity).not.toEqual(c.equity);
    for (const band of [a.equity, a.maxDrawdown, a.sharpe, ...a.fan])
      expect(band.p5 <= band.p25 && band.p25 <= band.p50 && band.p50 <= band.p75 && band.p75 <= band.p95).toBe(true);
    expect(a.fan).toHaveLength(63);
    expect(a.fan[62].p50).toBeCloseTo(a.equity.p50, 12);
    expect(a.mean.treatment).toBe('shrunk');
    expect(Math.abs(a.mean.used)).toBeLessThanOrEqual(Math.abs(a.mean.sample));
  });

  it('iid bootstrap (block length 1): P(loss) and median equity match the normal approximation of a sum of h draws', () => {
    const x = Array.from(r, Math.log1p);
    const n = x.length;
    const m = x.reduce((s, v) => s + v, 0) / n;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - m) ** 2, 0) / n);
    const h = 63;
    const bands = simulateKpiBands(r, {
      method: 'bootstrap',
      blockLength: 1,
      horizon: h,
      paths: 8000,
      mean: 'sample',
      fan: false,
    });
    // Φ by the Abramowitz–Stegun 7.1.26 erf
    const phi = (z: number) => {
      const t = 1 / (1 + 0.3275911 * Math.abs(z / Math.SQRT2));
      const y =
        1 -
        ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
          t *
          Math.exp(-(z * z) / 2);
      return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
    };
    expect(Math.abs(bands.probLoss - phi((-h * m) / (Math.sqrt(h) * sd)))).toBeLessThan(0.015);
    expect(Math.abs(Math.log(bands.equity.p50) - h * m)).toBeLessThan(0.05 * Math.sqrt(h) * sd);
    expect(Math.abs((Math.log(bands.equity.p95) - h * m) / (1.6449 * Math.sqrt(h) * sd) - 1)).toBeLessThan(0.04);
  });

  it('warns about the Sharpe band on short horizons only', () => {
    expect(simulateKpiBands(r, { horizon: 21, paths: 500 }).warnings.join()).toMatch(/Sharpe/);
    expect(simulateKpiBands(r, { horizon: 252, paths: 500 }).warnings).toEqual([]);
  });

  it('all three methods give bands of comparable width on GARCH-t data', () => {
    const w = (m: 'fhs' | 'bootstrap' | 'garch_t') => {
      const b = simulateKpiBands(r, { method: m, horizon: 63, paths: 1500, fan: false });
      return Math.log(b.equity.p95 / b.equity.p5);
    };
    const [f, bs, g] = [w('fhs'), w('bootstrap'), w('garch_t')];
    expect(bs / f).toBeGreaterThan(0.6);
    expect(bs / f).toBeLessThan(1.6);
    expect(g / f).toBeGreaterThan(0.6);
    expect(g / f).toBeLessThan(1.6);
  });
});
