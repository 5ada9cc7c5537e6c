import {
  StrategyDefinitionV1Schema,
  type StrategyDefinition,
  type StrategyDefinitionInput,
} from '@strata/backtests-contracts';

/** A strategy template shipped with the platform. */
export interface StrategyTemplate {
  /** Stable identifier (`sma_crossover`). */
  name: string;
  title: string;
  description: string;
  definition: StrategyDefinition;
}

const close = { bar: 'close' } as const;
const sma = (param: string) => ({ indicator: 'sma', period: { param } }) as const;

const TEMPLATE_INPUTS: { name: string; title: string; description: string; definition: StrategyDefinitionInput }[] = [
  {
    name: 'sma_crossover',
    title: 'SMA crossover',
    description:
      'Long when the fast SMA of the close crosses above the slow SMA; flat when it crosses back below. 95 % of equity per position.',
    definition: {
      universe: { symbols: ['SPY'], timeframe: '1d', adjust: 'total', benchmark: 'SPY' },
      direction: 'long',
      params: { fast: 20, slow: 50 },
      entry: { long: { cross: 'above', left: sma('fast'), right: sma('slow') } },
      exit: { long: { cross: 'below', left: sma('fast'), right: sma('slow') } },
      sizing: { kind: 'fixed_fraction', fraction: 0.95 },
    },
  },
  {
    name: 'rsi_mean_reversion',
    title: 'RSI mean reversion',
    description:
      'Buys an oversold dip (core feature rsi_14 below `oversold`) in an up-trend (close above its `trend`-bar SMA); sells when rsi_14 recovers above `exit_level`. 10 % stop-loss.',
    definition: {
      universe: { symbols: ['SPY'], timeframe: '1d', adjust: 'total', benchmark: 'SPY' },
      direction: 'long',
      params: { oversold: 35, exit_level: 55, trend: 200 },
      entry: {
        long: {
          all: [
            { cmp: 'lt', left: { feature: 'rsi_14', set: 'core' }, right: { param: 'oversold' } },
            { cmp: 'gt', left: close, right: sma('trend') },
          ],
        },
      },
      exit: { long: { cmp: 'gt', left: { feature: 'rsi_14', set: 'core' }, right: { param: 'exit_level' } } },
      sizing: { kind: 'fixed_fraction', fraction: 0.95 },
      risk: { stopLoss: 0.1 },
    },
  },
  {
    name: 'donchian_breakout',
    title: 'Donchian breakout',
    description:
      'Turtle-style channel breakout, long and short: enter when the close breaks the highest high (lowest low) of the previous `entry` bars, leave on the opposite `exit`-bar channel. 20 % trailing stop.',
    definition: {
      universe: { symbols: ['SPY'], timeframe: '1d', adjust: 'total', benchmark: 'SPY' },
      direction: 'both',
      params: { entry: 55, exit: 20 },
      entry: {
        long: {
          cmp: 'gt',
          left: close,
          right: { ref: { indicator: 'highest', period: { param: 'entry' }, source: { bar: 'high' } }, bars: 1 },
        },
        short: {
          cmp: 'lt',
          left: close,
          right: { ref: { indicator: 'lowest', period: { param: 'entry' }, source: { bar: 'low' } }, bars: 1 },
        },
      },
      exit: {
        long: {
          cmp: 'lt',
          left: close,
          right: { ref: { indicator: 'lowest', period: { param: 'exit' }, source: { bar: 'low' } }, bars: 1 },
        },
        short: {
          cmp: 'gt',
          left: close,
          right: { ref: { indicator: 'highest', period: { param: 'exit' }, source: { bar: 'high' } }, bars: 1 },
        },
      },
      sizing: { kind: 'fixed_fraction', fraction: 0.9 },
      risk: { trailingStop: 0.2 },
    },
  },
  {
    name: 'vol_target_trend',
    title: 'Volatility-targeted trend',
    description:
      'Long while the close is above its `trend`-bar SMA and the 50-bar SMA is above it; each position sized to `annualVol` annualised volatility (20-bar realised), resized at the first bar of each week.',
    definition: {
      universe: { symbols: ['SPY'], timeframe: '1d', adjust: 'total', benchmark: 'SPY' },
      direction: 'long',
      params: { trend: 200, fast: 50 },
      entry: {
        long: {
          all: [
            { cmp: 'gt', left: close, right: sma('trend') },
            { cmp: 'gt', left: sma('fast'), right: sma('trend') },
          ],
        },
      },
      exit: { long: { cmp: 'lt', left: close, right: sma('trend') } },
      sizing: { kind: 'volatility_target', annualVol: 0.12, lookback: 20, maxWeight: 1 },
      rebalance: { every: 'week', resize: true, resizeThreshold: 0.1 },
    },
  },
  {
    name: 'ml_signal',
    title: 'ML signal threshold',
    description:
      "Long while the `champion` model's probability of a positive forward return is above `enter`; flat once it drops below `exit`. The model scores core features computed from bars up to each decision bar (no look-ahead); promote a model to `champion` first.",
    definition: {
      universe: { symbols: ['SPY'], timeframe: '1d', adjust: 'total', benchmark: 'SPY' },
      direction: 'long',
      params: { enter: 0.55, exit: 0.5 },
      entry: { long: { cmp: 'gt', left: { signal: 'champion' }, right: { param: 'enter' } } },
      exit: { long: { cmp: 'lt', left: { signal: 'champion' }, right: { param: 'exit' } } },
      sizing: { kind: 'fixed_fraction', fraction: 0.95 },
    },
  },
  {
    name: 'regime_filter',
    title: 'Regime-filtered trend',
    description:
      "SMA crossover traded only outside turbulence: long when the fast SMA crosses above the slow SMA while the regime service's filtered probability of the `turbulent` state is below `max_turbulent`; flat when the SMAs cross back or that probability rises above `exit_turbulent`. The probability at each bar uses bars up to it only (the regime's as-of history).",
    definition: {
      universe: { symbols: ['SPY'], timeframe: '1d', adjust: 'total', benchmark: 'SPY' },
      direction: 'long',
      params: { fast: 20, slow: 50, max_turbulent: 0.5, exit_turbulent: 0.8 },
      entry: {
        long: {
          all: [
            { cross: 'above', left: sma('fast'), right: sma('slow') },
            { cmp: 'lt', left: { regime: 'turbulent' }, right: { param: 'max_turbulent' } },
          ],
        },
      },
      exit: {
        long: {
          any: [
            { cross: 'below', left: sma('fast'), right: sma('slow') },
            { cmp: 'gt', left: { regime: 'turbulent' }, right: { param: 'exit_turbulent' } },
          ],
        },
      },
      sizing: { kind: 'fixed_fraction', fraction: 0.95 },
    },
  },
];

/** The templates, parsed (defaults applied) and frozen. */
export const STRATEGY_TEMPLATES: readonly StrategyTemplate[] = Object.freeze(
  TEMPLATE_INPUTS.map((t) => Object.freeze({ ...t, definition: StrategyDefinitionV1Schema.parse(t.definition) })),
);

/** A template by name, or undefined. */
export function strategyTemplate(name: string): StrategyTemplate | undefined {
  return STRATEGY_TEMPLATES.find((t) => t.name === name);
}

/**
 * A template's definition for other symbols and parameters. With several symbols, fixed-fraction sizing is divided
 * by their count (the template's fraction is for the whole book) and the benchmark is kept.
 */
export function instantiateTemplate(
  template: StrategyTemplate,
  opts: { symbols?: readonly string[]; params?: Readonly<Record<string, number>> } = {},
): StrategyDefinition {
  const d: StrategyDefinition = structuredClone(template.definition);
  if (opts.symbols?.length) {
    d.universe.symbols = [...opts.symbols];
    if (d.sizing.kind === 'fixed_fraction') d.sizing.fraction = d.sizing.fraction / opts.symbols.length;
  }
  if (opts.params) d.params = { ...d.params, ...opts.params };
  return StrategyDefinitionV1Schema.parse(d);
}
