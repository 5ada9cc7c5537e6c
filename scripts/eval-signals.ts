/*
 * eval:signals — walk-forward evaluation of the GBDT direction signal on the bundled daily sample, against the
 * majority-class and logistic-regression baselines on the same folds, with both leakage guards, then a LEAK SWEEP that
 * measures how weak a leak each guard still detects. Prints ONE JSON line.
 *
 * Pipeline (the production one, not a copy): data/sample/<SYMBOL>_1d.csv parsed by `parseBarsCsv`, split-adjusted with
 * data/sample/corporate-actions.json through the market-data adjustment (`adjustmentSteps` + `adjustBars`), the 22
 * `core` v2 features (`computeCoreFeaturesV2`, the default set of new models), then per fold and symbol the feature
 * store's `buildTrainingDataset` with the fold's [train, test] segments: label = sign of the 5-bar forward return; the
 * dead zone is dropped from the TRAINING segment only (test folds keep every row, up = forward return > 0); purge =
 * horizon; embargo after the boundary. Folds are cut on the union of the symbols' bar times by `walkForwardSplits`
 * (expanding window); rows of all symbols are pooled per fold and carry their (symbol, bar time).
 *
 * Leakage guards, as the signals service runs them (both must pass on the clean features, else exit 1):
 * - label shuffle by blocks (inside `evaluateWalkForward`): blocks of `horizon` bar times per symbol, cut from each
 *   fold's test start, permuted whole across train ∪ test; GBDT retrained; test AUC within 3 SE of 0.5 (SE inflated
 *   by the horizon). Catches the same observation on both sides of a boundary;
 * - null world: every symbol's bars rebuilt from a seeded permutation of its bar-to-bar moves (`nullWorldBars`),
 *   features, labels, purge and folds recomputed, GBDT retrained. Catches features that read later bars.
 *
 * Leak sweep (EVAL_SWEEP=0 skips it): leaks of decreasing strength added to the clean features, each run through
 * both guards and through the real evaluation (how much it inflates the GBDT's test AUC):
 * - look-ahead: `leak = fwd + noise`, `fwd` = the 5-bar forward return of the bar (computed in the null world from
 *   the null bars, as a real look-ahead bug would be), noise Gaussian with sd = sd(fwd) / snr, for snr in EVAL_SNRS;
 * - overlap: a fraction of each fold's test observations also put in its training rows (EVAL_OVERLAPS).
 * `weakest_detected` names, per guard and kind, the weakest level at which that guard fired (null: at none).
 *
 * Env: EVAL_FOLDS (default 6), EVAL_HORIZON (5), EVAL_DEAD_ZONE (0.002), EVAL_EMBARGO (5), EVAL_SEED (7),
 * EVAL_SNRS (4,2,1,0.5,0.25,0.125,0.0625), EVAL_OVERLAPS (1,0.5,0.25,0.1,0.05,0.02), EVAL_SWEEP (1).
 * Run: npm run eval:signals
 */
import { CorporateActionSchema, type CorporateAction, type BarColumns } from '@strata/marketdata-contracts';
import {
  CORE_V2_FEATURE_NAMES,
  computeCoreFeaturesV2,
  nullWorldBars,
  type AnnualisationCalendar,
} from '@strata/shared-indicators';
import { inferTradingCalendar } from '@strata/shared-timeseries';
import { parseBarsCsv } from '@strata/marketdata-domain';
import {
  auc,
  evaluateWalkForward,
  LeakageDetectedError,
  predictMargin,
  runLeakageGuard,
  trainGbdt,
  walkForwardSplits,
  type FoldData,
  type GbdtParams,
  type LabelledRows,
  type LeakageGuardResult,
  type SignalMetrics,
  type WalkForwardSplit,
} from '@strata/signals-domain';
import { Xoshiro128ss } from '@strata/shared-random';
import { buildTrainingDataset } from '@strata/features-feature';
import { type DatasetDropCounts } from '@strata/features-contracts';
import { adjustBars, adjustmentSteps } from '@strata/marketdata-feature';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';

const DATA_DIR = path.resolve(__dirname, '../data/sample');
const SYMBOLS = ['SPY', 'QQQ', 'AAPL', 'IBM', 'BAC', 'BTCUSD'];
const FOLDS = Number(process.env.EVAL_FOLDS ?? 6);
const HORIZON = Number(process.env.EVAL_HORIZON ?? 5);
const DEAD_ZONE = Number(process.env.EVAL_DEAD_ZONE ?? 0.002);
const EMBARGO = Number(process.env.EVAL_EMBARGO ?? 5);
const SEED = Number(process.env.EVAL_SEED ?? 7);
const SWEEP = process.env.EVAL_SWEEP !== '0';
const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
const SNRS = list(process.env.EVAL_SNRS, [4, 2, 1, 0.5, 0.25, 0.125, 0.0625]);
const OVERLAPS = list(process.env.EVAL_OVERLAPS, [1, 0.5, 0.25, 0.1, 0.05, 0.02]);
const FEATURES: string[] = [...CORE_V2_FEATURE_NAMES];
const LEAK = 'leak';
const GBDT: Omit<GbdtParams, 'objective'> = {
  numTrees: 150,
  learningRate: 0.03,
  maxLeaves: 15,
  minDataInLeaf: 200,
  lambdaL2: 10,
  featureFraction: 0.8,
  baggingFraction: 0.8,
  baggingFreq: 1,
  seed: SEED,
};
const LOGISTIC = { l2: 10 };

interface SymbolSeries {
  symbol: string;
  bars: BarColumns;
  calendar: AnnualisationCalendar;
}

function loadSample(): SymbolSeries[] {
  const actions: CorporateAction[] = z
    .object({ actions: z.array(CorporateActionSchema) })
    .parse(JSON.parse(fs.readFileSync(path.join(DATA_DIR, 'corporate-actions.json'), 'utf8'))).actions;
  return SYMBOLS.map((symbol) => {
    const parsed = parseBarsCsv(fs.readFileSync(path.join(DATA_DIR, `${symbol}_1d.csv`)));
    if (parsed.rejects.length > 0)
      throw new Error(`${symbol}: ${parsed.rejects.length} rejected rows, first: ${JSON.stringify(parsed.rejects[0])}`);
    const raw = parsed.bars as BarColumns;
    const mine = actions.filter((a) => a.symbol === symbol);
    // Splits only: prevCloses are read for dividends alone.
    const { steps } = adjustmentSteps(mine, 'split', new Float64Array(mine.length).fill(NaN));
    const bars = adjustBars(raw, steps);
    return {
      symbol,
      bars,
      calendar: inferTradingCalendar(bars.ts, bars.length) === '24x7' ? 'crypto-24x7' : 'us-equity',
    };
  });
}

interface Prepared {
  symbol: string;
  ts: Float64Array;
  close: Float64Array;
  features: Record<string, Float64Array>;
}

function prepare(series: SymbolSeries[], nullSeed: number | null): Prepared[] {
  return series.map((s, k) => {
    const bars = nullSeed === null ? s.bars : { ...nullWorldBars(s.bars, nullSeed * 101 + k), ts: s.bars.ts };
    const features = computeCoreFeaturesV2(bars, { timeframe: '1d', calendar: s.calendar }) as unknown as Record<
      string,
      Float64Array
    >;
    return { symbol: s.symbol, ts: bars.ts, close: bars.close, features };
  });
}

/**
 * The prepared series with a look-ahead leak column: the bar's own forward return over the label horizon plus
 * Gaussian noise of sd = sd(forward return) / snr (seeded per symbol), NaN where there is no forward bar.
 */
function withLeak(prepared: Prepared[], snr: number, seed: number): Prepared[] {
  return prepared.map((p, k) => {
    const n = p.close.length;
    const fwd = Float64Array.from(p.close, (c, t) => (t + HORIZON < n ? p.close[t + HORIZON] / c - 1 : NaN));
    let m = 0;
    let q = 0;
    let c = 0;
    for (const x of fwd) {
      if (x !== x) continue;
      m += x;
      q += x * x;
      c++;
    }
    const sd = Math.sqrt(q / c - (m / c) ** 2);
    const rng = new Xoshiro128ss(seed * 131 + k, 11);
    const leak = Float64Array.from(fwd, (x) => x + (sd / snr) * rng.normal());
    return { ...p, features: { ...p.features, [LEAK]: leak } };
  });
}

/** Each fold with `fraction` of its test observations (every k-th, in row order) also appended to its training rows. */
function withOverlap(folds: FoldData[], fraction: number, names: string[]): FoldData[] {
  const d = names.length;
  return folds.map((f) => {
    const pick: number[] = [];
    const step = 1 / fraction;
    for (let x = 0; Math.floor(x) < f.test.nRows; x += step) pick.push(Math.floor(x));
    const m = f.train.nRows + pick.length;
    const X = new Float64Array(m * d);
    X.set(f.train.X);
    const y = new Float64Array(m);
    y.set(f.train.y);
    const fr = new Float64Array(m);
    fr.set(f.train.forwardReturn);
    const symbol = new Int32Array(m);
    symbol.set(f.train.symbol!);
    const ts = new Float64Array(m);
    ts.set(f.train.ts!);
    pick.forEach((i, j) => {
      const o = f.train.nRows + j;
      X.set(f.test.X.subarray(i * d, (i + 1) * d), o * d);
      y[o] = f.test.y[i];
      fr[o] = f.test.forwardReturn[i];
      symbol[o] = f.test.symbol![i];
      ts[o] = f.test.ts![i];
    });
    return { ...f, train: { X, nRows: m, y, forwardReturn: fr, symbol, ts } };
  });
}

const dropTotals: DatasetDropCounts = {
  missingFeature: 0,
  noLabel: 0,
  deadZone: 0,
  purged: 0,
  embargoed: 0,
  outsideSegments: 0,
};

/** Pools the builder's rows of every symbol into one fold (X row-major in `names` order). */
function buildFolds(
  prepared: Prepared[],
  splits: WalkForwardSplit[],
  countDrops: boolean,
  names: string[] = FEATURES,
): FoldData[] {
  return splits.map((sp) => {
    const parts = prepared.map((p) => {
      const cols = Object.fromEntries(names.map((f) => [f, p.features[f]]));
      const ds = buildTrainingDataset({ ts: p.ts, close: p.close, features: cols }, [sp.train, sp.test], {
        horizon: HORIZON,
        deadZone: DEAD_ZONE,
        dropDeadZoneFrom: [sp.train.name],
        purge: HORIZON,
        embargo: EMBARGO,
      });
      if (countDrops)
        for (const k of Object.keys(ds.dropped) as (keyof DatasetDropCounts)[])
          dropTotals[k] = (dropTotals[k] ?? 0) + (ds.dropped[k] ?? 0);
      return ds.parts;
    });
    const side = (j: number): LabelledRows => {
      const m = parts.reduce((s, ps) => s + ps[j].index.length, 0);
      const d = names.length;
      const X = new Float64Array(m * d);
      const y = new Float64Array(m);
      const fr = new Float64Array(m);
      const symbol = new Int32Array(m);
      const ts = new Float64Array(m);
      let o = 0;
      parts.forEach((ps, symbolIndex) => {
        const part = ps[j];
        for (let i = 0; i < part.index.length; i++, o++) {
          for (let f = 0; f < d; f++) X[o * d + f] = part.X[names[f]][i];
          y[o] = part.y[i] > 0 ? 1 : 0;
          fr[o] = part.y[i];
          // Observation identity: symbol and bar time.
          symbol[o] = symbolIndex;
          ts[o] = part.ts[i];
        }
      });
      return { X, nRows: m, y, forwardReturn: fr, symbol, ts };
    };
    return { name: `fold_${sp.fold}`, train: side(0), test: side(1) };
  });
}

const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(4)) : null);
const metricsJson = (m: SignalMetrics) => ({
  auc: r4(m.auc),
  log_loss: r4(m.logLoss),
  accuracy: r4(m.accuracy),
  brier: r4(m.brier),
  ic: r4(m.ic),
});
const guardJson = (g: LeakageGuardResult) => ({
  mode: g.mode,
  passed: g.passed,
  mean_auc: r4(g.meanAuc),
  abs_diff_from_half: r4(Math.abs(g.meanAuc - 0.5)),
  tolerance: r4(g.tolerance),
  standard_error: r4(g.standardError),
  permutations: g.permutations,
  fold_aucs: g.foldAucs.map(r4),
});

/** A guard's outcome without throwing. */
function guard(run: () => LeakageGuardResult): LeakageGuardResult {
  try {
    return run();
  } catch (e) {
    if (e instanceof LeakageDetectedError) return e.result;
    throw e;
  }
}

/** Mean test AUC of the GBDT over the folds (the apparent skill a leak gives). */
function gbdtAuc(folds: FoldData[], names: string[]): number {
  let s = 0;
  for (const f of folds) {
    const model = trainGbdt(
      { X: f.train.X, nRows: f.train.nRows, featureNames: names, y: f.train.y },
      { ...GBDT, objective: 'binary', evalTrainLoss: false },
    ).model;
    s += auc(f.test.y, predictMargin(model, f.test.X, f.test.nRows));
  }
  return s / folds.length;
}

const BLOCKS = { blockBars: HORIZON, varianceInflation: HORIZON };

/**
 * The leak sweep: look-ahead leaks of decreasing signal-to-noise ratio and train/test overlaps of decreasing
 * fraction, each through the real evaluation and both guards (one permutation each).
 */
function leakSweep(series: SymbolSeries[], splits: WalkForwardSplit[], clean: FoldData[]) {
  const real = prepare(series, null);
  const nullWorld = prepare(series, SEED * 7); // the clean guard's first null world
  const nullClean = buildFolds(nullWorld, splits, false);
  const names = [...FEATURES, LEAK];
  const params = { ...GBDT, objective: 'binary' as const };
  const level = (folds: FoldData[], featureNames: string[], nullFolds: FoldData[]) => {
    const ls = guard(() => runLeakageGuard(folds, featureNames, params, { seed: SEED, ...BLOCKS }));
    const nw = guard(() =>
      runLeakageGuard(folds, featureNames, params, { varianceInflation: HORIZON, nullFolds: () => nullFolds }),
    );
    return {
      gbdt_test_auc: r4(gbdtAuc(folds, featureNames)),
      label_shuffle: { detected: !ls.passed, mean_auc: r4(ls.meanAuc), tolerance: r4(ls.tolerance) },
      null_world: { detected: !nw.passed, mean_auc: r4(nw.meanAuc), tolerance: r4(nw.tolerance) },
    };
  };
  const lookahead = SNRS.map((snr) => ({
    snr,
    ...level(
      buildFolds(withLeak(real, snr, SEED), splits, false, names),
      names,
      buildFolds(withLeak(nullWorld, snr, SEED + 1), splits, false, names),
    ),
  }));
  const overlap = OVERLAPS.map((fraction) => ({
    fraction,
    ...level(withOverlap(clean, fraction, FEATURES), FEATURES, withOverlap(nullClean, fraction, FEATURES)),
  }));
  const weakest = <T>(levels: (T & Record<'label_shuffle' | 'null_world', { detected: boolean }>)[], key: keyof T) =>
    Object.fromEntries(
      (['label_shuffle', 'null_world'] as const).map((g) => {
        const hit = levels.filter((l) => l[g].detected);
        return [g, hit.length ? hit[hit.length - 1][key] : null];
      }),
    );
  return {
    lookahead_kind: `leak = ${HORIZON}-bar forward return + Gaussian noise of sd = sd(forward return) / snr`,
    overlap_kind: "that fraction of each fold's test observations also in its training rows",
    lookahead,
    overlap,
    weakest_detected: { lookahead_snr: weakest(lookahead, 'snr'), overlap_fraction: weakest(overlap, 'fraction') },
    note: 'one permutation per guard and level; weakest = the lowest snr / fraction at which the guard fired (null: none)',
  };
}

function main() {
  const t0 = performance.now();
  const series = loadSample();
  const times = Float64Array.from(new Set(series.flatMap((s) => Array.from(s.bars.ts)))).sort();
  const splits = walkForwardSplits(times, { folds: FOLDS, minTrainBars: Math.floor(times.length * 0.4) });
  const folds = buildFolds(prepare(series, null), splits, true);

  const guards: Record<string, unknown> = {};
  let failed: LeakageDetectedError | null = null;
  let report: ReturnType<typeof evaluateWalkForward> | null = null;
  try {
    report = evaluateWalkForward(folds, FEATURES, {
      gbdt: GBDT,
      logistic: LOGISTIC,
      leakageGuard: { seed: SEED, permutations: 2, ...BLOCKS },
    });
    guards.label_shuffle = guardJson(report.leakageGuard);
    const nullWorld = runLeakageGuard(
      folds,
      FEATURES,
      { ...GBDT, objective: 'binary' },
      {
        seed: SEED,
        permutations: 2,
        varianceInflation: HORIZON,
        nullFolds: (p, seed) => buildFolds(prepare(series, seed * 7 + p), splits, false),
      },
    );
    guards.null_world = guardJson(nullWorld);
  } catch (e) {
    if (!(e instanceof LeakageDetectedError)) throw e;
    failed = e;
    guards[e.result.mode === 'null-world' ? 'null_world' : 'label_shuffle'] = guardJson(e.result);
  }
  const sweep = SWEEP ? leakSweep(series, splits, folds) : null;

  const out = {
    eval: 'signals',
    data: {
      source: 'data/sample (daily, split-adjusted)',
      symbols: SYMBOLS,
      features: FEATURES.length,
      feature_set: 'core@2',
    },
    label: {
      horizon_bars: HORIZON,
      dead_zone: DEAD_ZONE,
      kind: 'sign of forward return; dead-zone rows dropped from training folds only (test folds keep every row)',
    },
    walk_forward: {
      folds: FOLDS,
      window: 'expanding',
      purge_bars: HORIZON,
      embargo_bars: EMBARGO,
      first_test_from: new Date(splits[0].test.from).toISOString().slice(0, 10),
      last_test_to: new Date(splits[FOLDS - 1].test.to).toISOString().slice(0, 10),
    },
    rows: {
      train_total: folds.reduce((s, f) => s + f.train.nRows, 0),
      test_total: folds.reduce((s, f) => s + f.test.nRows, 0),
      dropped_summed_over_folds: dropTotals,
      dropped_note:
        "builder drop counts per (fold, symbol) dataset, summed; outsideSegments = bars after a fold's test segment",
    },
    models: report
      ? Object.fromEntries(
          (['gbdt', 'logistic', 'majority'] as const).map((m) => [
            m,
            {
              mean: metricsJson(report!.mean[m]),
              folds: report!.folds.map((f) => ({ fold: f.name, ...metricsJson(f[m]) })),
            },
          ]),
        )
      : null,
    folds:
      report?.folds.map((f) => ({
        fold: f.name,
        train_rows: f.trainRows,
        test_rows: f.testRows,
        test_up_rate: r4(f.testUpRate),
      })) ?? null,
    leakage_guard: { passed: failed === null, ...guards, block_bars: HORIZON, z: 3 },
    leak_sweep: sweep,
    params: { gbdt: GBDT, logistic: LOGISTIC },
    elapsed_s: Number(((performance.now() - t0) / 1000).toFixed(1)),
    machine: { cpus: os.cpus().length, node: process.version, loadavg_1m: r4(os.loadavg()[0]) },
  };
  console.log(JSON.stringify(out));
  if (failed) {
    console.error(failed.message);
    process.exit(1);
  }
}

main();
