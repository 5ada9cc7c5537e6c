import { z } from 'zod';

/** Names of the HMM regime states, lowest volatility first. A 2-state model uses `calm` and `turbulent`. */
export const HMM_REGIME_LABELS = ['calm', 'normal', 'turbulent'] as const;
/** Name of an HMM regime state; served labels are always names, never state numbers. */
export const HmmRegimeLabelSchema = z.enum(HMM_REGIME_LABELS);
/** Name of an HMM regime state. */
export type HmmRegimeLabel = z.infer<typeof HmmRegimeLabelSchema>;

/** Trend side of the rule regime: close above (`up`) or below (`down`) its long moving average, with hysteresis. */
export const RULE_TREND_LABELS = ['up', 'down'] as const;
/** Volatility side of the rule regime: short realised volatility below (`calm`) or above (`turbulent`) its long median. */
export const RULE_VOL_LABELS = ['calm', 'turbulent'] as const;
/** Label of the rule regime: `<trend>_<volatility>`, e.g. `up_calm`. */
export const RULE_REGIME_LABELS = ['up_calm', 'up_turbulent', 'down_calm', 'down_turbulent'] as const;
/** Label of the rule regime. */
export const RuleRegimeLabelSchema = z.enum(RULE_REGIME_LABELS);
/** Label of the rule regime. */
export type RuleRegimeLabel = z.infer<typeof RuleRegimeLabelSchema>;
