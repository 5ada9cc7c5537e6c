/** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
import { predictMargin, sigmoid } from '@strata/signals-domain';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportTreeEnsembleToOnnx } from './onnx-tree.export';
import { decodeModel, encodeModel } from './onnx-ml.schema';
import { importOnnxTreeModel } from './onnx-tree.import';
import { OnnxTreeScorer } from './onnx-tree.scorer';
import { randomEnsemble } from './testing/random-trees';

const dir = join(__dirname, 'testing', 'fixtures');
const lgbBytes = new Uint8Array(readFileSync(join(dir, 'lightgbm-core-v1.onnx')));
const fixture = JSON.parse(readFileSync(join(dir, 'lightgbm-core-v1.predictions.json'), 'utf8')) as {
  featureNames: string[];
  rows: (number | null)[][];
  probability: number[];
  rawScore: number[];
};
const CORE = fixture.featureNames;

describe('import of external ONNX tree models (LightGBM via onnxmltools)', () => {
  it('accepts the model against a 22-feature set and scores like LightGBM itself', async () => {
    const res = importOnnxTreeModel(lgbBytes, { featureNames: CORE, featureSet: { name: 'core', version: 1 } });
    if (!res.ok) throw new Error(JSON.stringify(res.problems));
    const { info } = res;
    expect(info).toMatchObject({
      operator: 'TreeEnsembleClassifier',
      objective: 'binary',
      inputType: 'float32',
      inputName: 'input',
      nFeatures: 22,
      nTrees: 20,
      featureNamesFromModel: false,
    });
    expect(info.scoreOutput).toEqual({ name: 'probabilities', column: 1, width: 2 });
    expect(info.hasCover).toBe(false);

    const n = fixture.rows.length;
    const X = new Float64Array(n * 22);
    fixture.rows.forEach((r, i) => r.forEach((v, j) => (X[i * 22 + j] = v === null ? NaN : v)));
    // Every path: onnxruntime, the decoded ensemble compiled to JS on a worker thread (batches), and on the calling
    // thread (small calls).
    for (const opts of [
      { smallBatchRows: 0, batchEngine: 'onnxruntime' as const },
      { smallBatchRows: 0 },
      { smallBatchRows: 256 },
    ]) {
      const scorer = await OnnxTreeScorer.create(lgbBytes, info, opts);
      const p = await scorer.score(X, Math.min(n, 256));
      await scorer.close();
      let maxDiff = 0;
      for (let i = 0; i < p.length; i++) maxDiff = Math.max(maxDiff, Math.abs(p[i] - fixture.probability[i]));
      // LightGBM computes in double; the converted model holds float32 thresholds and weights and a float32 output.
      expect(maxDiff).toBeLessThan(1e-5);
    }

    // The decoded ensemble (BRANCH_LEQ, one score per leaf) reproduces LightGBM's raw scores in TypeScript.
    const m = predictMargin(info.ensemble!, X, n);
    for (let i = 0; i < n; i++) {
      expect(Math.abs(m[i] - fixture.rawScore[i])).toBeLessThan(1e-5);
      expect(Math.abs(sigmoid(m[i]) - fixture.probability[i])).toBeLessThan(1e-5);
    }
  });

  it('refuses a model whose input width is not the feature set’s, naming the field', () => {
    const res = importOnnxTreeModel(lgbBytes, { featureNames: CORE.slice(0, 20) });
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.problems).toContainEqual({
      field: 'graph.input[0].shape[1]',
      reason: 'the model takes 22 features, the feature set has 20',
    });
  });

  it('refuses feature names that differ from the set (order matters) and a foreign feature-set reference', () => {
    const model = randomEnsemble({
      seed: 3,
      objective: 'binary',
      nFeatures: 3,
      nTrees: 3,
      leaves: 4,
      thresholdPool: Float64Array.of(0, 1, 2),
    });
    const bytes = exportTreeEnsembleToOnnx(model, { featureSet: { name: 'core', version: 1 } });
    const ok = importOnnxTreeModel(bytes, {
      featureNames: ['f0', 'f1', 'f2'],
      featureSet: { name: 'core', version: 1 },
    });
    expect(ok.ok).toBe(true);
    const swapped = importOnnxTreeModel(bytes, {
      featureNames: ['f0', 'f2', 'f1'],
      featureSet: { name: 'core', version: 1 },
    });
    expect(swapped).toEqual({
      ok: false,
      problems: [
        { field: 'metadata_props.feature_names', reason: 'column 1 is "f1" in the model, "f2" in the feature set' },
      ],
    });
    const other = importOnnxTreeModel(bytes, {
      featureNames: ['f0', 'f1', 'f2'],
      featureSet: { name: 'core', version: 2 },
    });
    expect(other).toEqual({
      ok: false,
      problems: [{ field: 'metadata_props.strata.feature_set', reason: 'the model was built for core@1, not core@2' }],
    });
  });

  it('refuses non-tree models, symbolic feature dimensions, several inputs and garbage bytes', () => {
    const base = decodeModel(lgbBytes);
    const noTree = encodeModel({
      ...base,
      graph: { ...base.graph, node: base.graph!.node!.filter((n) => n.domain !== 'ai.onnx.ml') },
    });
    const r1 = importOnnxTreeModel(noTree, { featureNames: CORE });
    expect(r1.ok === false && r1.problems.map((p) => p.field)).toEqual(['graph.node']);

    const inp = base.graph!.input![0];
    const symbolic = encodeModel({
      ...base,
      graph: {
        ...base.graph,
        input: [
          { ...inp, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: 'N' }, { dim_param: 'F' }] } } } },
        ],
      },
    });
    const r2 = importOnnxTreeModel(symbolic, { featureNames: CORE });
    expect(r2.ok === false && r2.problems[0]).toEqual({
      field: 'graph.input[0].shape[1]',
      reason: 'the feature dimension must be fixed to 22, found F',
    });

    const two = encodeModel({ ...base, graph: { ...base.graph, input: [inp, { ...inp, name: 'extra' }] } });
    const r3 = importOnnxTreeModel(two, { featureNames: CORE });
    expect(r3.ok === false && r3.problems[0].field).toBe('graph.input');

    const ints = encodeModel({
      ...base,
      graph: {
        ...base.graph,
        input: [{ ...inp, type: { tensor_type: { elem_type: 7, shape: inp.type!.tensor_type!.shape } } }],
      },
    });
    const r4 = importOnnxTreeModel(ints, { featureNames: CORE });
    expect(r4.ok === false && r4.problems[0]).toEqual({
      field: 'graph.input[0].type.elem_type',
      reason: 'expected float (1) or double (11), found 7',
    });

    const r5 = importOnnxTreeModel(new Uint8Array([0xff, 0xff, 0xff, 0x01]), { featureNames: CORE });
    expect(r5.ok).toBe(false);
  });
});
