import { type StrategyCondition, type StrategyDefinition, type StrategyValue } from '@strata/backtests-contracts';

// The regime source (`{ regime }` names and their as-of columns) sits beside the signal source it mirrors.
export * from './regime-series';

/**
 * Names a strategy may use in `{ signal: name }`: the model-registry aliases. Which model version holds an alias is
 * resolved when a backtest starts (and recorded in its result), so a definition stays valid across promotions.
 */
export const SIGNAL_MODEL_ALIASES = ['champion', 'challenger'] as const;

/** Every `{ signal }` name a definition references (entry and exit rules, both directions), deduplicated. */
export function signalNamesOf(definition: StrategyDefinition): string[] {
  return referencedNamesOf(definition, 'signal');
}

/** Every `{ regime }` name a definition references (entry and exit rules, both directions), deduplicated. */
export function regimeNamesOf(definition: StrategyDefinition): string[] {
  return referencedNamesOf(definition, 'regime');
}

/** Every name of one external source (`signal` or `regime`) a definition references, sorted and deduplicated. */
function referencedNamesOf(definition: StrategyDefinition, source: 'signal' | 'regime'): string[] {
  const names = new Set<string>();
  const value = (v: StrategyValue): void => {
    if (source === 'signal' && 'signal' in v) names.add(v.signal);
    else if (source === 'regime' && 'regime' in v) names.add(v.regime);
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
