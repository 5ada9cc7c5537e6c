/*
 * eval:signals — walk-forward evaluation of the GBDT direction signal on the bundled daily sample, against the
 * majority-class and logistic-regression baselines on the same folds, with the leakage guard. Prints ONE JSON line.
 *
 * Pipeline (the production one, not a copy): data/sample/<SYMBOL>_1d.csv parsed by `parseBarsCsv`, split-adjusted with
 * data/sample/corporate-actions.json through the market-data adjustment (`adjustmentSteps` + `adjustBars`), the 22
 * `core` v1 features (`computeCoreFeatures`), then per fold and symbol the feature store's `buildTrainingDataset` with the
 * fold's [train, test] segments: label = sign of the 5-bar forward return with a dead zone (rows inside it dropped),
 * purge = horizon (training rows whose label window reaches the test fold are dropped), embargo after the boundary.
 * Folds are cut on the union of the symbols' bar times by `walkForwardSplits` (expanding window); rows of all symbols
 * are pooled per fold.
 *
 * Leakage guard, two ways (both must pass, else the script prints the result and exits 1):
 * - label shuffle (inside `evaluateWalkForward`): labels permuted across the distinct (symbol, bar) observations of
 *   each fold, GBDT retrained, test AUC within 3 SE of 0.5;
 * - null world: every symbol's bars are rebuilt from a seeded permutation of its bar-to-bar moves (open/high/low/close
 *   relative to the previous close, and volume), which destroys any real predictability but keeps the pipeline; the
 *   features, labels, purge and folds are recomputed and the GBDT retrained. A feature or label with look-ahead keeps
 *   predicting there and fails the guard. SE inflated by the horizon (overlapping labels).
 *
 * Env: EVAL_FOLDS (default 6), EVAL_HORIZON (5), EVAL_DEAD_ZONE (0.002), EVAL_EMBARGO (5), EVAL_SEED (7);
 * EVAL_INJECT_LEAK=1 adds a deliberately leaky feature (the 5-bar forward return) to show the guard failing (exit 1).
 * Run: npm run eval:signals
 */
import { CorporateActionSchema, type CorporateAction, type BarColumns } from '@strata/marketdata-contracts';
import { CORE_V1_FEATURE_NAMES, computeCoreFeatures, type AnnualisationCalendar } from '@strata/shared-indicators';
import { inferTradingCalendar } from '@strata/shared-timeseries';
import { parseBarsCsv } from '@strata/marketdata-domain';
import {
  evaluateWalkForward,
  LeakageDetectedError,
  runLeakageGuard,
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
import * as path from 'node:path';
import { z } from 'zod';

const DATA_DIR = path.resolve(__dirname, '../data/sample');
const SYMBOLS = ['SPY', 'QQQ', 'AAPL', 'IBM', 'BAC', 'BTCUSD'];
const FOLDS = Number(process.env.EVAL_FOLDS ?? 6);
const HORIZON = Number(process.env.EVAL_HORIZON ?? 5);
const DEAD_ZONE = Number(process.env.EVAL_DEAD_ZONE ?? 0.002);
const EMBARGO = Number(process.env.EVAL_EMBARGO ?? 5);
const SEED = Number(process.env.EVAL_SEED ?? 7);
const INJECT_LEAK = process.env.EVAL_INJECT_LEAK === '1';
const FEATURES: string[] = [...CORE_V1_FEATURE_NAMES, ...(INJECT_LEAK ? ['leak_fwd_ret'] : [])];
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

/** Bars rebuilt from a seeded permutation of the bar-to-bar moves (the null world of the guard). */
function permutedBars(b: BarColumns, seed: number): BarColumns {
  const n = b.length;
  const perm = Int32Array.from({ length: n - 1 }, (_, i) => i + 1);
  const rng = new Xoshiro128ss(seed, 5);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  open[0] = b.open[0];
  high[0] = b.high[0];
  low[0] = b.low[0];
  close[0] = b.close[0];
  volume[0] = b.volume[0];
  for (let t = 1; t < n; t++) {
    const s = perm[t - 1];
    const prev = b.close[s - 1];
    const c = close[t - 1];
    open[t] = (c * b.open[s]) / prev;
    high[t] = (c * b.high[s]) / prev;
    low[t] = (c * b.low[s]) / prev;
    close[t] = (c * b.close[s]) / prev;
    volume[t] = b.volume[s];
  }
  return { length: n, ts: b.ts, open, high, low, close, volume, adjClose: null };
}

interface Prepared {
  symbol: string;
  ts: Float64Array;
  close: Float64Array;
  features: Record<string, Float64Array>;
}

function prepare(series: SymbolSeries[], nullSeed: number | null): Prepared[] {
  return series.map((s, k) => {
    const bars = nullSeed === null ? s.bars : permutedBars(s.bars, nullSeed * 101 + k);
    const features = computeCoreFeatures(bars, { timeframe: '1d', calendar: s.calendar }) as unknown as Record<
      string,
      Float64Array
    >;
    if (INJECT_LEAK)
      features.leak_fwd_ret = Float64Array.from(bars.close, (c, t) =>
        t + HORIZON < bars.length ? bars.close[t + HORIZON] / c - 1 : NaN,
      );
    return { symbol: s.symbol, ts: bars.ts, close: bars.close, features };
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

/** Pools the builder's rows of every symbol into one fold (X row-major in FEATURES order). */
function buildFolds(prepared: Prepared[], splits: WalkForwardSplit[], countDrops: boolean): FoldData[] {
  return splits.map((sp) => {
    const parts = prepared.map((p) => {
      const ds = buildTrainingDataset({ ts: p.ts, close: p.close, features: p.features }, [sp.train, sp.test], {
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
      const d = FEATURES.length;
      const X = new Float64Array(m * d);
      const y = new Float64Array(m);
      const fr = new Float64Array(m);
      const symbol = new Int32Array(m);
      const ts = new Float64Array(m);
      let o = 0;
      parts.forEach((ps, symbolIndex) => {
        const part = ps[j];
        for (let i = 0; i < part.index.length; i++, o++) {
          for (let f = 0; f < d; f++) X[o * d + f] = part.X[FEATURES[f]][i];
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
      leakageGuard: { seed: SEED, permutations: 2 },
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

  const out = {
    eval: 'signals',
    data: {
      source: 'data/sample (daily, split-adjusted)',
      symbols: SYMBOLS,
      features: FEATURES.length,
      feature_set: 'core@1',
    },
    label: { horizon_bars: HORIZON, dead_zone: DEAD_ZONE, kind: 'sign of forward return, dead-zone rows dropped' },
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
    leakage_guard: { passed: failed === null, ...guards, z: 3 },
    params: { gbdt: GBDT, logistic: LOGISTIC },
    elapsed_s: Number(((performance.now() - t0) / 1000).toFixed(1)),
  };
  console.log(JSON.stringify(out));
  if (failed) {
    console.error(failed.message);
    process.exit(1);
  }
}

main();
