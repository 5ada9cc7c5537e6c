import { StrategyCondition, StrategyDefinition, StrategyValue } from '@strata/backtests-contracts';
import { compileTreeEnsemble, featureRows, type CompiledEnsemble, type TreeEnsemble } from '@strata/signals-domain';

/**
 * Names a strategy may use in `{ signal: name }`: the model-registry aliases. Which model version holds an alias is
 * resolved when a backtest starts (and recorded in its result), so a definition stays valid across promotions.
 */
export const SIGNAL_MODEL_ALIASES = ['champion', 'challenger'] as const;

/**
 * A model behind a `{ signal: name }` reference. The engine computes the model's input features itself from the
 * strategy's own bars (the same kernels as the feature store), then scores them, so the series is point-in-time by
 * construction: the score at bar t reads features at t, which read bars ≤ t. The look-ahead check re-runs that whole
 * path on perturbed futures.
 */
export interface SignalModel {
  /** Registry id of the model version the name resolved to (recorded in the backtest result). */
  modelId: string;
  /** Feature set of the model's inputs; the engine computes `core` only. */
  featureSet: string;
  model: TreeEnsemble;
}

/**
 * Scores of a tree model per bar: the probability of the positive class (binary) or the prediction (regression).
 * NaN at bars where any input feature is NaN (warm-up): the model was trained on complete rows only, so a score
 * outside that domain would be invented. `column(name)` supplies each input feature's series (length `n`).
 */
export function signalModelScores(model: TreeEnsemble, column: (feature: string) => Float64Array, n: number): Float64Array {
  const { X, complete } = featureRows(model.featureNames.map(column), n);
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

/** Every `{ signal }` name a definition references (entry and exit rules, both directions), deduplicated. */
export function signalNamesOf(definition: StrategyDefinition): string[] {
  const names = new Set<string>();
  const value = (v: StrategyValue): void => {
    if ('signal' in v) names.add(v.signal);
    else if ('indicator' in v) {
      if (v.source) value(v.source);
    } else if ('ref' in v) value(v.ref);
    else if ('op' in v) {
      value(v.left);
      value(v.right);
    }
  };
  const condition = (c: StrategyCondition | undefined): void => {
    if (!c) return;
    if ('all' in c) c.all.forEach(condition);
    else if ('any' in c) c.any.forEach(condition);
    else if ('not' in c) condition(c.not);
    else {
      value(c.left);
      value(c.right);
    }
  };
  for (const side of [definition.entry, definition.exit]) {
    condition(side.long);
    condition(side.short);
  }
  return [...names].sort();
}
