import { HMM_REGIME_LABELS } from '@strata/regime-contracts';

/**
 * Names a strategy may use in `{ regime: name }`: the regime service's HMM state names. The value at bar t is the
 * FILTERED probability of that state as of t (bars up to t only), read from the regime service's served history.
 */
export const REGIME_SOURCE_NAMES: readonly string[] = HMM_REGIME_LABELS;

/** One served regime point: bar time (epoch ms UTC) and its filtered probabilities by state name. */
export interface RegimeHistoryPoint {
  time: number;
  probabilities: Readonly<Partial<Record<string, number>>>;
}

/**
 * The `regime:<name>` external columns of a series, aligned to its bar times `ts`: at bar t, the probability of the
 * state in the latest served point at or before t (as of t: a point never depends on bars after its own time), NaN
 * before the first point and for a state the point's model does not have (a 2-state model has no `normal`).
 * `points` must be in ascending time.
 */
export function regimeColumns(
  ts: Float64Array,
  points: readonly RegimeHistoryPoint[],
  names: readonly string[],
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const name of names) out[`regime:${name}`] = new Float64Array(ts.length).fill(Number.NaN);
  let j = -1;
  for (let i = 0; i < ts.length; i++) {
    while (j + 1 < points.length && points[j + 1].time <= ts[i]) j++;
    if (j < 0) continue;
    for (const name of names) {
      const p = points[j].probabilities[name];
      if (p !== undefined) out[`regime:${name}`][i] = p;
    }
  }
  return out;
}
