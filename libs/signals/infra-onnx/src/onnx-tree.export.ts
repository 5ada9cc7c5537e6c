import { type Tree, type TreeEnsemble } from '@strata/signals-domain';
import {
  encodeModel,
  OnnxAttributeType,
  OnnxDataType,
  type AttributeMsg,
  type NodeMsg,
  type TensorMsg,
  type ValueInfoMsg,
} from './onnx-ml.schema';

/** Name of the one input tensor of exported models: `[N, nFeatures]`, row-major, NaN = missing. */
export const ONNX_INPUT_NAME = 'features';

/** `metadata_props` keys written by {@link exportTreeEnsembleToOnnx} and read back by the importer. */
export const OnnxMetadataKeys = {
  /** JSON array of the input column names, in order. */
  featureNames: 'strata.feature_names',
  /** `name@version` of the feature set the model was trained on, e.g. `core@1`. */
  featureSet: 'strata.feature_set',
  /** `binary` | `regression`. */
  objective: 'strata.objective',
  /** Registry model id. */
  modelId: 'strata.model_id',
  /** Base score (raw margin before any tree), decimal string of the double. */
  baseScore: 'strata.base_score',
} as const;

/** ONNX element type of the input tensor. `float64` keeps thresholds and inputs in double (parity to 1e-6). */
export type OnnxInputType = 'float64' | 'float32';

/** What goes into the exported model besides the trees. */
export interface OnnxExportOptions {
  /** Registry model id (metadata). */
  modelId?: string;
  /** Feature set `name` and `version` (metadata `strata.feature_set` = `name@version`). */
  featureSet?: { name: string; version: number };
  /** Input element type (default `float64`). */
  inputType?: OnnxInputType;
  /** Extra metadata properties (string values). */
  metadata?: Record<string, string>;
}

/** ai.onnx.ml opset the exporter targets: 3 is the first with the double-precision `*_as_tensor` attributes. */
export const ONNX_ML_OPSET = 3;
/** IR version written (ONNX 1.10+, supported by every onnxruntime ≥ 1.10). */
export const ONNX_IR_VERSION = 8;

const enc = new TextEncoder();
const str = (s: string): Uint8Array => enc.encode(s);

function ints(name: string, v: ArrayLike<number>): AttributeMsg {
  return { name, type: OnnxAttributeType.INTS, ints: Array.from(v) };
}
function strings(name: string, v: string[]): AttributeMsg {
  return { name, type: OnnxAttributeType.STRINGS, strings: v.map(str) };
}
function doubles(name: string, v: ArrayLike<number>): AttributeMsg {
  const t: TensorMsg = { dims: [v.length], data_type: OnnxDataType.DOUBLE, double_data: Array.from(v) };
  return { name, type: OnnxAttributeType.TENSOR, t };
}
function floats(name: string, v: ArrayLike<number>): AttributeMsg {
  return { name, type: OnnxAttributeType.FLOATS, floats: Array.from(v) };
}

/**
 * Flattened ONNX node arrays of an ensemble. Node ids per tree: internal node `n` → `n`, leaf `l` → `nInternal + l`
 * (a single-leaf tree is node 0, a LEAF).
 */
interface FlatNodes {
  treeIds: number[];
  nodeIds: number[];
  featureIds: number[];
  modes: string[];
  values: number[];
  trueIds: number[];
  falseIds: number[];
  missingTrue: number[];
  hitrates: number[];
  leafTree: number[];
  leafNode: number[];
  leafWeight: number[];
}

function flatten(trees: readonly Tree[]): FlatNodes {
  const f: FlatNodes = {
    treeIds: [],
    nodeIds: [],
    featureIds: [],
    modes: [],
    values: [],
    trueIds: [],
    falseIds: [],
    missingTrue: [],
    hitrates: [],
    leafTree: [],
    leafNode: [],
    leafWeight: [],
  };
  trees.forEach((t, ti) => {
    const nInt = t.splitFeature.length;
    const ref = (c: number): number => (c >= 0 ? c : nInt + ~c);
    for (let n = 0; n < nInt; n++) {
      f.treeIds.push(ti);
      f.nodeIds.push(n);
      f.featureIds.push(t.splitFeature[n]);
      f.modes.push('BRANCH_LEQ');
      f.values.push(t.threshold[n]);
      f.trueIds.push(ref(t.left[n]));
      f.falseIds.push(ref(t.right[n]));
      f.missingTrue.push(t.defaultLeft[n] === 1 ? 1 : 0);
      f.hitrates.push(t.internalCover[n]);
    }
    for (let l = 0; l < t.leafValue.length; l++) {
      f.treeIds.push(ti);
      f.nodeIds.push(nInt + l);
      f.featureIds.push(0);
      f.modes.push('LEAF');
      f.values.push(0);
      f.trueIds.push(0);
      f.falseIds.push(0);
      f.missingTrue.push(0);
      f.hitrates.push(t.leafCover[l]);
      f.leafTree.push(ti);
      f.leafNode.push(nInt + l);
      f.leafWeight.push(t.leafValue[l]);
    }
  });
  return f;
}

/**
 * Exports a tree ensemble as an ONNX model with one `ai.onnx.ml` node:
 * - `binary` → `TreeEnsembleClassifier`, labels {0, 1}, `post_transform = LOGISTIC`; every leaf weight goes to class
 *   id 0 with one `base_values` entry, which onnxruntime treats as the binary case: output `probabilities[:, 1]` =
 *   σ(baseScore + Σ leaf values), `probabilities[:, 0]` = 1 − that, `label` = 1 when the margin is > 0;
 * - `regression` → `TreeEnsembleRegressor`, `n_targets = 1`, `aggregate_function = SUM`, output `variable` [N, 1].
 * Splits are `BRANCH_LEQ` (go to the true branch when x ≤ threshold), `nodes_missing_value_tracks_true` carries the
 * learned default direction (NaN goes to the true = left branch when set). With `inputType: 'float64'` thresholds,
 * leaf weights and base score are written as double tensors (`*_as_tensor`, ai.onnx.ml opset 3), so the ONNX model
 * routes exactly as {@link predictMargin} does; node covers go to `nodes_hitrates_as_tensor` so TreeSHAP can run on
 * a re-imported model. Metadata: feature names (JSON), feature set, objective, model id, base score.
 */
export function exportTreeEnsembleToOnnx(model: TreeEnsemble, opts: OnnxExportOptions = {}): Uint8Array {
  const inputType = opts.inputType ?? 'float64';
  const d = model.featureNames.length;
  if (d === 0) throw new RangeError('a model needs at least one feature');
  for (const [ti, t] of model.trees.entries()) {
    for (let n = 0; n < t.splitFeature.length; n++) {
      if (t.splitFeature[n] < 0 || t.splitFeature[n] >= d)
        throw new RangeError(`tree ${ti} node ${n} splits on feature ${t.splitFeature[n]}, the model has ${d}`);
      if (!Number.isFinite(t.threshold[n])) throw new RangeError(`tree ${ti} node ${n} has a non-finite threshold`);
    }
  }
  const base = model.baseScore;
  const f = flatten(model.trees);
  const dbl = inputType === 'float64';
  const common: AttributeMsg[] = [
    ints('nodes_treeids', f.treeIds),
    ints('nodes_nodeids', f.nodeIds),
    ints('nodes_featureids', f.featureIds),
    strings('nodes_modes', f.modes),
    dbl ? doubles('nodes_values_as_tensor', f.values) : floats('nodes_values', f.values),
    ints('nodes_truenodeids', f.trueIds),
    ints('nodes_falsenodeids', f.falseIds),
    ints('nodes_missing_value_tracks_true', f.missingTrue),
    dbl ? doubles('nodes_hitrates_as_tensor', f.hitrates) : floats('nodes_hitrates', f.hitrates),
  ];
  let node: NodeMsg;
  let outputs: ValueInfoMsg[];
  if (model.objective === 'binary') {
    node = {
      input: [ONNX_INPUT_NAME],
      output: ['label', 'probabilities'],
      name: 'tree_ensemble',
      op_type: 'TreeEnsembleClassifier',
      domain: 'ai.onnx.ml',
      attribute: [
        ...common,
        ints('classlabels_int64s', [0, 1]),
        ints('class_treeids', f.leafTree),
        ints('class_nodeids', f.leafNode),
        ints('class_ids', new Array<number>(f.leafTree.length).fill(0)),
        dbl ? doubles('class_weights_as_tensor', f.leafWeight) : floats('class_weights', f.leafWeight),
        dbl ? doubles('base_values_as_tensor', [base]) : floats('base_values', [base]),
        { name: 'post_transform', type: OnnxAttributeType.STRING, s: str('LOGISTIC') },
      ],
    };
    outputs = [
      tensorInfo('label', OnnxDataType.INT64, ['N']),
      tensorInfo('probabilities', OnnxDataType.FLOAT, ['N', 2]),
    ];
  } else {
    node = {
      input: [ONNX_INPUT_NAME],
      output: ['variable'],
      name: 'tree_ensemble',
      op_type: 'TreeEnsembleRegressor',
      domain: 'ai.onnx.ml',
      attribute: [
        ...common,
        { name: 'n_targets', type: OnnxAttributeType.INT, i: 1 },
        ints('target_treeids', f.leafTree),
        ints('target_nodeids', f.leafNode),
        ints('target_ids', new Array<number>(f.leafTree.length).fill(0)),
        dbl ? doubles('target_weights_as_tensor', f.leafWeight) : floats('target_weights', f.leafWeight),
        dbl ? doubles('base_values_as_tensor', [base]) : floats('base_values', [base]),
        { name: 'aggregate_function', type: OnnxAttributeType.STRING, s: str('SUM') },
        { name: 'post_transform', type: OnnxAttributeType.STRING, s: str('NONE') },
      ],
    };
    outputs = [tensorInfo('variable', OnnxDataType.FLOAT, ['N', 1])];
  }
  const meta: Record<string, string> = {
    [OnnxMetadataKeys.featureNames]: JSON.stringify(model.featureNames),
    [OnnxMetadataKeys.objective]: model.objective,
    [OnnxMetadataKeys.baseScore]: String(model.baseScore),
    ...(opts.featureSet ? { [OnnxMetadataKeys.featureSet]: `${opts.featureSet.name}@${opts.featureSet.version}` } : {}),
    ...(opts.modelId ? { [OnnxMetadataKeys.modelId]: opts.modelId } : {}),
    ...(opts.metadata ?? {}),
  };
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    producer_name: 'strata',
    producer_version: '0.1.0',
    domain: 'dev.strata',
    model_version: 1,
    doc_string: `Strata ${model.objective} tree ensemble: ${model.trees.length} trees over ${d} features`,
    opset_import: [
      { domain: 'ai.onnx.ml', version: ONNX_ML_OPSET },
      { domain: '', version: 17 },
    ],
    graph: {
      name: 'strata_tree_ensemble',
      node: [node],
      input: [tensorInfo(ONNX_INPUT_NAME, dbl ? OnnxDataType.DOUBLE : OnnxDataType.FLOAT, ['N', d])],
      output: outputs,
    },
    metadata_props: Object.entries(meta).map(([key, value]) => ({ key, value })),
  });
}

function tensorInfo(name: string, elemType: number, shape: (string | number)[]): ValueInfoMsg {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: shape.map((s) => (typeof s === 'number' ? { dim_value: s } : { dim_param: s })) },
      },
    },
  };
}
