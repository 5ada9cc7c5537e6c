/**
 * `npm run bench:regime`: parity and speed of the regime HMM against hmmlearn's GaussianHMM, in the same run. Prints
 * ONE JSON line on stdout (progress on stderr).
 *
 * Data: each repetition fits its own 20-year daily series (5,040 bars, a seeded Markov-switching generator, seed
 * 100 + repetition), the regime observations (log return, log 10-bar realised volatility), 3 states, full covariances.
 * Both sides start from the same parameters (our quantile start, written as raw float64 files) and run the same number
 * of EM iterations (BENCH_ITER, default 100; no early stop on either side: hmmlearn tol = −∞, ours tol = −∞), without
 * priors or variance floor (hmmlearn's full-covariance M-step has none; ours runs with varianceFloor 0), one thread
 * (OMP/OpenBLAS/MKL = 1). Timed: the fit call only on both sides (file reading and process start excluded on both).
 * Runs of ours and hmmlearn alternate order per repetition; medians of BENCH_REPS (default 5). Our side first fits a
 * separate warm-up series (seed 99, untimed) so the JIT has compiled the kernels, as in the long-running service.
 *
 * Reported:
 * - `log_lik_rel_diff_max`: max over repetitions of |ours − hmmlearn| / |hmmlearn| of the final log-likelihood
 *   (target ≤ 1e-6);
 * - `filtered_max_abs_diff`: our filtered probabilities (forwardFilter) under hmmlearn's final parameters against
 *   hmmlearn's own forward pass (_hmmc.forward_log over _compute_log_likelihood), normalised per bar (target ≤ 1e-8);
 * - `fit_ms` medians and `fit_time_ratio` ours / hmmlearn (target ≤ 1.0), for hmmlearn's faster implementation
 *   (`scaling`; `log` is also timed and printed);
 * - `online_update_us`: p50 / p99 / max of one `regimeFilterStep` (a served per-bar update from the cached state) over
 *   20,000 bars of a fresh series under a fitted 3-state model (target p99 ≤ 1 ms);
 * - `regime_fit_ms`: the full service fit (`fitRegimeModel`: BIC over 2 and 3 states, 4 restarts each) for scale.
 * Env: BENCH_REPS (default 5), BENCH_ITER (default 100), BENCH_PEER=0 skips hmmlearn.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type GaussianHmmParams,
  REGIME_OBS_DIM,
  fitGaussianHmm,
  fitRegimeModel,
  forwardFilter,
  generateRegimeSeries,
  initialFilterState,
  quantileStart,
  regimeFilterStep,
  regimeObservations,
} from '@strata/regime-domain';

const REPS = Number(process.env.BENCH_REPS ?? 5);
const ITER = Number(process.env.BENCH_ITER ?? 100);
const BARS = 5040; // 20 years of daily bars
const K = 3;
const VOL_WINDOW = 10;
const TARGETS = { logLikRel: 1e-6, filtered: 1e-8, fitRatio: 1.0, onlineP99Ms: 1 };
const SPEC = {
  transition: [
    [0.985, 0.01, 0.005],
    [0.02, 0.96, 0.02],
    [0.01, 0.04, 0.95],
  ],
  drift: [0.0005, 0.0002, -0.001],
  vol: [0.006, 0.011, 0.025],
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const round = (x: number, d = 3) => Number(x.toFixed(d));
const log = (m: string) => process.stderr.write(`[bench:regime] ${m}\n`);

const PY = join(__dirname, 'peers', '.venv', 'bin', 'python');
const PEER = join(__dirname, 'peers', 'hmmlearn_peer.py');
const peerAvailable = process.env.BENCH_PEER !== '0' && existsSync(PY);

function writeF64(path: string, a: Float64Array): void {
  writeFileSync(path, Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}
function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

interface PeerResult {
  fit_ms: number;
  log_lik: number;
  iterations: number;
  hmmlearn: string;
  numpy: string;
}
function runPeer(dir: string, impl: 'scaling' | 'log'): PeerResult {
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const out = execFileSync(PY, [PEER, dir, String(ITER), impl], { env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as PeerResult;
}

function main(): void {
  const load0 = loadavg()[0];
  const oursMs: number[] = [];
  const peerMs: number[] = [];
  const peerLogMs: number[] = [];
  const relDiffs: number[] = [];
  const filteredDiffs: number[] = [];
  let versions: Partial<PeerResult> = {};
  const iterations = { ours: 0, hmmlearn: 0 };
  // JIT warm-up on a series of its own (not timed, never re-used): the service fits in a warm process.
  {
    const w = generateRegimeSeries({ ...SPEC, seed: 99, bars: BARS + VOL_WINDOW });
    const { obs } = regimeObservations(w.close, VOL_WINDOW);
    const n = obs.length / REGIME_OBS_DIM;
    fitGaussianHmm(obs, n, quantileStart(obs, n, REGIME_OBS_DIM, K), {
      maxIter: ITER,
      tol: -Infinity,
      varianceFloor: 0,
    });
  }
  const dir = mkdtempSync(join(tmpdir(), 'regime-bench-'));
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const s = generateRegimeSeries({ ...SPEC, seed: 100 + rep, bars: BARS + VOL_WINDOW });
      const { obs } = regimeObservations(s.close, VOL_WINDOW);
      const n = obs.length / REGIME_OBS_DIM;
      const init = quantileStart(obs, n, REGIME_OBS_DIM, K);
      writeF64(join(dir, 'obs.f64'), obs);
      writeF64(join(dir, 'start.f64'), init.startProb);
      writeF64(join(dir, 'trans.f64'), init.transition);
      writeF64(join(dir, 'means.f64'), init.means);
      writeF64(join(dir, 'covars.f64'), init.covariances);
      writeFileSync(join(dir, 'shape.json'), JSON.stringify({ n, d: REGIME_OBS_DIM, k: K }));

      const ours = () => {
        const t = process.hrtime.bigint();
        const fit = fitGaussianHmm(obs, n, init, { maxIter: ITER, tol: -Infinity, varianceFloor: 0 });
        oursMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        iterations.ours = fit.iterations;
        return fit;
      };
      let fit;
      let peer: PeerResult | null = null;
      if (!peerAvailable) fit = ours();
      else if (rep % 2 === 0) {
        fit = ours();
        peer = runPeer(dir, 'scaling');
        peerLogMs.push(runPeer(dir, 'log').fit_ms);
      } else {
        peerLogMs.push(runPeer(dir, 'log').fit_ms);
        peer = runPeer(dir, 'scaling');
        fit = ours();
      }
      if (peer) {
        peerMs.push(peer.fit_ms);
        versions = { hmmlearn: peer.hmmlearn, numpy: peer.numpy };
        iterations.hmmlearn = peer.iterations;
        relDiffs.push(Math.abs(fit.logLik - peer.log_lik) / Math.abs(peer.log_lik));
        const theirs: GaussianHmmParams = {
          k: K,
          d: REGIME_OBS_DIM,
          startProb: readF64(join(dir, 'fit_start.f64')),
          transition: readF64(join(dir, 'fit_trans.f64')),
          means: readF64(join(dir, 'fit_means.f64')),
          covariances: readF64(join(dir, 'fit_covars.f64')),
        };
        const filtered = forwardFilter(theirs, obs, n).filtered;
        const ref = readF64(join(dir, 'filtered.f64'));
        let md = 0;
        for (let i = 0; i < ref.length; i++) md = Math.max(md, Math.abs(filtered[i] - ref[i]));
        filteredDiffs.push(md);
        log(
          `rep ${rep}: ours ${round(oursMs[rep], 1)} ms, hmmlearn ${round(peer.fit_ms, 1)} ms; log-lik ${fit.logLik} vs ${peer.log_lik}; filtered max diff ${md}`,
        );
      } else log(`rep ${rep}: ours ${round(oursMs[rep], 1)} ms (no peer)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Served online update: one filter step per bar from the cached state, under a fitted model.
  const train = generateRegimeSeries({ ...SPEC, seed: 900, bars: BARS });
  const t0 = process.hrtime.bigint();
  const model = fitRegimeModel(train.close, { ks: [2, 3], volWindow: VOL_WINDOW });
  const regimeFitMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const live = generateRegimeSeries({ ...SPEC, seed: 901, bars: 21_000 });
  let state = initialFilterState();
  const stepUs: number[] = [];
  for (let t = 0; t < live.close.length; t++) {
    const a = process.hrtime.bigint();
    state = regimeFilterStep(model, state, { time: t * 86_400_000, close: live.close[t] }).state;
    const us = Number(process.hrtime.bigint() - a) / 1e3;
    if (t >= 1000) stepUs.push(us); // the first 1,000 steps warm the JIT up
  }

  const oursMed = median(oursMs);
  const peerMed = peerMs.length ? median(peerMs) : NaN;
  const relMax = relDiffs.length ? Math.max(...relDiffs) : NaN;
  const filtMax = filteredDiffs.length ? Math.max(...filteredDiffs) : NaN;
  const ratio = oursMed / peerMed;
  const p99 = quantile(stepUs, 0.99);
  console.log(
    JSON.stringify({
      bench: 'regime',
      data: { bars: BARS, states: K, dims: REGIME_OBS_DIM, em_iterations: ITER, reps: REPS },
      iterations,
      fit_ms: { ours: round(oursMed, 2), hmmlearn: peerAvailable ? round(peerMed, 2) : null },
      fit_ms_hmmlearn_log_impl: peerLogMs.length ? round(median(peerLogMs), 2) : null,
      fit_time_ratio: peerAvailable ? round(ratio, 4) : null,
      log_lik_rel_diff_max: peerAvailable ? relMax : null,
      filtered_max_abs_diff: peerAvailable ? filtMax : null,
      online_update_us: {
        p50: round(quantile(stepUs, 0.5), 2),
        p99: round(p99, 2),
        max: round(Math.max(...stepUs), 2),
        bars: stepUs.length,
      },
      regime_fit_ms: round(regimeFitMs, 1),
      regime_fit_states: model.k,
      peer: peerAvailable ? { hmmlearn: versions.hmmlearn, numpy: versions.numpy, threads: 1 } : { skipped: 'no venv' },
      targets: {
        log_lik_rel_diff: TARGETS.logLikRel,
        filtered_abs_diff: TARGETS.filtered,
        fit_time_ratio: TARGETS.fitRatio,
        online_p99_ms: TARGETS.onlineP99Ms,
      },
      met: {
        log_lik: peerAvailable ? relMax <= TARGETS.logLikRel : null,
        filtered: peerAvailable ? filtMax <= TARGETS.filtered : null,
        fit_time: peerAvailable ? ratio <= TARGETS.fitRatio : null,
        online_p99: p99 / 1000 <= TARGETS.onlineP99Ms,
      },
      machine: { cpus: cpus().length, node: process.version, loadavg_1m: [round(load0, 2), round(loadavg()[0], 2)] },
    }),
  );
}

main();
