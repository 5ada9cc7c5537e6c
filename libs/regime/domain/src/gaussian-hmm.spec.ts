import {
  type GaussianHmmParams,
  emissionLogLikelihoods,
  fitGaussianHmm,
  forwardBackward,
  forwardFilter,
  hmmBic,
  stationaryDistribution,
} from './gaussian-hmm';
import { quantileStart, selectHmmByBic } from './hmm-fit';
import { mulberry32 } from '@strata/shared-random';

/** Bivariate normal density written out from the closed-form 2 × 2 inverse and determinant (independent of Cholesky). */
function pdf2(x: number[], mu: number[], s: number[]): number {
  const [a, b, , d] = s;
  const det = a * d - b * b;
  const dx = x[0] - mu[0];
  const dy = x[1] - mu[1];
  const q = (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det;
  return Math.exp(-0.5 * q) / (2 * Math.PI * Math.sqrt(det));
}

const P: GaussianHmmParams = {
  k: 2,
  d: 2,
  startProb: Float64Array.from([0.6, 0.4]),
  transition: Float64Array.from([0.9, 0.1, 0.2, 0.8]),
  means: Float64Array.from([0, -4, 0.5, -3]),
  covariances: Float64Array.from([1, 0.3, 0.3, 0.5, 4, -0.5, -0.5, 1]),
};
const X = [
  [0.1, -4.2],
  [1.5, -2.9],
  [-2.0, -3.1],
  [0.3, -3.9],
  [0.2, -4.4],
];

/** Every state path of length n over k states. */
function paths(n: number, k: number): number[][] {
  if (n === 0) return [[]];
  return paths(n - 1, k).flatMap((p) => Array.from({ length: k }, (_, s) => [...p, s]));
}

/** Brute force joint p(path, x_1..n) for every path. */
function joint(p: GaussianHmmParams, xs: number[][]): { path: number[]; w: number }[] {
  const b = (s: number, x: number[]) =>
    pdf2(x, [p.means[s * 2], p.means[s * 2 + 1]], Array.from(p.covariances.subarray(s * 4, s * 4 + 4)));
  return paths(xs.length, p.k).map((path) => {
    let w = p.startProb[path[0]] * b(path[0], xs[0]);
    for (let t = 1; t < xs.length; t++) w *= p.transition[path[t - 1] * p.k + path[t]] * b(path[t], xs[t]);
    return { path, w };
  });
}

describe('Gaussian HMM against brute force over every state path', () => {
  const obs = Float64Array.from(X.flat());
  const n = X.length;

  it('emission densities equal the closed-form bivariate normal', () => {
    const lb = emissionLogLikelihoods(P, obs, n);
    for (let t = 0; t < n; t++)
      for (let s = 0; s < 2; s++)
        expect(Math.exp(lb[t * 2 + s])).toBeCloseTo(
          pdf2(X[t], [P.means[s * 2], P.means[s * 2 + 1]], Array.from(P.covariances.subarray(s * 4, s * 4 + 4))),
          14,
        );
  });

  it('log-likelihood and every filtered probability equal path enumeration on each prefix', () => {
    const f = forwardFilter(P, obs, n);
    const all = joint(P, X);
    const total = all.reduce((a, j) => a + j.w, 0);
    expect(Math.abs(f.logLik - Math.log(total))).toBeLessThan(1e-12);
    for (let t = 0; t < n; t++) {
      const prefix = joint(P, X.slice(0, t + 1));
      const z = prefix.reduce((a, j) => a + j.w, 0);
      for (let s = 0; s < 2; s++) {
        const num = prefix.filter((j) => j.path[t] === s).reduce((a, j) => a + j.w, 0);
        expect(Math.abs(f.filtered[t * 2 + s] - num / z)).toBeLessThan(1e-12);
      }
      // The predictive density of bar t is p(x_1..t) / p(x_1..t−1).
      const zPrev = t === 0 ? 1 : joint(P, X.slice(0, t)).reduce((a, j) => a + j.w, 0);
      expect(Math.abs(f.predictiveLogLik[t] - Math.log(z / zPrev))).toBeLessThan(1e-12);
    }
  });

  it('smoothed probabilities and the Viterbi path equal path enumeration', () => {
    const r = forwardBackward(P, obs, n);
    const all = joint(P, X);
    const z = all.reduce((a, j) => a + j.w, 0);
    for (let t = 0; t < n; t++)
      for (let s = 0; s < 2; s++) {
        const num = all.filter((j) => j.path[t] === s).reduce((a, j) => a + j.w, 0);
        expect(Math.abs(r.smoothed[t * 2 + s] - num / z)).toBeLessThan(1e-12);
      }
    const best = all.reduce((a, j) => (j.w > a.w ? j : a));
    expect(Array.from(r.viterbi)).toEqual(best.path);
  });

  it('one Baum-Welch step equals the M-step computed from enumerated posteriors', () => {
    const one = fitGaussianHmm(obs, n, P, { maxIter: 1, tol: -Infinity, varianceFloor: 0 });
    expect(one.iterations).toBe(1);
    const all = joint(P, X);
    const z = all.reduce((a, j) => a + j.w, 0);
    const gamma = (t: number, s: number) => all.filter((j) => j.path[t] === s).reduce((a, j) => a + j.w, 0) / z;
    const xi = (i: number, j: number) => {
      let s = 0;
      for (let t = 0; t < n - 1; t++)
        s += all.filter((q) => q.path[t] === i && q.path[t + 1] === j).reduce((a, q) => a + q.w, 0) / z;
      return s;
    };
    for (let i = 0; i < 2; i++) {
      expect(one.params.startProb[i]).toBeCloseTo(gamma(0, i), 12);
      const row = xi(i, 0) + xi(i, 1);
      for (let j = 0; j < 2; j++) expect(one.params.transition[i * 2 + j]).toBeCloseTo(xi(i, j) / row, 12);
      let w = 0;
      const m = [0, 0];
      for (let t = 0; t < n; t++) {
        const g = gamma(t, i);
        w += g;
        m[0] += g * X[t][0];
        m[1] += g * X[t][1];
      }
      m[0] /= w;
      m[1] /= w;
      expect(one.params.means[i * 2]).toBeCloseTo(m[0], 12);
      expect(one.params.means[i * 2 + 1]).toBeCloseTo(m[1], 12);
      let c01 = 0;
      for (let t = 0; t < n; t++) c01 += (gamma(t, i) * (X[t][0] - m[0]) * (X[t][1] - m[1])) / w;
      expect(one.params.covariances[i * 4 + 1]).toBeCloseTo(c01, 12);
      expect(one.params.covariances[i * 4 + 2]).toBeCloseTo(c01, 12);
    }
    // The returned log-likelihood is that of the returned parameters.
    expect(one.logLik).toBeCloseTo(forwardFilter(one.params, obs, n).logLik, 10);
  });
});

/** n bars from a known 2-state Gaussian HMM (the test's own sampler). */
function sample(p: GaussianHmmParams, n: number, seed: number): { obs: Float64Array; states: number[] } {
  const u = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const obs = new Float64Array(n * 2);
  const states: number[] = [];
  let s = u() < p.startProb[0] ? 0 : 1;
  for (let t = 0; t < n; t++) {
    if (t > 0) s = u() < p.transition[s * 2] ? 0 : 1;
    states.push(s);
    const c = p.covariances.subarray(s * 4, s * 4 + 4);
    const l00 = Math.sqrt(c[0]);
    const l10 = c[2] / l00;
    const l11 = Math.sqrt(c[3] - l10 * l10);
    const z0 = gauss();
    const z1 = gauss();
    obs[t * 2] = p.means[s * 2] + l00 * z0;
    obs[t * 2 + 1] = p.means[s * 2 + 1] + l10 * z0 + l11 * z1;
  }
  return { obs, states };
}

describe('Baum-Welch on a known 2-state case', () => {
  const truth: GaussianHmmParams = {
    k: 2,
    d: 2,
    startProb: Float64Array.from([0.5, 0.5]),
    transition: Float64Array.from([0.98, 0.02, 0.05, 0.95]),
    means: Float64Array.from([0.001, -4.6, -0.002, -3.7]),
    covariances: Float64Array.from([1e-4, 0, 0, 0.04, 6e-4, 0.001, 0.001, 0.05]),
  };
  const n = 4000;
  const { obs } = sample(truth, n, 11);

  it('never decreases the log-likelihood and recovers the parameters', () => {
    const init = quantileStart(obs, n, 2, 2);
    let prev = -Infinity;
    for (const iters of [1, 2, 5, 10, 40]) {
      const r = fitGaussianHmm(obs, n, init, { maxIter: iters, tol: -Infinity });
      expect(r.logLik).toBeGreaterThanOrEqual(prev - 1e-9);
      prev = r.logLik;
    }
    const fit = fitGaussianHmm(obs, n, init, { maxIter: 500, tol: 1e-8 });
    expect(fit.converged).toBe(true);
    const calm = fit.params.covariances[0] < fit.params.covariances[4] ? 0 : 1;
    const turb = 1 - calm;
    expect(fit.params.transition[calm * 2 + calm]).toBeGreaterThan(0.96);
    expect(fit.params.transition[turb * 2 + turb]).toBeGreaterThan(0.92);
    expect(Math.sqrt(fit.params.covariances[calm * 4])).toBeCloseTo(0.01, 3);
    expect(Math.sqrt(fit.params.covariances[turb * 4])).toBeCloseTo(Math.sqrt(6e-4), 3);
    expect(fit.params.means[calm * 2 + 1]).toBeCloseTo(-4.6, 1);
    expect(fit.params.means[turb * 2 + 1]).toBeCloseTo(-3.7, 1);
  });

  it('BIC picks 2 states on 2-state data over 3, and 1 would be worse than 2', () => {
    const sel = selectHmmByBic(obs.subarray(0, 4000), 2000, 2, [1, 2, 3], { restarts: 2 });
    expect(sel.chosen.params.k).toBe(2);
    expect(sel.candidates.map((c) => c.params.k)).toEqual([1, 2, 3]);
    // A third state adds 1 start, 4 transition, 2 mean and 3 covariance parameters.
    expect(hmmBic(0, 3, 2, 100) - hmmBic(0, 2, 2, 100)).toBeCloseTo(10 * Math.log(100), 10);
  });

  it('the variance floor holds a state that sits on near-constant observations', () => {
    const m = 400;
    const o = new Float64Array(m * 2);
    const u = mulberry32(3);
    for (let t = 0; t < m; t++) {
      // Half the bars are exactly constant: without a floor a state collapses onto them.
      o[t * 2] = t % 2 ? 0 : u() - 0.5;
      o[t * 2 + 1] = t % 2 ? 1 : u();
    }
    const fit = fitGaussianHmm(o, m, quantileStart(o, m, 2, 2), { maxIter: 100, varianceFloor: 1e-3 });
    const v0 = (1 / 12) * 0.5 + 0.25 * 0.25; // roughly the sample variance; the floor is 1e-3 of it
    for (let s = 0; s < 2; s++) {
      expect(fit.params.covariances[s * 4]).toBeGreaterThan(1e-4 * v0);
      expect(fit.params.covariances[s * 4 + 3]).toBeGreaterThan(1e-5);
    }
    expect(Number.isFinite(fit.logLik)).toBe(true);
  });

  it('stationary distribution solves π P = π', () => {
    const pi = stationaryDistribution(truth.transition, 2);
    // Two states: π_0 = p10 / (p01 + p10).
    expect(pi[0]).toBeCloseTo(0.05 / 0.07, 12);
    expect(pi[1]).toBeCloseTo(0.02 / 0.07, 12);
  });
});
