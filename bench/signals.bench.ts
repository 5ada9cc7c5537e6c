/*
 * bench:signals — the GBDT trainer and the scorer against LightGBM and XGBoost, under the rule of bench/README.md
 * (same data, settings and threads; same work timed; distinct input per repetition; medians of ≥ 5 runs; absolute
 * figures and same-run ratios; `met` compares a measured figure with a stated target only).
 *
 * Training: `BENCH_ROWS` (default 1,000,000) rows × 22 features of seeded synthetic data with a known nonlinear signal
 * plus noise (≈ 3 % NaNs in four features), binary labels; 200 trees × 31 leaves, learning rate 0.1, 255 bins, min 20
 * rows and 1e-3 hessian per leaf, λ = 0, no bagging, ONE thread on both sides. Every repetition trains on its own data
 * (seed 7 + repetition), written once as raw float64 files the peer reads (reading excluded on both sides; binning and
 * LightGBM's Dataset construction included on both sides), in four interleaved modes: ours with and without quantized
 * gradients, LightGBM with `use_quantized_grad` on and off. Quantized: `BENCH_QUANT_BINS` (default 4, LightGBM's
 * default `num_grad_quant_bins`) levels on both sides, stochastic rounding, leaf values refitted from the exact
 * gradients on both sides. AUC of each side on the same 200,000 held-out rows; leaves counted from the trained trees.
 *
 * Scoring: every repetition scores its own `BENCH_SCORING_ROWS` (default 1,000,000) distinct rows (seed 1000 +
 * repetition) in batches of 10,000, one thread on every side: the service's batch engine on the calling thread
 * (compiled ensemble), XGBoost `inplace_predict` (nthread 1) and LightGBM `predict` (num_threads 1), each scoring its
 * own model of the same shape trained on the first repetition's data with the same settings.
 * REST: one-row `POST /signals/score` latency through the all-in-one platform's gateway.
 *
 * Targets (same-run ratios): training with quantized gradients ≤ 1.3× LightGBM's time with `use_quantized_grad`, AUC
 * within 0.002 of LightGBM's; one-thread scoring ≥ 2× XGBoost `inplace_predict`; REST p99 ≤ 5 ms.
 * Env: BENCH_ROWS, BENCH_TREES (200), BENCH_REPS (5), BENCH_TRAIN_REPS (= BENCH_REPS), BENCH_SCORING_ROWS, BENCH_QUANT_BINS, BENCH_REST_REQUESTS
 * (3,000), BENCH_PEER=0 to skip the Python peers.
 * Run: npm run bench:signals
 */
import { restFigures, scorerFor, scoreRowsPerS } from './signals-scoring';
import { Xoshiro128ss } from '@strata/shared-random';
import { auc, predictMargin, trainGbdt, type GbdtParams, type TreeEnsemble } from '@strata/signals-domain';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const VALID_ROWS = 200_000;
const TREES = Number(process.env.BENCH_TREES ?? 200);
const REPS = Number(process.env.BENCH_REPS ?? 5);
/** Training repetitions (default REPS); fewer only to re-measure scoring, whose repetitions stay REPS. */
const TRAIN_REPS = Number(process.env.BENCH_TRAIN_REPS ?? REPS);
const SCORING_ROWS = Number(process.env.BENCH_SCORING_ROWS ?? 1_000_000);
const QUANT_BINS = Number(process.env.BENCH_QUANT_BINS ?? 4);
const REST_REQUESTS = Number(process.env.BENCH_REST_REQUESTS ?? 3_000);
const BATCH = 10_000;
const FEATURES = 22;
const PEER_PYTHON = path.resolve(__dirname, 'peers/.venv/bin/python');
const LIGHTGBM_SCRIPT = path.resolve(__dirname, 'peers/lightgbm_peer.py');
const XGBOOST_SCRIPT = path.resolve(__dirname, 'peers/xgboost_peer.py');
const TARGETS = { train_q_vs_lightgbm_q_max: 1.3, auc_diff_q_max: 0.002, score_vs_xgboost_min: 2, rest_p99_ms_max: 5 };

const round = (x: number, d = 4): number | null => (Number.isFinite(x) ? Number(x.toFixed(d)) : null);
const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const load1m = (): number => os.loadavg()[0];

/** Synthetic rows: y ~ Bernoulli(σ(s(x))), s nonlinear in 6 of the 22 standard-normal features; NaNs in 4 features. */
export function syntheticSignalData(
  rows: number,
  seed: number,
): { X: Float64Array; y: Float64Array; featureNames: string[] } {
  const rng = new Xoshiro128ss(seed);
  const X = new Float64Array(rows * FEATURES);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const o = i * FEATURES;
    for (let j = 0; j < FEATURES; j++) X[o + j] = rng.normal();
    const s =
      1.2 * Math.sin(1.5 * X[o]) +
      0.8 * X[o + 1] * X[o + 2] +
      0.6 * (X[o + 3] > 0.5 ? 1 : -1) +
      0.4 * (X[o + 4] * X[o + 4] - 1) +
      0.3 * Math.abs(X[o + 5]) -
      0.2;
    y[i] = rng.uniform() < 1 / (1 + Math.exp(-s)) ? 1 : 0;
    // Missing values: feature 3 (informative) and three noise features, ~3% each.
    for (const j of [3, 7, 11, 19]) if (rng.uniform() < 0.03) X[o + j] = NaN;
  }
  return { X, y, featureNames: Array.from({ length: FEATURES }, (_, j) => `f${j}`) };
}
type Data = ReturnType<typeof syntheticSignalData>;

/** The shared settings, in our names; {@link PEER_PARAMS} maps them for the peers. */
const PARAMS: GbdtParams = {
  objective: 'binary',
  numTrees: TREES,
  maxLeaves: 31,
  learningRate: 0.1,
  minDataInLeaf: 20,
  minSumHessianInLeaf: 1e-3,
  lambdaL2: 0,
  lambdaL1: 0,
  maxBin: 255,
  evalTrainLoss: false,
  quantizedGradientBins: QUANT_BINS,
};
const PEER_PARAMS = {
  n_features: FEATURES,
  num_trees: TREES,
  num_leaves: 31,
  learning_rate: 0.1,
  max_bin: 255,
  min_data_in_leaf: 20,
  min_sum_hessian_in_leaf: 1e-3,
  lambda_l1: 0,
  lambda_l2: 0,
  bagging_fraction: 1,
  feature_fraction: 1,
  num_grad_quant_bins: QUANT_BINS,
  batch: BATCH,
};

/** Leaves per tree, counted from the trees. */
function leafCounts(model: TreeEnsemble): { leaves_mean: number; leaves_max: number } {
  const leaves = model.trees.map((t) => t.leafValue.length);
  return { leaves_mean: leaves.reduce((a, b) => a + b, 0) / leaves.length, leaves_max: Math.max(...leaves) };
}

/** One training of ours (one thread: the calling one), timed around the whole `trainGbdt` call (binning included). */
function trainOurs(train: Data, valid: Data, quantized: boolean) {
  const load = load1m();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = trainGbdt(
    { X: train.X, nRows: train.y.length, featureNames: train.featureNames, y: train.y },
    { ...PARAMS, quantizedGradients: quantized },
  );
  const trainS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return {
    model: r.model,
    figures: {
      train_s: trainS,
      train_cpu_s: (cpu.user + cpu.system) / 1e6,
      valid_auc: auc(valid.y, predictMargin(r.model, valid.X, valid.y.length)),
      trees: r.model.trees.length,
      ...leafCounts(r.model),
      loadavg_1m: load,
    },
  };
}

type Figures = Record<string, number | string | boolean | (number | null)[]>;

/** Runs a peer script in `mode` with the JSON params; its last stdout line, or `{ skipped }`. */
function runPeer(script: string, args: string[]): Figures {
  const load = load1m();
  const r = spawnSync(PEER_PYTHON, [script, ...args], {
    encoding: 'utf8',
    maxBuffer: 16 << 20,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0)
    return { skipped: `peer failed (exit ${r.status}): ${(r.stderr || r.error?.message || '').trim().slice(-500)}` };
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Figures), loadavg_1m: load };
}

function writeF64(dir: string, name: string, a: Float64Array): void {
  fs.writeFileSync(path.join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
}

const log = (what: string, x: unknown): boolean => process.stderr.write(`${what}: ${JSON.stringify(x)}\n`);
const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);

/** Medians of the numeric fields of `runs` (and the runs' `train_s` / `rows_per_s` as a list). */
function summarise(runs: Figures[], key: string): Figures {
  const ok = runs.filter((r) => !('skipped' in r));
  if (ok.length === 0) return { skipped: String(runs[0]?.skipped ?? 'no run'), runs: [] };
  const out: Figures = {};
  for (const k of Object.keys(ok[0])) {
    const v = ok[0][k];
    out[k] = typeof v === 'number' ? (round(median(ok.map((r) => num(r[k]))), 5) ?? NaN) : v;
  }
  return { ...out, runs: ok.map((r) => round(num(r[key]), 4)) };
}

/** Runs the whole benchmark and prints its JSON line. */
export async function runSignalsBench(): Promise<void> {
  const withPeer = process.env.BENCH_PEER !== '0' && fs.existsSync(PEER_PYTHON);
  const peerSkip =
    process.env.BENCH_PEER === '0' ? 'BENCH_PEER=0' : 'bench/peers/.venv not found: run bench/peers/setup.sh';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'signals-bench-'));
  const loadStart = load1m();
  try {
    const valid = syntheticSignalData(VALID_ROWS, 8);
    writeF64(dir, 'X_valid.f64', valid.X);
    writeF64(dir, 'y_valid.f64', valid.y);
    const modes = ['ours_q', 'lightgbm_q', 'ours_exact', 'lightgbm_exact'] as const;
    const runs: Record<(typeof modes)[number], Figures[]> = {
      ours_q: [],
      lightgbm_q: [],
      ours_exact: [],
      lightgbm_exact: [],
    };
    let model: TreeEnsemble | null = null;
    let xgbTrain: Figures = { skipped: peerSkip };
    const lgbModel = path.join(dir, 'lightgbm.txt');
    const xgbModel = path.join(dir, 'xgboost.ubj');
    for (let rep = 0; rep < TRAIN_REPS; rep++) {
      const train = syntheticSignalData(ROWS, 7 + rep);
      if (withPeer) {
        writeF64(dir, 'X_train.f64', train.X);
        writeF64(dir, 'y_train.f64', train.y);
      }
      // Interleaved, and the order rotates per repetition, so that no mode always runs first on a drifting load.
      const order = modes.map((_, i) => modes[(i + rep) % modes.length]);
      for (const mode of order) {
        if (mode.startsWith('ours')) {
          const r = trainOurs(train, valid, mode === 'ours_q');
          if (rep === 0 && mode === 'ours_q') model = r.model;
          runs[mode].push(r.figures);
        } else if (withPeer) {
          const quantized = mode === 'lightgbm_q';
          const p = { ...PEER_PARAMS, quantized, model_out: rep === 0 && quantized ? lgbModel : '' };
          runs[mode].push(runPeer(LIGHTGBM_SCRIPT, ['train', dir, JSON.stringify(p)]));
        } else runs[mode].push({ skipped: peerSkip });
        log(`rep ${rep} ${mode}`, runs[mode][rep]);
      }
      // XGBoost is the scoring peer: its model of the same shape, trained once on the first repetition's data.
      if (rep === 0 && withPeer) {
        xgbTrain = runPeer(XGBOOST_SCRIPT, ['train', dir, JSON.stringify({ ...PEER_PARAMS, model_out: xgbModel })]);
        log('xgboost train', xgbTrain);
      }
    }
    if (!model) throw new Error('no model trained');

    // Scoring: distinct rows in every repetition, interleaved sides.
    const scorer = await scorerFor(model);
    const scoring: Record<'ours' | 'xgboost' | 'lightgbm', Figures[]> = { ours: [], xgboost: [], lightgbm: [] };
    let restRows: Float64Array | null = null;
    try {
      for (let rep = 0; rep < REPS; rep++) {
        const s = syntheticSignalData(SCORING_ROWS, 1000 + rep);
        if (rep === 0) restRows = s.X.slice(0, 4000 * FEATURES);
        if (withPeer) {
          writeF64(dir, 'X_score.f64', s.X);
          writeF64(dir, 'y_score.f64', s.y);
        }
        const sides = (['ours', 'xgboost', 'lightgbm'] as const).map((_, i, a) => a[(i + rep) % a.length]);
        for (const side of sides) {
          if (side === 'ours') {
            const load = load1m();
            const r = await scoreRowsPerS(scorer, s.X, FEATURES, BATCH);
            scoring.ours.push({
              rows_per_s: r.rowsPerS,
              rows_per_cpu_s: r.rowsPerCpuS,
              rows: r.rows,
              auc: auc(s.y.subarray(0, r.rows), r.out),
              loadavg_1m: load,
            });
          } else if (withPeer) {
            const script = side === 'xgboost' ? XGBOOST_SCRIPT : LIGHTGBM_SCRIPT;
            const file = side === 'xgboost' ? xgbModel : lgbModel;
            scoring[side].push(runPeer(script, ['predict', file, dir, JSON.stringify(PEER_PARAMS)]));
          } else scoring[side].push({ skipped: peerSkip });
          log(`score rep ${rep} ${side}`, scoring[side][rep]);
        }
      }
    } finally {
      await scorer.close();
    }
    const rest = await restFigures(model, restRows!, FEATURES, REST_REQUESTS);
    log('rest', rest);

    const t = Object.fromEntries(modes.map((m) => [m, summarise(runs[m], 'train_s')])) as Record<
      (typeof modes)[number],
      Figures
    >;
    const sc = {
      ours: summarise(scoring.ours, 'rows_per_s'),
      xgboost_inplace_predict: summarise(scoring.xgboost, 'rows_per_s'),
      lightgbm_predict: summarise(scoring.lightgbm, 'rows_per_s'),
    };
    // AUC differences paired by repetition (both sides trained on the same data), then the median.
    const aucDiff = (ours: Figures[], peer: Figures[]) =>
      median(ours.map((o, i) => num(o.valid_auc) - num(peer[i]?.valid_auc)));
    const ratio = (a: Figures, b: Figures, k: string) => num(a[k]) / num(b[k]);
    const trainQ = ratio(t.ours_q, t.lightgbm_q, 'train_s');
    const aucQ = aucDiff(runs.ours_q, runs.lightgbm_q);
    const scoreVsXgb = ratio(sc.ours, sc.xgboost_inplace_predict, 'rows_per_s');
    const trainingMet = Number.isFinite(trainQ) ? trainQ <= TARGETS.train_q_vs_lightgbm_q_max : null;
    const aucMet = Number.isFinite(aucQ) ? Math.abs(aucQ) <= TARGETS.auc_diff_q_max : null;
    const scoringMet = Number.isFinite(scoreVsXgb) ? scoreVsXgb >= TARGETS.score_vs_xgboost_min : null;
    const restMet = rest.p99_ms <= TARGETS.rest_p99_ms_max;
    console.log(
      JSON.stringify({
        bench: 'signals',
        settings: {
          rows: ROWS,
          valid_rows: VALID_ROWS,
          features: FEATURES,
          trees: TREES,
          num_leaves: 31,
          quant_bins: QUANT_BINS,
          threads: 1,
          reps: REPS,
          train_reps: TRAIN_REPS,
          scoring_rows_per_rep: SCORING_ROWS,
          batch: BATCH,
        },
        training: t,
        xgboost_training_single_run: xgbTrain,
        scoring: sc,
        rest,
        ratios: {
          train_q_vs_lightgbm_q: round(trainQ, 3),
          train_exact_vs_lightgbm_exact: round(ratio(t.ours_exact, t.lightgbm_exact, 'train_s'), 3),
          train_q_vs_lightgbm_exact: round(ratio(t.ours_q, t.lightgbm_exact, 'train_s'), 3),
          train_cpu_q_vs_lightgbm_q: round(ratio(t.ours_q, t.lightgbm_q, 'train_cpu_s'), 3),
          auc_diff_q_vs_lightgbm_q: round(aucQ, 5),
          auc_diff_exact_vs_lightgbm_exact: round(aucDiff(runs.ours_exact, runs.lightgbm_exact), 5),
          score_1thread_vs_xgboost_inplace_predict: round(scoreVsXgb, 3),
          score_1thread_vs_lightgbm_predict: round(ratio(sc.ours, sc.lightgbm_predict, 'rows_per_s'), 3),
          score_per_cpu_s_vs_xgboost_inplace_predict: round(
            ratio(sc.ours, sc.xgboost_inplace_predict, 'rows_per_cpu_s'),
            3,
          ),
          score_per_cpu_s_vs_lightgbm_predict: round(ratio(sc.ours, sc.lightgbm_predict, 'rows_per_cpu_s'), 3),
        },
        targets: {
          ...TARGETS,
          training_met: trainingMet,
          auc_met: aucMet,
          scoring_met: scoringMet,
          rest_met: restMet,
          met: trainingMet === true && aucMet === true && scoringMet === true && restMet,
        },
        machine: {
          cpus: os.cpus().length,
          cpu_model: os.cpus()[0]?.model ?? 'unknown',
          node: process.version,
          loadavg_1m_start: round(loadStart, 2),
          loadavg_1m_end: round(load1m(), 2),
        },
      }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runSignalsBench().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
