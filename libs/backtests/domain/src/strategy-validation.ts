import {
  type StrategyCondition,
  type StrategyDefinition,
  type StrategyPeriod,
  type StrategyValue,
} from '@strata/backtests-contracts';
import { CORE_V1_FEATURE_NAMES, CORE_V2_FEATURE_NAMES, FEATURE_SET_CORE_V1 } from '@strata/shared-indicators';
import { REGIME_SOURCE_NAMES } from './regime-series';
import { SIGNAL_MODEL_ALIASES } from './signal-models';

/**
 * What a strategy may reference besides bars and indicators: feature sets with their feature names, ML signals and
 * regimes. A reference to anything else is refused ({@link validateStrategyDefinition}).
 */
export interface StrategyCatalog {
  /** Feature-set name → its feature names (`core` → `rsi_14`, …). */
  featureSets: Readonly<Record<string, readonly string[]>>;
  /** ML signal names a definition may reference (model-registry aliases, resolved when a backtest starts). */
  signals: readonly string[];
  /** Regime state names a definition may reference (`{ regime: 'turbulent' }`: that state's filtered probability). */
  regimes: readonly string[];
}

/**
 * How the engine names the `core` versions it computes: `core` is v1 (the name strategies have always used),
 * `core@v2` is v2 (the scale-free, point-in-time version new models train on).
 */
export const CORE_SET_NAMES: Readonly<Record<string, number>> = Object.freeze({
  [FEATURE_SET_CORE_V1.name]: 1,
  [`${FEATURE_SET_CORE_V1.name}@v2`]: 2,
});

/** The `core` version a feature-set name of a strategy or signal model denotes (undefined: not one the engine computes). */
export function coreVersionOfSet(set: string): number | undefined {
  return Object.hasOwn(CORE_SET_NAMES, set) ? CORE_SET_NAMES[set] : undefined;
}

/**
 * The catalog the engine can compute by itself: the `core` v1 (`core`) and v2 (`core@v2`) feature sets and ML signals
 * by model alias (scored on the fly from core features) and regimes by state name (the regime service's as-of
 * history, read when a backtest starts).
 */
export const DEFAULT_STRATEGY_CATALOG: StrategyCatalog = Object.freeze({
  featureSets: Object.freeze({
    [FEATURE_SET_CORE_V1.name]: CORE_V1_FEATURE_NAMES,
    [`${FEATURE_SET_CORE_V1.name}@v2`]: CORE_V2_FEATURE_NAMES,
  }),
  signals: SIGNAL_MODEL_ALIASES,
  regimes: REGIME_SOURCE_NAMES,
});

/** Stable reason codes of {@link StrategyIssue}. */
export type StrategyIssueReason =
  | 'future_reference'
  | 'unknown_feature'
  | 'unknown_feature_set'
  | 'unknown_signal'
  | 'unknown_regime'
  | 'unknown_param'
  | 'invalid_param_value'
  | 'source_not_allowed'
  | 'missing_entry_rule'
  | 'rule_for_disabled_direction';

/** One problem of a definition: dotted path inside the definition, reason code, human message. */
export interface StrategyIssue {
  path: string;
  reason: StrategyIssueReason;
  message: string;
}

/** Thrown by the compiler for a definition with issues (the REST layer validates first and answers 422). */
export class StrategyDefinitionError extends Error {
  constructor(readonly issues: StrategyIssue[]) {
    super(`invalid strategy definition: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'StrategyDefinitionError';
  }
}

const NO_SOURCE = new Set(['atr', 'rv']);
const MIN_PERIOD: Record<string, number> = { rsi: 2, rv: 2, stdev: 1, zscore: 2 };

/**
 * Checks what the schema cannot: look-ahead (`ref` with negative `bars`: a future bar), references to unknown
 * features, feature sets, signals, regimes and parameters, parameter values used as periods, sources given to
 * indicators that take none, and entry rules matching the direction. Returns every issue (empty = valid).
 * `params` are overrides on top of `definition.params`.
 */
export function validateStrategyDefinition(
  definition: StrategyDefinition,
  catalog: StrategyCatalog = DEFAULT_STRATEGY_CATALOG,
  params: Readonly<Record<string, number>> = {},
): StrategyIssue[] {
  const issues: StrategyIssue[] = [];
  const values = { ...definition.params, ...params };
  for (const name of Object.keys(params)) {
    if (!(name in definition.params))
      issues.push({
        path: `params.${name}`,
        reason: 'unknown_param',
        message: `parameter ${name} is not declared in the definition's params`,
      });
  }

  const period = (p: StrategyPeriod, path: string, min: number): void => {
    if (typeof p === 'number') {
      if (p < min) issues.push({ path, reason: 'invalid_param_value', message: `period must be ≥ ${min}` });
      return;
    }
    const v = values[p.param];
    if (v === undefined)
      issues.push({
        path: `${path}.param`,
        reason: 'unknown_param',
        message: `parameter ${p.param} is not defined in params`,
      });
    else if (!Number.isInteger(v) || v < min)
      issues.push({
        path: `${path}.param`,
        reason: 'invalid_param_value',
        message: `parameter ${p.param} = ${v} is used as a period and must be an integer ≥ ${min}`,
      });
  };

  const value = (v: StrategyValue, path: string): void => {
    if ('const' in v || 'bar' in v) return;
    if ('param' in v) {
      if (values[v.param] === undefined)
        issues.push({
          path: `${path}.param`,
          reason: 'unknown_param',
          message: `parameter ${v.param} is not defined in params`,
        });
      return;
    }
    if ('feature' in v) {
      const set = v.set ?? 'core';
      const names = catalog.featureSets[set];
      if (!names)
        issues.push({
          path: `${path}.set`,
          reason: 'unknown_feature_set',
          message: `no feature set named ${set} (known: ${Object.keys(catalog.featureSets).join(', ') || 'none'})`,
        });
      else if (!names.includes(v.feature))
        issues.push({
          path: `${path}.feature`,
          reason: 'unknown_feature',
          message: `feature set ${set} has no feature ${v.feature}`,
        });
      return;
    }
    if ('signal' in v) {
      if (!catalog.signals.includes(v.signal))
        issues.push({
          path: `${path}.signal`,
          reason: 'unknown_signal',
          message: `no ML signal named ${v.signal} (signals are model aliases: ${catalog.signals.join(', ') || 'none'})`,
        });
      return;
    }
    if ('regime' in v) {
      if (!catalog.regimes.includes(v.regime))
        issues.push({
          path: `${path}.regime`,
          reason: 'unknown_regime',
          message: `no regime model named ${v.regime} is registered`,
        });
      return;
    }
    if ('indicator' in v) {
      period(v.period, `${path}.period`, MIN_PERIOD[v.indicator] ?? 1);
      if (v.source !== undefined) {
        if (NO_SOURCE.has(v.indicator))
          issues.push({
            path: `${path}.source`,
            reason: 'source_not_allowed',
            message: `${v.indicator} is computed from the bars and takes no source`,
          });
        else value(v.source, `${path}.source`);
      }
      return;
    }
    if ('ref' in v) {
      if (v.bars < 0) {
        issues.push({
          path: `${path}.bars`,
          reason: 'future_reference',
          message: `ref reads ${-v.bars} bar(s) into the future (bars = ${v.bars}); only bars ≥ 0 (the current or an earlier bar) are allowed`,
        });
      }
      value(v.ref, `${path}.ref`);
      return;
    }
    value(v.left, `${path}.left`);
    value(v.right, `${path}.right`);
  };

  const condition = (c: StrategyCondition, path: string): void => {
    if ('all' in c) c.all.forEach((x, i) => condition(x, `${path}.all.${i}`));
    else if ('any' in c) c.any.forEach((x, i) => condition(x, `${path}.any.${i}`));
    else if ('not' in c) condition(c.not, `${path}.not`);
    else {
      value(c.left, `${path}.left`);
      value(c.right, `${path}.right`);
    }
  };

  const { direction } = definition;
  const wantsLong = direction !== 'short';
  const wantsShort = direction !== 'long';
  for (const side of ['long', 'short'] as const) {
    const wanted = side === 'long' ? wantsLong : wantsShort;
    const entry = definition.entry[side];
    const exit = definition.exit[side];
    if (wanted && !entry)
      issues.push({
        path: `entry.${side}`,
        reason: 'missing_entry_rule',
        message: `direction ${direction} needs an entry.${side} rule`,
      });
    if (!wanted && entry)
      issues.push({
        path: `entry.${side}`,
        reason: 'rule_for_disabled_direction',
        message: `entry.${side} is set but direction is ${direction}`,
      });
    if (!wanted && exit)
      issues.push({
        path: `exit.${side}`,
        reason: 'rule_for_disabled_direction',
        message: `exit.${side} is set but direction is ${direction}`,
      });
    if (entry) condition(entry, `entry.${side}`);
    if (exit) condition(exit, `exit.${side}`);
  }
  if (definition.sizing.kind === 'volatility_target' && definition.sizing.lookback < 2) {
    issues.push({ path: 'sizing.lookback', reason: 'invalid_param_value', message: 'lookback must be ≥ 2' });
  }
  return issues;
}
