/**
 * `npm run bench:kpi-bands`: parity and speed of the probabilistic KPI bands (`@strata/backtests-domain`
 * kpi-bands.ts) against Python peers in the same run. Prints ONE JSON line on stdout (progress on stderr).
 *
 * Parity: GARCH(1,1) with constant mean and standardised Student-t errors fitted by maximum likelihood, ours
 * (`fitGarchT`) against `arch` (`arch_model(mean='Constant', vol='GARCH', dist='t', rescale=False)`, SLSQP tol 1e-12),
 * on the same series: a synthetic GARCH-t series (2,000 bars, seed 7) and every bundled daily series (data/sample,
 * close-to-close log returns), all in percent. Targets: each parameter within 1e-3 relative, log-likelihood within
 * 1e-6 relative (max over the series).
 *
 * Speed: filtered historical simulation (EWMA λ = 0.94), 10,000 paths × 252 bars with the per-bar fan, ours
 * (`simulateKpiBands`) against a numpy implementation of the same simulation (bench/peers/kpi_bands_peer.py `sim`:
 * the same standardised residuals, drift and variance recursion, vectorised over paths, `np.percentile`), the same
 * outputs on both sides (P5…P95 of final equity, max drawdown and Sharpe, P(loss), P(max drawdown > 10/20/30%), the
 * per-bar fan). Timed: the simulation and the percentiles only (residuals prepared beforehand on both sides,
 * process start excluded). Medians of BENCH_REPS (default 5) repetitions with distinct seeds, interleaved with the peer
 * (alternating which goes first); our side warms up once
 * (untimed). Target: ours ≤ 1.0 × numpy's time. One thread each (OMP/OpenBLAS = 1).
 * Env: BENCH_REPS (default 5), BENCH_PATHS (10000), BENCH_HORIZON (252).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  equityReturns,
  ewmaVariance,
  fitGarchT,
  forwardMean,
  generateGarchTReturns,
  logReturns,
  simulateKpiBands,
} from '@strata/backtests-domain';
import { parseBarsCsv } from '@strata/marketdata-domain';

const REPO = resolve(__dirname, '..');
const REPS = Number(process.env.BENCH_REPS ?? 5);
const PATHS = Number(process.env.BENCH_PATHS ?? 10_000);
const HORIZON = Number(process.env.BENCH_HORIZON ?? 252);
const TARGETS = { paramRel: 1e-3, logLikRel: 1e-6, speedRatio: 1.0 };
const PY = process.env.STRATA_PEERS_VENV
  ? join(process.env.STRATA_PEERS_VENV, 'bin', 'python')
  : join(REPO, 'bench', 'peers', '.venv', 'bin', 'python');
const PEER = join(REPO, 'bench', 'peers', 'kpi_bands_peer.py');
const ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const log = (s: string) => process.stderr.write(`${s}\n`);

/** The parity series: synthetic GARCH-t and every bundled daily close series, as percent log returns. */
export function paritySeries(): { name: string; y: Float64Array }[] {
  const out = [
    {
      name: 'synthetic_garch_t',
      y: generateGarchTReturns(2000, { mu: 0.04, omega: 0.02, alpha: 0.08, beta: 0.9, nu: 6 }, 7),
    },
  ];
  for (const f of readdirSync(join(REPO, 'data', 'sample'))
    .filter((f) => f.endsWith('_1d.csv'))
    .sort()) {
    const bars = parseBarsCsv(readFileSync(join(REPO, 'data', 'sample', f), 'utf8')).bars;
    const x = logReturns(equityReturns(bars.close));
    out.push({ name: f.replace(/_1d\.csv$/, ''), y: x.map((v) => 100 * v) });
  }
  return out;
}

/** arch's fit of `y` (written as raw float64). */
export function archFit(python: string, dir: string, y: Float64Array) {
  const file = join(dir, `y-${Math.random().toString(36).slice(2)}.f64`);
  writeFileSync(file, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  return JSON.parse(execFileSync(python, [PEER, 'fit', file], { env: ENV, encoding: 'utf8' })) as {
    mu: number;
    omega: number;
    alpha: number;
    beta: number;
    nu: number;
    logLikelihood: number;
    seconds: number;
  };
}

function main(): void {
  const load0 = loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), 'kpi-bands-bench-'));
  try {
    // Parity.
    const parity = paritySeries().map(({ name, y }) => {
      const t0 = performance.now();
      const ours = fitGarchT(y);
      const oursMs = performance.now() - t0;
      const peer = archFit(PY, dir, y);
      const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
      const params = (['mu', 'omega', 'alpha', 'beta', 'nu'] as const).map((k) => rel(ours[k], peer[k]));
      const row = {
        series: name,
        n: y.length,
        param_rel_diff_max: Math.max(...params),
        param_rel_diff: Object.fromEntries(
          (['mu', 'omega', 'alpha', 'beta', 'nu'] as const).map((k, i) => [k, params[i]]),
        ),
        log_lik_rel_diff: rel(ours.logLikelihood, peer.logLikelihood),
        log_lik_ours_minus_arch: ours.logLikelihood - peer.logLikelihood,
        fit_ms: { ours: oursMs, arch: peer.seconds * 1000 },
      };
      log(JSON.stringify(row));
      return row;
    });

    // Speed: FHS with EWMA on the synthetic series (as simple returns).
    const x = generateGarchTReturns(2500, { mu: 0.0003, omega: 2e-6, alpha: 0.08, beta: 0.9, nu: 6 }, 11);
    const r = x.map(Math.expm1);
    const mean = forwardMean(x, 'shrunk');
    const e = x.map((v) => v - mean.sample);
    const ew = ewmaVariance(e, 0.94);
    const z = e.map((v, i) => v / Math.sqrt(ew.sigma2[i]));
    const zFile = join(dir, 'z.f64');
    writeFileSync(zFile, Buffer.from(z.buffer));
    const spec = {
      mu: mean.used,
      c0: 0,
      a: 0.06,
      b: 0.94,
      s2Start: ew.next,
      paths: PATHS,
      horizon: HORIZON,
      periodsPerYear: 252,
      drawdownThresholds: [0.1, 0.2, 0.3],
    };
    simulateKpiBands(r, { horizon: HORIZON, paths: PATHS, seed: 999 }); // warm-up
    const oursMs: number[] = [];
    const numpyAll: number[] = [];
    let last = simulateKpiBands(r, { horizon: HORIZON, paths: 200, seed: 1 });
    type NumpyOut = {
      seconds: number;
      bands: { equity: number[]; maxDrawdown: number[]; probLoss: number; probDrawdownWorseThan: number[] };
    };
    let numpy: NumpyOut | undefined;
    const runNumpy = (rep: number) => {
      writeFileSync(join(dir, 'spec.json'), JSON.stringify({ ...spec, reps: 1, seed: 1000 + rep }));
      numpy = JSON.parse(
        execFileSync(PY, [PEER, 'sim', join(dir, 'spec.json'), zFile], { env: ENV, encoding: 'utf8' }),
      ) as NumpyOut;
      numpyAll.push(numpy.seconds * 1000);
    };
    const runOurs = (rep: number) => {
      const t0 = performance.now();
      last = simulateKpiBands(r, { horizon: HORIZON, paths: PATHS, seed: 1000 + rep });
      oursMs.push(performance.now() - t0);
    };
    // Interleaved, alternating which side goes first, so both see the same machine load.
    for (let rep = 0; rep < REPS; rep++) {
      if (rep % 2 === 0) {
        runOurs(rep);
        runNumpy(rep);
      } else {
        runNumpy(rep);
        runOurs(rep);
      }
      log(`speed rep ${rep}: ours ${oursMs[rep].toFixed(0)} ms, numpy ${numpyAll[rep].toFixed(0)} ms`);
    }
    const numpyMs = median(numpyAll);
    const ratio = median(oursMs) / numpyMs;
    const paramMax = Math.max(...parity.map((p) => p.param_rel_diff_max));
    const llMax = Math.max(...parity.map((p) => p.log_lik_rel_diff));
    console.log(
      JSON.stringify({
        bench: 'kpi-bands',
        parity: {
          series: parity.length,
          param_rel_diff_max: paramMax,
          log_lik_rel_diff_max: llMax,
          per_series: parity,
          met: paramMax <= TARGETS.paramRel && llMax <= TARGETS.logLikRel,
        },
        speed: {
          method: 'fhs (EWMA 0.94)',
          paths: PATHS,
          horizon: HORIZON,
          ours_ms: median(oursMs),
          ours_ms_all: oursMs,
          numpy_ms: numpyMs,
          numpy_ms_all: numpyAll,
          ratio_ours_over_numpy: ratio,
          target: TARGETS.speedRatio,
          met: ratio <= TARGETS.speedRatio,
          // Same model, different random streams: the bands agree in distribution, not bit for bit.
          equity_p50: { ours: last.equity.p50, numpy: numpy!.bands.equity[2] },
          max_drawdown_p95: { ours: last.maxDrawdown.p95, numpy: numpy!.bands.maxDrawdown[4] },
          prob_loss: { ours: last.probLoss, numpy: numpy!.bands.probLoss },
          prob_drawdown_worse_than_20pct: {
            ours: last.probDrawdownWorseThan[1].probability,
            numpy: numpy!.bands.probDrawdownWorseThan[1],
          },
        },
        targets: TARGETS,
        machine: { cpus: cpus().length, node: process.version, loadavg_1m: { start: load0, end: loadavg()[0] } },
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) main();
