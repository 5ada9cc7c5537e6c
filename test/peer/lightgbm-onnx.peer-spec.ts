/** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
/**
 * A LightGBM model trained on the bundled series' `core` features (our computation), converted to ONNX with
 * onnxmltools, imported by us and scored by every engine we have (onnxruntime-node, the decoded ensemble compiled to
 * JavaScript on worker threads and on the calling thread, the domain's `predictMargin`) must give LightGBM's own
 * predictions of the same rows to 1e-6.
 *
 * Data: every bundled daily series (data/sample), raw bars; rows from the first bar (warm-up NaNs included, so
 * LightGBM's missing-value directions are exercised); label = close 5 bars later above today's close. Train on bars
 * before 2014, test on the rest. LightGBM sees the features rounded to float32, which is what the ONNX model's float32
 * input means; our engines get the float64 features, as the service holds them, and convert them themselves.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CORE_V1_FEATURE_NAMES,
  CORE_V2_FEATURE_NAMES,
  computeCoreFeatures,
  computeCoreFeaturesV2,
} from '@strata/shared-indicators';
import { predictMargin, sigmoid } from '@strata/signals-domain';
import { OnnxTreeScorer, importOnnxTreeModel } from '@strata/signals-infra-onnx';
import { REPO, bundledSeries, peerPython, runPython } from './peers';

const TOLERANCE = 1e-6;
const HORIZON = 5;
const SPLIT_TS = Date.UTC(2014, 0, 1);
const peer = peerPython(['lightgbm', 'onnxmltools', 'numpy'], 'LightGBM -> ONNX parity (peer project)');
const FILES = readdirSync(join(REPO, 'data', 'sample'))
  .filter((f) => f.endsWith('_1d.csv'))
  .sort();

const f64 = (buf: Buffer) => new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));

/** Row-major features and labels of every bundled series, split by time. */
function dataset(version: 'v1' | 'v2', names: readonly string[]) {
  const train: number[] = [];
  const test: number[] = [];
  const yTrain: number[] = [];
  for (const s of bundledSeries(FILES)) {
    const opts = { timeframe: '1d', calendar: s.symbol === 'BTCUSD' ? 'crypto-24x7' : 'us-equity' } as const;
    const cols = (version === 'v1' ? computeCoreFeatures(s, opts) : computeCoreFeaturesV2(s, opts)) as Record<
      string,
      Float64Array
    >;
    for (let t = 0; t + HORIZON < s.close.length; t++) {
      const row = names.map((n) => cols[n][t]);
      if (s.ts[t] < SPLIT_TS) {
        train.push(...row);
        yTrain.push(s.close[t + HORIZON] > s.close[t] ? 1 : 0);
      } else test.push(...row);
    }
  }
  return { train: Float64Array.from(train), test: Float64Array.from(test), yTrain: Uint8Array.from(yTrain) };
}

peer.describeIf('a LightGBM model converted by onnxmltools scores like LightGBM in every engine', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['v1', CORE_V1_FEATURE_NAMES],
    ['v2', CORE_V2_FEATURE_NAMES],
  ] as const)(
    'core %s features of the bundled series: |p - LightGBM| <= 1e-6 for every test row and engine',
    async (version, names) => {
      const k = names.length;
      const { train, test, yTrain } = dataset(version, names);
      const nTrain = train.length / k;
      const nTest = test.length / k;
      const dir = mkdtempSync(join(tmpdir(), 'strata-lgbm-'));
      dirs.push(dir);
      writeFileSync(join(dir, 'meta_in.json'), JSON.stringify({ features: names, nTrain, nTest }));
      writeFileSync(join(dir, 'x_train.f32'), Float32Array.from(train));
      writeFileSync(join(dir, 'x_test.f32'), Float32Array.from(test));
      writeFileSync(join(dir, 'y_train.u8'), yTrain);
      runPython(peer.python!, [join(__dirname, 'lightgbm_onnx.py'), dir]);
      const bytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
      const prob = f64(readFileSync(join(dir, 'prob.f64')));
      const raw = f64(readFileSync(join(dir, 'raw.f64')));
      const meta = JSON.parse(readFileSync(join(dir, 'meta_out.json'), 'utf8')) as { trees: number; leaves: number };
      expect(prob.length).toBe(nTest);
      // A model that learnt nothing (every prediction equal) would agree with anything.
      expect(new Set(Array.from(prob, (p) => p.toFixed(6))).size).toBeGreaterThan(100);

      const res = importOnnxTreeModel(bytes, { featureNames: [...names] });
      if (!res.ok) throw new Error(JSON.stringify(res.problems));
      expect(res.info).toMatchObject({ objective: 'binary', nFeatures: k, nTrees: meta.trees, inputType: 'float32' });

      const maxDiff: Record<string, number> = {};
      const engines = {
        onnxruntime: { batchEngine: 'onnxruntime' as const, smallBatchRows: 0, intraOpNumThreads: 1 },
        'compiled-js-worker': { smallBatchRows: 0, batchThreads: 1 },
        'compiled-js-calling-thread': { smallBatchRows: 0, batchThreads: 0 },
        'compiled-js-small-calls': { smallBatchRows: 256 },
      };
      for (const [engine, opts] of Object.entries(engines)) {
        const scorer = await OnnxTreeScorer.create(bytes, res.info, opts);
        const p = new Float64Array(nTest);
        try {
          // Small calls: 256 rows at a time, so every call takes the small-call path.
          const step = engine === 'compiled-js-small-calls' ? 256 : nTest;
          for (let i = 0; i < nTest; i += step) {
            const m = Math.min(step, nTest - i);
            p.set(await scorer.score(test.subarray(i * k, (i + m) * k), m), i);
          }
        } finally {
          await scorer.close();
        }
        maxDiff[engine] = maxAbsDiff(p, prob);
      }
      const margin = predictMargin(res.info.ensemble!, test, nTest);
      maxDiff['predictMargin (raw score)'] = maxAbsDiff(margin, raw);
      maxDiff['sigmoid(predictMargin)'] = maxAbsDiff(margin.map(sigmoid), prob);
      process.stderr.write(
        `LightGBM -> ONNX parity, core ${version}, ${nTrain} train / ${nTest} test rows, ${meta.trees} trees, ${meta.leaves} leaves, max |diff|: ${JSON.stringify(maxDiff)}\n`,
      );
      const over = Object.fromEntries(Object.entries(maxDiff).filter(([, d]) => !(d <= TOLERANCE)));
      expect(over).toEqual({});
    },
    120_000,
  );
});

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
