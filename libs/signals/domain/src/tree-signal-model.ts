import type { SignalModel } from '@strata/backtests-contracts';
import { compileTreeEnsemble, type CompiledEnsemble } from './compiled-ensemble';
import { featureRows, type TreeEnsemble } from './tree-ensemble';

/**
 * Scores of a tree model per bar: the probability of the positive class (binary) or the prediction (regression).
 * NaN at bars where any input feature is NaN (warm-up): the model was trained on complete rows only, so a score
 * outside that domain would be invented. `column(name)` supplies each input feature's series (length `n`).
 */
export function signalModelScores(
  model: TreeEnsemble,
  column: (feature: string) => Float64Array,
  n: number,
): Float64Array {
  return scoreColumns(model, model.featureNames.map(column), n);
}

/**
 * A tree model as the backtest engine's {@link SignalModel} (the port of `@strata/backtests-contracts`): `score` reads
 * one column per name of `model.featureNames` and scores like {@link signalModelScores}.
 */
export function treeSignalModel(modelId: string, featureSet: string, model: TreeEnsemble): SignalModel {
  return {
    modelId,
    featureSet,
    featureNames: model.featureNames,
    score: (columns, n) => scoreColumns(model, columns, n),
  };
}

function scoreColumns(model: TreeEnsemble, columns: readonly Float64Array[], n: number): Float64Array {
  const { X, complete } = featureRows(columns, n);
  const out = compiled(model)(X, n);
  const binary = model.objective === 'binary';
  for (let i = 0; i < n; i++) out[i] = complete[i] === 0 ? NaN : binary ? 1 / (1 + Math.exp(-out[i])) : out[i];
  return out;
}

const compiledModels = new WeakMap<TreeEnsemble, CompiledEnsemble>();
/** The model compiled once (look-ahead re-runs and sweeps score the same model many times). */
function compiled(model: TreeEnsemble): CompiledEnsemble {
  let c = compiledModels.get(model);
  if (!c) compiledModels.set(model, (c = compileTreeEnsemble(model)));
  return c;
}
