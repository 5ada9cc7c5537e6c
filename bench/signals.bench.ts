/*
 * bench:signals — the ML signal service.
 *
 * Training part (domain-ml): 1,000,000 rows × 22 features of seeded synthetic data with a known nonlinear signal plus
 * noise (≈ 3% NaNs in four features), binary labels, 200 trees × 31 leaves, learning rate 0.1, min 20 rows per leaf,
 * λ = 0, no bagging, one thread (Node is single-threaded). Times the whole `trainGbdt` call (binning included) in wall
 * and CPU seconds, then the AUC on 200,000 held-out rows.
 * Peer (when bench/peers/.venv exists): LightGBM 4 with num_threads=1 and the same data (raw float64 files read by
 * numpy.fromfile) and parameters (num_leaves 31, max_bin 255, min_data_in_leaf 20, lambda 0, no bagging, Dataset
 * construction included in its time); ratios of training time and the AUC difference.
 * Scoring and REST parts (`scoring`, `rest`): bench/signals-scoring.ts with the trained model.
 *
 * Targets: training ≤ 15 s on one core; |AUC − LightGBM AUC| ≤ 0.005; ≥ 2,000,000 rows/s batch scoring; one-row REST p99 ≤ 5 ms.
 * Env: BENCH_ROWS (default 1000000), BENCH_TREES (default 200), BENCH_PEER=0 to skip LightGBM.
 * Run: npm run bench:signals
 */
import { measureSignalsScoring } from './signals-scoring';
import { Xoshiro128ss } from '@strata/domain-synthetic';
import { auc, predictMargin, trainGbdt, type GbdtParams } from '@strata/domain-ml';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const VALID_ROWS = Math.max(10_000, Math.round(ROWS / 5));
const TREES = Number(process.env.BENCH_TREES ?? 200);
const FEATURES = 22;
const PEER_PYTHON = path.resolve(__dirname, 'peers/.venv/bin/python');
const PEER_SCRIPT = path.resolve(__dirname, 'peers/lightgbm_peer.py');
const round = (x: number, d = 4) => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);

/** Synthetic rows: y ~ Bernoulli(σ(s(x))), s nonlinear in 6 of the 22 standard-normal features; NaNs in 4 features. */
export function syntheticSignalData(rows: number, seed: number): { X: Float64Array; y: Float64Array; featureNames: string[] } {
  const rng = new Xoshiro128ss(seed);
  const X = new Float64Array(rows * FEATURES);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * FEATURES;
    for (let j = 0; j < FEATURES; j++) X[o + j] = rng.normal();
    const s = 1.2 * Math.sin(1.5 * X[o]) + 0.8 * X[o + 1] * X[o + 2] + 0.6 * (X[o + 3] > 0.5 ? 1 : -1) + 0.4 * (X[o + 4] * X[o + 4] - 1) + 0.3 * Math.abs(X[o + 5]) - 0.2;
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
    // Missing values: feature 3 (informative) and three noise features, ~3% each.
    for (const j of [3, 7, 11, 19]) if (rng.uniform() < 0.03) X[o + j] = NaN;
  }
  return { X, y, featureNames: Array.from({ length: FEATURES }, (_, j) => `f${j}`) };
}

const PARAMS: GbdtParams = { objective: 'binary', numTrees: TREES, maxLeaves: 31, learningRate: 0.1, minDataInLeaf: 20, minSumHessianInLeaf: 1e-3, lambdaL2: 0, lambdaL1: 0, maxBin: 255, evalTrainLoss: false };

/** Trains ours on the benchmark data; returns the model and the figures. */
export function runTrainingBench(train = syntheticSignalData(ROWS, 7), valid = syntheticSignalData(VALID_ROWS, 8)) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = trainGbdt({ X: train.X, nRows: train.y.length, featureNames: train.featureNames, y: train.y }, PARAMS);
  const trainS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const validAuc = auc(valid.y, predictMargin(r.model, valid.X, valid.y.length));
  return { model: r.model, figures: { rows: train.y.length, features: FEATURES, trees: r.model.trees.length, leaves: 31, train_s: round(trainS, 3), train_cpu_s: round((cpu.user + cpu.system) / 1e6, 3), valid_rows: valid.y.length, valid_auc: round(validAuc, 5), non_float32_thresholds: r.binning.nonFloat32Bounds } };
}

function lightgbmPeer(train: ReturnType<typeof syntheticSignalData>, valid: ReturnType<typeof syntheticSignalData>): Record<string, unknown> {
  if (process.env.BENCH_PEER === '0') return { skipped: 'BENCH_PEER=0' };
  if (!fs.existsSync(PEER_PYTHON)) return { skipped: 'bench/peers/.venv not found: run bench/peers/setup.sh to compare with LightGBM' };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signals-bench-'));
  try {
    const write = (name: string, a: Float64Array) => fs.writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
    write('X_train.f64', train.X);
    write('y_train.f64', train.y);
    write('X_valid.f64', valid.X);
    write('y_valid.f64', valid.y);
    const params = { n_features: FEATURES, num_trees: TREES, num_leaves: 31, learning_rate: 0.1, max_bin: 255, min_data_in_leaf: 20, min_sum_hessian_in_leaf: 1e-3, lambda_l1: 0, lambda_l2: 0, bagging_fraction: 1, feature_fraction: 1 };
    const run = spawnSync(PEER_PYTHON, [PEER_SCRIPT, dir, JSON.stringify(params)], { encoding: 'utf8', maxBuffer: 16 << 20, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (run.status !== 0) return { skipped: `peer failed (exit ${run.status}): ${(run.stderr || run.error?.message || '').trim().slice(-500)}` };
    return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the whole benchmark and prints its JSON line (exported so that another bench module can run it after registering its parts). */
export async function runSignalsBench(): Promise<void> {
  const train = syntheticSignalData(ROWS, 7);
  const valid = syntheticSignalData(VALID_ROWS, 8);
  const ours = runTrainingBench(train, valid);
  process.stderr.write(`ours: ${JSON.stringify(ours.figures)}\n`);
  const peer = lightgbmPeer(train, valid);
  process.stderr.write(`peer: ${JSON.stringify(peer)}\n`);

  // Scoring (onnxruntime-node, generated JS, batches of 10,000) and one-row REST latency, with the trained model.
  const scoring = await measureSignalsScoring({ model: ours.model, rows: valid.X });
  process.stderr.write(`scoring: ${JSON.stringify(scoring)}\n`);

  const peerTrainS = typeof peer.train_s === 'number' ? peer.train_s : NaN;
  const peerCpuS = typeof peer.train_cpu_s === 'number' ? peer.train_cpu_s : NaN;
  const peerAuc = typeof peer.valid_auc === 'number' ? peer.valid_auc : NaN;
  const aucDiff = (ours.figures.valid_auc ?? NaN) - peerAuc;
  const trainingMet = (ours.figures.train_s ?? Infinity) <= 15;
  const aucMet = Number.isFinite(aucDiff) ? Math.abs(aucDiff) <= 0.005 : null;
  console.log(
    JSON.stringify({
      bench: 'signals',
      training: ours.figures,
      scoring: {
        batch_size: scoring.batch_size,
        onnxruntime_rows_per_s: scoring.batch_rows_per_s,
        onnxruntime_1thread_rows_per_s: scoring.batch_1thread_rows_per_s,
        onnxruntime_f32_rows_per_s: scoring.batch_f32_rows_per_s,
        ts_compiled_rows_per_s: scoring.ts_compiled_rows_per_s,
        ts_predict_margin_rows_per_s: scoring.ts_predict_margin_rows_per_s,
        onnx_vs_ts_max_abs_diff: scoring.batch_max_abs_diff,
      },
      rest: { one_row_p50_ms: scoring.rest_one_row_p50_ms, one_row_p99_ms: scoring.rest_one_row_p99_ms, one_row_max_ms: scoring.rest_one_row_max_ms, requests: scoring.rest_requests },
      targets: {
        train_s_max: 15,
        training_met: trainingMet,
        auc_diff_vs_lightgbm_max: 0.005,
        auc_met: aucMet,
        batch_rows_per_s_min: 2_000_000,
        batch_met: scoring.batch_rows_per_s >= 2_000_000,
        rest_p99_ms_max: 5,
        rest_met: scoring.rest_one_row_p99_ms <= 5,
        met: trainingMet && aucMet !== false && scoring.batch_rows_per_s >= 2_000_000 && scoring.rest_one_row_p99_ms <= 5,
      },
      peer: { lightgbm: peer },
      ratios: {
        train_time_vs_lightgbm: round(ours.figures.train_s! / peerTrainS, 3),
        train_cpu_time_vs_lightgbm: round(ours.figures.train_cpu_s! / peerCpuS, 3),
        auc_diff_vs_lightgbm: round(aucDiff, 5),
        onnxruntime_rows_per_s_vs_lightgbm_predict: round(scoring.batch_rows_per_s / Number(peer.predict_rows_per_s_1thread), 3),
        ts_compiled_rows_per_s_vs_lightgbm_predict: round(scoring.ts_compiled_rows_per_s / Number(peer.predict_rows_per_s_1thread), 3),
      },
      machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg_1m: round(os.loadavg()[0], 2) },
    }),
  );
}

if (require.main === module) {
  runSignalsBench().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
