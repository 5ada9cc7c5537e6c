/** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
import { predictMargin, sigmoid, type TreeEnsemble } from '@strata/signals-domain';
import * as ort from 'onnxruntime-node';
import { exportTreeEnsembleToOnnx, OnnxMetadataKeys } from './onnx-tree.export';
import { decodeModel } from './onnx-ml.schema';
import { importOnnxTreeModel } from './onnx-tree.import';
import { defaultBatchThreads, OnnxTreeScorer } from './onnx-tree.scorer';
import { mulberry32 } from '@strata/shared-random';
import { randomEnsemble, randomRows } from './testing/random-trees';

// Thresholds with awkward doubles (not representable in float32) so a float32 round trip would show.
const POOL = Float64Array.from({ length: 64 }, (_, i) => -3 + i * 0.0937 + 1e-9 * (i % 7));
const N_FEATURES = 22;
const N_ROWS = 5000;

/** Reference: the TypeScript scorer, probability for binary models. */
function reference(model: TreeEnsemble, X: Float64Array, n: number): Float64Array {
  const m = predictMargin(model, X, n);
  if (model.objective === 'binary') for (let i = 0; i < n; i++) m[i] = sigmoid(m[i]);
  return m;
}

describe('ONNX export parity (onnxruntime-node vs predictMargin)', () => {
  for (const objective of ['binary', 'regression'] as const) {
    it(`${objective}: ${N_ROWS} rows with NaNs and exact threshold hits agree to 1e-6`, async () => {
      const model = randomEnsemble({
        seed: objective === 'binary' ? 11 : 12,
        objective,
        nFeatures: N_FEATURES,
        nTrees: 60,
        leaves: 31,
        thresholdPool: POOL,
      });
      const X = randomRows(mulberry32(99), N_ROWS, N_FEATURES, POOL, 0.15, 0.35);
      let nan = 0;
      let hits = 0;
      const pool = new Set(POOL);
      for (const v of X) {
        if (Number.isNaN(v)) nan++;
        else if (pool.has(v)) hits++;
      }
      expect(nan).toBeGreaterThan(1000);
      expect(hits).toBeGreaterThan(1000);

      const bytes = exportTreeEnsembleToOnnx(model, { modelId: 'm1', featureSet: { name: 'core', version: 1 } });
      // Straight through onnxruntime, without our importer.
      const session = await ort.InferenceSession.create(bytes);
      const out = await session.run({ features: new ort.Tensor('float64', X, [N_ROWS, N_FEATURES]) });
      const want = reference(model, X, N_ROWS);
      let maxDiff = 0;
      if (objective === 'binary') {
        const p = out.probabilities.data as Float32Array;
        const label = out.label.data as BigInt64Array;
        for (let r = 0; r < N_ROWS; r++) {
          maxDiff = Math.max(maxDiff, Math.abs(p[2 * r + 1] - want[r]), Math.abs(p[2 * r] - (1 - want[r])));
          expect(Number(label[r])).toBe(want[r] > 0.5 ? 1 : 0);
        }
      } else {
        const v = out.variable.data as Float32Array;
        for (let r = 0; r < N_ROWS; r++) maxDiff = Math.max(maxDiff, Math.abs(v[r] - want[r]));
      }
      expect(maxDiff).toBeLessThanOrEqual(1e-6);
      await session.release();

      // Through the importer + scorer, with Float64 and Float32 inputs (Float32 is converted to the model's double).
      const res = importOnnxTreeModel(bytes, {
        featureNames: model.featureNames,
        featureSet: { name: 'core', version: 1 },
      });
      if (!res.ok) throw new Error(JSON.stringify(res.problems));
      // Every batch engine: the compiled ensemble on 1 or 2 worker threads (the default) or the calling thread, and
      // onnxruntime itself.
      const engines = [
        [{ batchEngine: 'onnxruntime' as const }, 'onnxruntime'],
        [{ batchThreads: 2 }, 'compiled-js-workers-2'],
        [{ batchThreads: 0 }, 'compiled-js'],
      ] as const;
      for (const [opts, engine] of engines) {
        const s = await OnnxTreeScorer.create(bytes, res.info, opts);
        expect(s.engineFor(N_ROWS)).toBe(engine);
        const p = await s.score(X, N_ROWS);
        let d = 0;
        for (let r = 0; r < N_ROWS; r++) d = Math.max(d, Math.abs(p[r] - want[r]));
        expect(d).toBeLessThanOrEqual(1e-6);
        await s.close();
      }
      const scorer = await OnnxTreeScorer.create(bytes, res.info);
      expect(scorer.engineFor(N_ROWS)).toBe(`compiled-js-workers-${defaultBatchThreads()}`);
      expect(scorer.engineFor(1)).toBe('compiled-js');
      const got = await scorer.score(X, N_ROWS);
      let d2 = 0;
      for (let r = 0; r < N_ROWS; r++) d2 = Math.max(d2, Math.abs(got[r] - want[r]));
      expect(d2).toBeLessThanOrEqual(1e-6);
      // Concurrent batches share the workers' buffers: they are queued, each gets its own rows' scores.
      const width = model.featureNames.length;
      const [a, b] = await Promise.all([scorer.score(X, 3000), scorer.score(X.subarray(1000 * width), 4000)]);
      for (let r = 0; r < 3000; r++) expect(a[r]).toBe(got[r]);
      for (let r = 0; r < 4000; r++) expect(b[r]).toBe(got[1000 + r]);
      // Small calls (≤ 256 rows) are scored by the decoded ensemble compiled to JS on the calling thread: same scores.
      let d5 = 0;
      for (let r = 0; r < 300; r++)
        d5 = Math.max(d5, Math.abs((await scorer.score(X.subarray(r * width, (r + 1) * width), 1))[0] - got[r]));
      expect(d5).toBeLessThanOrEqual(1e-6);
      const X32 = Float32Array.from(X);
      const got32 = await scorer.score(X32, N_ROWS);
      const want32 = reference(model, Float64Array.from(X32), N_ROWS);
      let d3 = 0;
      for (let r = 0; r < N_ROWS; r++) d3 = Math.max(d3, Math.abs(got32[r] - want32[r]));
      expect(d3).toBeLessThanOrEqual(1e-6);
      await scorer.close();

      // The ONNX model decodes back to an ensemble that scores identically in TypeScript (covers kept for TreeSHAP).
      expect(res.info.hasCover).toBe(true);
      const back = res.info.ensemble!;
      const again = reference(back, X, N_ROWS);
      let d4 = 0;
      for (let r = 0; r < N_ROWS; r++) d4 = Math.max(d4, Math.abs(again[r] - want[r]));
      expect(d4).toBeLessThanOrEqual(1e-12);
      const cover = (m: TreeEnsemble) =>
        m.trees.reduce((s, t) => s + (t.internalCover.length ? t.internalCover[0] : t.leafCover[0]), 0);
      expect(cover(back)).toBeCloseTo(cover(model), 9);
    }, 60_000);
  }

  it('keeps margin semantics when every leaf weight is positive (onnxruntime special-cases all-positive binary weights in some versions)', async () => {
    const model = randomEnsemble({
      seed: 5,
      objective: 'binary',
      nFeatures: 4,
      nTrees: 5,
      leaves: 4,
      thresholdPool: POOL,
      baseScore: -0.7,
    });
    for (const t of model.trees)
      for (let i = 0; i < t.leafValue.length; i++) t.leafValue[i] = Math.abs(t.leafValue[i]) + 0.01;
    const X = randomRows(mulberry32(3), 500, 4, POOL);
    const bytes = exportTreeEnsembleToOnnx(model);
    const res = importOnnxTreeModel(bytes, { featureNames: model.featureNames });
    if (!res.ok) throw new Error(JSON.stringify(res.problems));
    const scorer = await OnnxTreeScorer.create(bytes, res.info);
    const got = await scorer.score(X, 500);
    const want = reference(model, X, 500);
    for (let r = 0; r < 500; r++) expect(Math.abs(got[r] - want[r])).toBeLessThanOrEqual(1e-6);
    await scorer.close();
  });

  it('writes the metadata: feature names in order, feature set, objective, model id', () => {
    const model = randomEnsemble({
      seed: 1,
      objective: 'regression',
      nFeatures: 3,
      nTrees: 2,
      leaves: 3,
      thresholdPool: POOL,
    });
    const m = decodeModel(
      exportTreeEnsembleToOnnx(model, { modelId: 'abc', featureSet: { name: 'core', version: 2 } }),
    );
    const meta = Object.fromEntries((m.metadata_props ?? []).map((p) => [p.key, p.value]));
    expect(JSON.parse(meta[OnnxMetadataKeys.featureNames])).toEqual(['f0', 'f1', 'f2']);
    expect(meta[OnnxMetadataKeys.featureSet]).toBe('core@2');
    expect(meta[OnnxMetadataKeys.objective]).toBe('regression');
    expect(meta[OnnxMetadataKeys.modelId]).toBe('abc');
    expect(m.opset_import).toEqual(expect.arrayContaining([{ domain: 'ai.onnx.ml', version: 3 }]));
    expect(m.graph?.input?.[0].type?.tensor_type?.elem_type).toBe(11);
  });
});
