import { type Tree, type TreeEnsemble, type TreeObjective } from '@strata/signals-domain';
import { OnnxMetadataKeys } from './onnx-tree.export';
import {
  decodeModel,
  OnnxDataType,
  type AttributeMsg,
  type ModelMsg,
  type NodeMsg,
  type TensorMsg,
} from './onnx-ml.schema';

/** One reason an ONNX model was refused: `field` names the part of the model (e.g. `graph.input[0].shape[1]`). */
export interface OnnxModelProblem {
  field: string;
  reason: string;
}

/** What the importer learnt about an accepted ONNX tree model. */
export interface OnnxTreeModelInfo {
  /** `TreeEnsembleClassifier` (binary) or `TreeEnsembleRegressor`. */
  operator: 'TreeEnsembleClassifier' | 'TreeEnsembleRegressor';
  objective: TreeObjective;
  /** Element type of the one input tensor. */
  inputType: 'float32' | 'float64';
  inputName: string;
  nFeatures: number;
  /** Input column names: from the model's metadata when present, else the expected feature set's. */
  featureNames: string[];
  /** True when the names came from the model's metadata (and matched). */
  featureNamesFromModel: boolean;
  /** Graph output holding the score and the column of it: probability of class 1 (binary) or the prediction. */
  scoreOutput: { name: string; column: number; width: number };
  nTrees: number;
  producer: string;
  metadata: Record<string, string>;
  /**
   * The model as a {@link TreeEnsemble} when it can be represented exactly (BRANCH_LEQ splits, one score per leaf);
   * null otherwise (it is still scored by onnxruntime). Covers are real only for Strata exports ({@link hasCover}).
   */
  ensemble: TreeEnsemble | null;
  /** The ensemble's node covers are training covers (TreeSHAP can run). */
  hasCover: boolean;
}

/** Result of {@link importOnnxTreeModel}: accepted with its info, or refused with every problem found. */
export type OnnxImportResult = { ok: true; info: OnnxTreeModelInfo } | { ok: false; problems: OnnxModelProblem[] };

/** What an imported model must fit: a feature-set version's columns (in order) and, optionally, its id. */
export interface OnnxImportExpectation {
  featureNames: readonly string[];
  /** `name` and `version` of the feature set; a model whose metadata names another set is refused. */
  featureSet?: { name: string; version: number };
}

const dec = new TextDecoder();
const TREE_OPS = new Set(['TreeEnsembleClassifier', 'TreeEnsembleRegressor']);

/**
 * Parses an ONNX model (protobuf bytes) holding one `ai.onnx.ml` tree-ensemble operator (Strata's own exports, or
 * external ones such as LightGBM / XGBoost converted with onnxmltools) and checks it against a feature-set version
 * BEFORE it is accepted: exactly one graph input, a float or double tensor of rank 2 whose second dimension is the
 * feature set's feature count; feature names in the metadata (`strata.feature_names`, or a comma-separated
 * `feature_names`) must equal the set's, in order; a feature-set reference in the metadata must match; no split
 * may use a column beyond the feature count; binary classifiers only. Every problem is reported, none is fixed up.
 */
export function importOnnxTreeModel(bytes: Uint8Array, expect: OnnxImportExpectation): OnnxImportResult {
  let model: ModelMsg;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    return { ok: false, problems: [{ field: 'model', reason: `not an ONNX protobuf: ${(e as Error).message}` }] };
  }
  const problems: OnnxModelProblem[] = [];
  const graph = model.graph;
  if (!graph) return { ok: false, problems: [{ field: 'graph', reason: 'the model has no graph' }] };
  const metadata: Record<string, string> = {};
  for (const p of model.metadata_props ?? []) metadata[p.key] = p.value;

  const initializers = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !initializers.has(i.name));
  const nExpected = expect.featureNames.length;
  let inputType: 'float32' | 'float64' = 'float32';
  let inputName = '';
  if (inputs.length !== 1)
    problems.push({
      field: 'graph.input',
      reason: `expected exactly one input tensor [N, ${nExpected}], found ${inputs.length}`,
    });
  else {
    const inp = inputs[0];
    inputName = inp.name;
    const tt = inp.type?.tensor_type;
    if (!tt) problems.push({ field: 'graph.input[0].type', reason: 'the input is not a tensor' });
    else {
      if (tt.elem_type === OnnxDataType.DOUBLE) inputType = 'float64';
      else if (tt.elem_type !== OnnxDataType.FLOAT)
        problems.push({
          field: 'graph.input[0].type.elem_type',
          reason: `expected float (1) or double (11), found ${tt.elem_type ?? 'none'}`,
        });
      const dims = tt.shape?.dim ?? [];
      if (dims.length !== 2)
        problems.push({
          field: 'graph.input[0].shape',
          reason: `expected rank 2 [N, ${nExpected}], found rank ${dims.length}`,
        });
      else if (dims[1].dim_value === undefined)
        problems.push({
          field: 'graph.input[0].shape[1]',
          reason: `the feature dimension must be fixed to ${nExpected}, found ${dims[1].dim_param ?? 'unknown'}`,
        });
      else if (Number(dims[1].dim_value) !== nExpected)
        problems.push({
          field: 'graph.input[0].shape[1]',
          reason: `the model takes ${dims[1].dim_value} features, the feature set has ${nExpected}`,
        });
    }
  }

  let featureNames = [...expect.featureNames];
  let featureNamesFromModel = false;
  const metaNames = metadata[OnnxMetadataKeys.featureNames] ?? metadata['feature_names'];
  if (metaNames !== undefined) {
    let names: unknown;
    try {
      names = metaNames.trim().startsWith('[') ? JSON.parse(metaNames) : metaNames.split(',').map((s) => s.trim());
    } catch {
      names = null;
    }
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string'))
      problems.push({ field: 'metadata_props.feature_names', reason: 'not a list of names' });
    else {
      const diff = firstDifference(names as string[], expect.featureNames);
      if (diff !== null) problems.push({ field: 'metadata_props.feature_names', reason: diff });
      else {
        featureNames = names as string[];
        featureNamesFromModel = true;
      }
    }
  }
  const metaSet = metadata[OnnxMetadataKeys.featureSet];
  if (
    metaSet !== undefined &&
    expect.featureSet &&
    metaSet !== `${expect.featureSet.name}@${expect.featureSet.version}`
  ) {
    problems.push({
      field: `metadata_props.${OnnxMetadataKeys.featureSet}`,
      reason: `the model was built for ${metaSet}, not ${expect.featureSet.name}@${expect.featureSet.version}`,
    });
  }

  const treeNodes = (graph.node ?? []).filter((n) => n.domain === 'ai.onnx.ml' && TREE_OPS.has(n.op_type));
  if (treeNodes.length !== 1) {
    problems.push({
      field: 'graph.node',
      reason: `expected exactly one ai.onnx.ml TreeEnsembleClassifier / TreeEnsembleRegressor node, found ${treeNodes.length}`,
    });
    return { ok: false, problems };
  }
  const node = treeNodes[0];
  const attrs = attributeMap(node);
  const operator = node.op_type as OnnxTreeModelInfo['operator'];
  const objective: TreeObjective = operator === 'TreeEnsembleClassifier' ? 'binary' : 'regression';
  if (inputName && node.input?.[0] !== inputName)
    problems.push({
      field: `graph.node[${node.name ?? operator}].input`,
      reason: 'the tree ensemble does not read the graph input directly',
    });
  if (operator === 'TreeEnsembleClassifier') {
    const labels = ints(attrs, 'classlabels_int64s') ?? [];
    const strLabels = attrs.get('classlabels_strings')?.strings ?? [];
    if (labels.length + strLabels.length !== 2)
      problems.push({
        field: 'attribute.classlabels',
        reason: `only binary classifiers are supported, found ${labels.length + strLabels.length} classes`,
      });
    const pt = str(attrs, 'post_transform') ?? 'NONE';
    if (pt !== 'LOGISTIC')
      problems.push({
        field: 'attribute.post_transform',
        reason: `a binary classifier must output probabilities (LOGISTIC), found ${pt}`,
      });
  } else {
    const nt = attrs.get('n_targets')?.i ?? 1;
    if (Number(nt) !== 1)
      problems.push({
        field: 'attribute.n_targets',
        reason: `only single-target regressors are supported, found ${nt}`,
      });
    const pt = str(attrs, 'post_transform') ?? 'NONE';
    if (pt !== 'NONE')
      problems.push({
        field: 'attribute.post_transform',
        reason: `a regressor must have post_transform NONE, found ${pt}`,
      });
  }
  const featureIds = ints(attrs, 'nodes_featureids') ?? [];
  const modes = (attrs.get('nodes_modes')?.strings ?? []).map((b) => dec.decode(b));
  for (let i = 0; i < featureIds.length; i++) {
    if (modes[i] !== 'LEAF' && (featureIds[i] < 0 || featureIds[i] >= nExpected)) {
      problems.push({
        field: `attribute.nodes_featureids[${i}]`,
        reason: `splits on column ${featureIds[i]}, the feature set has ${nExpected}`,
      });
      break;
    }
  }

  // The score output: the graph output fed (possibly through Identity / Cast / Mul-by-one nodes) by the tree node's
  // probabilities (classifier, 2nd output) or its predictions (regressor).
  const outNames = (graph.output ?? []).map((o) => o.name);
  const scoreName =
    objective === 'binary'
      ? outNames.includes('probabilities')
        ? 'probabilities'
        : node.output?.[1]
      : outNames.includes('variable')
        ? 'variable'
        : node.output?.[0];
  if (!scoreName || !outNames.includes(scoreName))
    problems.push({
      field: 'graph.output',
      reason: `no graph output carries the ${objective === 'binary' ? 'probabilities' : 'predictions'}`,
    });

  if (problems.length) return { ok: false, problems };
  const { ensemble, reason } = toEnsemble(attrs, objective, featureNames);
  const hasCover = ensemble !== null && model.producer_name === 'strata';
  void reason;
  return {
    ok: true,
    info: {
      operator,
      objective,
      inputType,
      inputName,
      nFeatures: nExpected,
      featureNames,
      featureNamesFromModel,
      scoreOutput: { name: scoreName!, column: objective === 'binary' ? 1 : 0, width: objective === 'binary' ? 2 : 1 },
      nTrees: new Set(ints(attrs, 'nodes_treeids') ?? []).size,
      producer: `${model.producer_name ?? 'unknown'} ${model.producer_version ?? ''}`.trim(),
      metadata,
      ensemble,
      hasCover,
    },
  };
}

function firstDifference(got: readonly string[], want: readonly string[]): string | null {
  if (got.length !== want.length) return `the model names ${got.length} features, the feature set has ${want.length}`;
  for (let i = 0; i < want.length; i++)
    if (got[i] !== want[i])
      return `column ${i} is ${JSON.stringify(got[i])} in the model, ${JSON.stringify(want[i])} in the feature set`;
  return null;
}

function attributeMap(node: NodeMsg): Map<string, AttributeMsg> {
  return new Map((node.attribute ?? []).map((a) => [a.name, a]));
}
function ints(attrs: Map<string, AttributeMsg>, name: string): number[] | undefined {
  const a = attrs.get(name);
  return a?.ints?.map(Number);
}
function str(attrs: Map<string, AttributeMsg>, name: string): string | undefined {
  const a = attrs.get(name);
  return a?.s ? dec.decode(a.s) : undefined;
}
function tensorValues(t: TensorMsg): number[] {
  if (t.double_data?.length) return t.double_data;
  if (t.float_data?.length) return t.float_data;
  if (t.raw_data?.length) {
    const raw = t.raw_data;
    const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength);
    return Array.from(t.data_type === OnnxDataType.DOUBLE ? new Float64Array(buf) : new Float32Array(buf));
  }
  return [];
}
/** Values of `<name>_as_tensor` (double) when present, else of the float list `<name>`. */
function reals(attrs: Map<string, AttributeMsg>, name: string): number[] | undefined {
  const t = attrs.get(`${name}_as_tensor`)?.t;
  if (t) return tensorValues(t);
  return attrs.get(name)?.floats;
}

/**
 * The tree node's attributes as a {@link TreeEnsemble}: internal nodes renumbered breadth-first from each tree's root,
 * leaves in the order reached. Null (with the reason) when the model uses anything but BRANCH_LEQ splits or scores
 * more than one class.
 */
function toEnsemble(
  attrs: Map<string, AttributeMsg>,
  objective: TreeObjective,
  featureNames: string[],
): { ensemble: TreeEnsemble | null; reason?: string } {
  const pre = objective === 'binary' ? 'class' : 'target';
  const treeIds = ints(attrs, 'nodes_treeids') ?? [];
  const nodeIds = ints(attrs, 'nodes_nodeids') ?? [];
  const featureIds = ints(attrs, 'nodes_featureids') ?? [];
  const modes = (attrs.get('nodes_modes')?.strings ?? []).map((b) => dec.decode(b));
  const values = reals(attrs, 'nodes_values') ?? [];
  const trueIds = ints(attrs, 'nodes_truenodeids') ?? [];
  const falseIds = ints(attrs, 'nodes_falsenodeids') ?? [];
  const missing = ints(attrs, 'nodes_missing_value_tracks_true') ?? [];
  const hit = reals(attrs, 'nodes_hitrates') ?? [];
  const wTree = ints(attrs, `${pre}_treeids`) ?? [];
  const wNode = ints(attrs, `${pre}_nodeids`) ?? [];
  const wIds = ints(attrs, `${pre}_ids`) ?? [];
  const w = reals(attrs, `${pre}_weights`) ?? [];
  const base = reals(attrs, 'base_values') ?? [];
  if (new Set(wIds).size > 1) return { ensemble: null, reason: 'leaf weights for more than one class' };
  if (base.length > 1) return { ensemble: null, reason: 'more than one base value' };
  for (const m of modes) if (m !== 'LEAF' && m !== 'BRANCH_LEQ') return { ensemble: null, reason: `split mode ${m}` };

  const key = (t: number, n: number): string => `${t}:${n}`;
  const at = new Map<string, number>();
  for (let i = 0; i < treeIds.length; i++) at.set(key(treeIds[i], nodeIds[i]), i);
  const weight = new Map<string, number>();
  for (let i = 0; i < wTree.length; i++)
    weight.set(key(wTree[i], wNode[i]), (weight.get(key(wTree[i], wNode[i])) ?? 0) + w[i]);
  const treeOrder = [...new Set(treeIds)].sort((a, b) => a - b);
  const trees: Tree[] = [];
  for (const t of treeOrder) {
    // Root: the node of this tree no other node points to.
    const children = new Set<number>();
    for (let i = 0; i < treeIds.length; i++)
      if (treeIds[i] === t && modes[i] !== 'LEAF') children.add(trueIds[i]).add(falseIds[i]);
    let root = -1;
    for (let i = 0; i < treeIds.length; i++) if (treeIds[i] === t && !children.has(nodeIds[i])) root = nodeIds[i];
    if (root < 0) return { ensemble: null, reason: `tree ${t} has no root` };
    const internal: number[] = [];
    const leaves: number[] = [];
    const ref = new Map<number, number>();
    const queue = [root];
    while (queue.length) {
      const id = queue.shift()!;
      const i = at.get(key(t, id));
      if (i === undefined) return { ensemble: null, reason: `tree ${t} references missing node ${id}` };
      if (modes[i] === 'LEAF') {
        ref.set(id, ~leaves.length);
        leaves.push(i);
      } else {
        ref.set(id, internal.length);
        internal.push(i);
        queue.push(trueIds[i], falseIds[i]);
      }
    }
    const nI = internal.length;
    const tree: Tree = {
      splitFeature: new Int32Array(nI),
      threshold: new Float64Array(nI),
      defaultLeft: new Uint8Array(nI),
      left: new Int32Array(nI),
      right: new Int32Array(nI),
      gain: new Float64Array(nI),
      internalCover: new Float64Array(nI),
      leafValue: new Float64Array(leaves.length),
      leafCover: new Float64Array(leaves.length),
    };
    internal.forEach((i, n) => {
      tree.splitFeature[n] = featureIds[i];
      tree.threshold[n] = values[i];
      tree.defaultLeft[n] = missing[i] === 1 ? 1 : 0;
      tree.left[n] = ref.get(trueIds[i])!;
      tree.right[n] = ref.get(falseIds[i])!;
      tree.internalCover[n] = hit[i] ?? 0;
    });
    leaves.forEach((i, l) => {
      tree.leafValue[l] = weight.get(key(t, nodeIds[i])) ?? 0;
      tree.leafCover[l] = hit[i] ?? 0;
    });
    trees.push(tree);
  }
  return { ensemble: { objective, featureNames, baseScore: base[0] ?? 0, trees } };
}
