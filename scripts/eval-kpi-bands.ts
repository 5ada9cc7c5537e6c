/**
 * `npm run eval:kpi-bands`: out-of-sample calibration of the probabilistic KPI bands (`simulateKpiBands`). Prints ONE
 * JSON line on stdout (progress on stderr).
 *
 * Rolling, non-overlapping forecast origins: at each origin the previous HISTORY (1,000) returns are the history, the
 * next HORIZON (21) returns are the realised outcome, and the next origin is HORIZON bars later. Data: a synthetic
 * GARCH(1,1)-t series (ω 2e-6, α 0.08, β 0.9, ν 6, μ 2e-4; ≥ 250 windows) and every daily series of the bundled
 * sample (data/sample/*_1d.csv, close-to-close returns). Per method (fhs, bootstrap, garch_t), on the final equity
 * multiple and the maximum drawdown over the window:
 * - coverage of the 50 % (P25–P75) and 90 % (P5–P95) bands, overall and per volatility tercile (terciles of the
 *   trailing 21-bar realised volatility at the origin, known when the forecast is made);
 * - Kupiec's proportion-of-failures and Christoffersen's independence p-values for P5 of the equity multiple
 *   (a failure: the realised multiple below P5);
 * - the PIT histogram's chi-square statistic (10 bins, df 9) of the equity multiple;
 * - mean pinball loss over P5…P95 and CRPS (from the simulated samples), each against an independent bootstrap
 *   (iid resampling of the raw history returns, sample mean, no volatility filter) on the same windows, as
 *   `improvement` = 1 − ours / baseline (target ≥ 0.05 on drawdown CRPS).
 * Targets on the synthetic data: |coverage90 − 0.9| ≤ 0.03, |coverage50 − 0.5| ≤ 0.05, each tercile within 0.05.
 * Env: EVAL_PATHS (2000), EVAL_WINDOWS (260 synthetic windows), EVAL_REAL=0 skips the bundled series.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type KpiBands,
  type KpiBandsMethod,
  equityReturns,
  generateGarchTReturns,
  simulateKpiBands,
} from '@strata/backtests-domain';
import { parseBarsCsv } from '@strata/marketdata-domain';

const REPO = resolve(__dirname, '..');
const HISTORY = 1000;
const HORIZON = 21;
const PATHS = Number(process.env.EVAL_PATHS ?? 2000);
const WINDOWS = Number(process.env.EVAL_WINDOWS ?? 260);
const METHODS: KpiBandsMethod[] = ['fhs', 'bootstrap', 'garch_t'];
const QS = [0.05, 0.25, 0.5, 0.75, 0.95];
const TARGETS = { cov90: 0.03, cov50: 0.05, tercile: 0.05, ddCrpsImprovement: 0.05 };
const log = (s: string) => process.stderr.write(`${s}\n`);

/** One forecast window's outcome against a forecast. */
interface Scored {
  volAtOrigin: number;
  eq: { y: number; band: number[]; pit: number; crps: number; pinball: number };
  dd: { y: number; band: number[]; crps: number; pinball: number };
}

/** erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
/** Survival function of χ²(1). */
const chi2df1Sf = (x: number) => erfc(Math.sqrt(Math.max(0, x) / 2));

/** CRPS of samples against y: E|X − y| − ½ E|X − X'| (sorted-sample identity for the second term). */
function crps(samples: Float64Array, y: number): number {
  const s = Float64Array.from(samples).sort();
  const m = s.length;
  let a = 0;
  let b = 0;
  for (let i = 0; i < m; i++) {
    a += Math.abs(s[i] - y);
    b += (2 * (i + 1) - m - 1) * s[i];
  }
  return a / m - b / (m * m);
}
const pinball = (band: number[], y: number) =>
  QS.reduce((acc, q, i) => acc + (y >= band[i] ? q * (y - band[i]) : (1 - q) * (band[i] - y)), 0) / QS.length;
const bandArr = (b: KpiBands['equity']) => [b.p5, b.p25, b.p50, b.p75, b.p95];

function score(b: KpiBands, future: Float64Array, volAtOrigin: number): Scored {
  let eq = 1;
  let peak = 1;
  let dd = 0;
  for (const r of future) {
    eq *= 1 + r;
    if (eq > peak) peak = eq;
    else dd = Math.max(dd, 1 - eq / peak);
  }
  const s = b.samples!;
  let below = 0;
  for (const v of s.finalEquity) if (v <= eq) below++;
  const eBand = bandArr(b.equity);
  const dBand = bandArr(b.maxDrawdown);
  return {
    volAtOrigin,
    eq: {
      y: eq,
      band: eBand,
      pit: below / s.finalEquity.length,
      crps: crps(s.finalEquity, eq),
      pinball: pinball(eBand, eq),
    },
    dd: { y: dd, band: dBand, crps: crps(s.maxDrawdown, dd), pinball: pinball(dBand, dd) },
  };
}

function windowsOf(
  r: Float64Array,
  maxWindows = Infinity,
): { hist: Float64Array; future: Float64Array; vol: number }[] {
  const out = [];
  for (let o = HISTORY; o + HORIZON <= r.length && out.length < maxWindows; o += HORIZON) {
    const recent = r.subarray(o - HORIZON, o);
    const m = recent.reduce((a, v) => a + v, 0) / HORIZON;
    const vol = Math.sqrt(recent.reduce((a, v) => a + (v - m) ** 2, 0) / (HORIZON - 1));
    out.push({ hist: r.subarray(o - HISTORY, o), future: r.subarray(o, o + HORIZON), vol });
  }
  return out;
}

const inside = (band: number[], y: number, lo: number, hi: number) => y >= band[lo] && y <= band[hi];
const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;

function summarise(rows: Scored[], baseline: Scored[]) {
  const vols = rows.map((r) => r.volAtOrigin).sort((a, b) => a - b);
  const t1 = vols[Math.floor(vols.length / 3)];
  const t2 = vols[Math.floor((2 * vols.length) / 3)];
  const terc = (r: Scored) => (r.volAtOrigin < t1 ? 0 : r.volAtOrigin < t2 ? 1 : 2);
  const cov = (sel: Scored[], k: 'eq' | 'dd') => ({
    c50: mean(sel.map((r) => (inside(r[k].band, r[k].y, 1, 3) ? 1 : 0))),
    c90: mean(sel.map((r) => (inside(r[k].band, r[k].y, 0, 4) ? 1 : 0))),
  });
  // Kupiec POF and Christoffersen independence on P5 failures of the equity multiple.
  const hits = rows.map((r) => (r.eq.y < r.eq.band[0] ? 1 : 0));
  const n = hits.length;
  const x = hits.reduce((a: number, v) => a + v, 0);
  const p = 0.05;
  const ph = x / n;
  const ll = (q: number, k: number, m: number) =>
    (k > 0 ? k * Math.log(q) : 0) + (m - k > 0 ? (m - k) * Math.log(1 - q) : 0);
  const lrPof = -2 * (ll(p, x, n) - ll(ph, x, n));
  let n00 = 0;
  let n01 = 0;
  let n10 = 0;
  let n11 = 0;
  for (let i = 1; i < n; i++) {
    if (hits[i - 1] === 0) {
      if (hits[i]) n01++;
      else n00++;
    } else if (hits[i]) n11++;
    else n10++;
  }
  const pi01 = n01 / Math.max(1, n00 + n01);
  const pi11 = n11 / Math.max(1, n10 + n11);
  const pi = (n01 + n11) / Math.max(1, n - 1);
  const lrInd = -2 * (ll(pi, n01 + n11, n - 1) - ll(pi01, n01, n00 + n01) - ll(pi11, n11, n10 + n11));
  const bins = new Array(10).fill(0);
  for (const r of rows) bins[Math.min(9, Math.floor(r.eq.pit * 10))]++;
  const exp = n / 10;
  const pitChi2 = bins.reduce((a, o) => a + (o - exp) ** 2 / exp, 0);
  const imp = (ours: number, base: number) => 1 - ours / base;
  const m = (sel: Scored[], k: 'eq' | 'dd', f: 'crps' | 'pinball') => mean(sel.map((r) => r[k][f]));
  return {
    windows: n,
    equity: {
      ...cov(rows, 'eq'),
      terciles: [0, 1, 2].map((t) =>
        cov(
          rows.filter((r) => terc(r) === t),
          'eq',
        ),
      ),
      crps: m(rows, 'eq', 'crps'),
      pinball: m(rows, 'eq', 'pinball'),
      crps_improvement_vs_iid_bootstrap: imp(m(rows, 'eq', 'crps'), m(baseline, 'eq', 'crps')),
      pinball_improvement_vs_iid_bootstrap: imp(m(rows, 'eq', 'pinball'), m(baseline, 'eq', 'pinball')),
    },
    maxDrawdown: {
      ...cov(rows, 'dd'),
      terciles: [0, 1, 2].map((t) =>
        cov(
          rows.filter((r) => terc(r) === t),
          'dd',
        ),
      ),
      crps: m(rows, 'dd', 'crps'),
      pinball: m(rows, 'dd', 'pinball'),
      crps_improvement_vs_iid_bootstrap: imp(m(rows, 'dd', 'crps'), m(baseline, 'dd', 'crps')),
      pinball_improvement_vs_iid_bootstrap: imp(m(rows, 'dd', 'pinball'), m(baseline, 'dd', 'pinball')),
    },
    p5_failures: x,
    kupiec_p: chi2df1Sf(lrPof),
    christoffersen_p: chi2df1Sf(lrInd),
    pit_chi2: pitChi2,
    pit_df: 9,
  };
}

function evaluate(name: string, r: Float64Array, maxWindows?: number) {
  const wins = windowsOf(r, maxWindows);
  const baseline = wins.map((w, i) =>
    score(
      simulateKpiBands(w.hist, {
        method: 'bootstrap',
        blockLength: 1,
        mean: 'sample',
        horizon: HORIZON,
        paths: PATHS,
        seed: 50_000 + i,
        fan: false,
        keepSamples: true,
      }),
      w.future,
      w.vol,
    ),
  );
  const out: Record<string, ReturnType<typeof summarise>> = {};
  for (const method of METHODS) {
    const t0 = Date.now();
    const rows = wins.map((w, i) =>
      score(
        simulateKpiBands(w.hist, {
          method,
          horizon: HORIZON,
          paths: PATHS,
          seed: i + 1,
          fan: false,
          keepSamples: true,
        }),
        w.future,
        w.vol,
      ),
    );
    out[method] = summarise(rows, baseline);
    log(`${name} ${method}: ${wins.length} windows in ${Date.now() - t0} ms`);
  }
  return { out, rows: wins.length };
}

function main(): void {
  const synthetic = Float64Array.from(
    generateGarchTReturns(HISTORY + WINDOWS * HORIZON, { mu: 2e-4, omega: 2e-6, alpha: 0.08, beta: 0.9, nu: 6 }, 2026),
    Math.expm1,
  );
  const syn = evaluate('synthetic', synthetic);
  const met = Object.fromEntries(
    METHODS.map((m) => {
      const s = syn.out[m].equity;
      return [
        m,
        {
          cov90: Math.abs(s.c90 - 0.9) <= TARGETS.cov90,
          cov50: Math.abs(s.c50 - 0.5) <= TARGETS.cov50,
          terciles: s.terciles.every(
            (t) => Math.abs(t.c90 - 0.9) <= TARGETS.tercile && Math.abs(t.c50 - 0.5) <= TARGETS.tercile,
          ),
          dd_crps_improvement: syn.out[m].maxDrawdown.crps_improvement_vs_iid_bootstrap >= TARGETS.ddCrpsImprovement,
        },
      ];
    }),
  );
  const real: Record<string, unknown> = {};
  if (process.env.EVAL_REAL !== '0') {
    for (const f of readdirSync(join(REPO, 'data', 'sample'))
      .filter((f) => f.endsWith('_1d.csv'))
      .sort()) {
      const bars = parseBarsCsv(readFileSync(join(REPO, 'data', 'sample', f), 'utf8')).bars;
      real[f.replace(/_1d\.csv$/, '')] = evaluate(f, equityReturns(bars.close)).out;
    }
  }
  console.log(
    JSON.stringify({
      eval: 'kpi-bands',
      horizon: HORIZON,
      history: HISTORY,
      paths: PATHS,
      synthetic: { windows: syn.rows, ...syn.out },
      real,
      targets: TARGETS,
      met,
      machine: { cpus: cpus().length, node: process.version },
    }),
  );
}

main();
