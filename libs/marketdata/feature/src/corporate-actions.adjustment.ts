import type { Adjustment, AdjustmentStep, BarColumns, CorporateAction } from '@strata/marketdata-contracts';

/** Epoch ms (UTC) of 00:00 on an ex-date `YYYY-MM-DD`: bars starting before this instant are adjusted. */
export function exDateInstant(exDate: string): number {
  return Date.parse(`${exDate}T00:00:00Z`);
}

/**
 * Adjustment steps of one series from its corporate actions (backward adjustment; the latest bars are never changed):
 *
 * - **Split** `newShares : oldShares` with ratio `r = newShares / oldShares` (7:1 → 7, a 1-for-10 reverse split →
 *   0.1): earlier prices ÷ r, earlier volume × r. Share count × price is preserved.
 * - **Dividend** `d` (cash per share as paid on the ex-date) with `P` the raw close of the series' last bar before the
 *   ex-date (`prevCloses[i]` for the i-th action): the CRSP factor `f = 1 − d / P`; earlier prices × f (÷ 1/f),
 *   volume unchanged. Only for `total`. A dividend with no earlier bar (`P` NaN) or with `d ≥ P` cannot be applied
 *   and is skipped (it would zero or negate prices); it is returned in `skipped`.
 *
 * `prevCloses` must be raw closes, aligned with `actions`; they are read only for dividends.
 */
export function adjustmentSteps(
  actions: readonly CorporateAction[],
  adjust: Adjustment,
  prevCloses: Float64Array | readonly number[],
): { steps: AdjustmentStep[]; skipped: CorporateAction[] } {
  const steps: AdjustmentStep[] = [];
  const skipped: CorporateAction[] = [];
  if (adjust === 'raw') return { steps, skipped };
  actions.forEach((a, i) => {
    const exTs = exDateInstant(a.exDate);
    if (a.kind === 'split') {
      const r = a.newShares / a.oldShares;
      steps.push({ exTs, priceDivisor: r, volumeMultiplier: r });
    } else if (adjust === 'total') {
      const p = prevCloses[i];
      if (!(p > 0) || !(a.amount < p)) {
        skipped.push(a);
        return;
      }
      steps.push({ exTs, priceDivisor: 1 / (1 - a.amount / p), volumeMultiplier: 1 });
    }
  });
  steps.sort((x, y) => x.exTs - y.exTs);
  return { steps, skipped };
}

/**
 * Cumulative factors per bar: `priceDivisor[i]` = product of the `priceDivisor`s of every step with `exTs > ts[i]`
 * (the same for volume). One backward pass over the bars and the (sorted) steps: O(bars + steps).
 * Bars must be in ascending time.
 */
export function cumulativeFactors(
  ts: Float64Array,
  length: number,
  steps: readonly AdjustmentStep[],
): { price: Float64Array; volume: Float64Array } {
  const price = new Float64Array(length);
  const volume = new Float64Array(length);
  let k = steps.length - 1;
  let p = 1;
  let v = 1;
  for (let i = length - 1; i >= 0; i--) {
    // Fold in every step whose ex-date is after this bar.
    while (k >= 0 && steps[k].exTs > ts[i]) {
      p *= steps[k].priceDivisor;
      v *= steps[k].volumeMultiplier;
      k--;
    }
    price[i] = p;
    volume[i] = v;
  }
  return { price, volume };
}

/**
 * Returns adjusted copies of `bars` (`raw` returns them unchanged): open, high, low and close divided by the
 * cumulative price divisor, volume multiplied by the cumulative volume multiplier (see {@link adjustmentSteps} and
 * {@link cumulativeFactors}). `adjClose` (the source's own adjusted close, if any) is passed through untouched.
 *
 * Formulas, for a bar at time t:
 * - split: `S(t) = Π r_k` over splits with ex-date > t; `price_adj = price / S(t)`, `volume_adj = volume × S(t)`;
 * - total: additionally `D(t) = Π (1 − d_k / P_k)` over dividends with ex-date > t; `price_adj = price / S(t) × D(t)`.
 */
export function adjustBars(bars: BarColumns, steps: readonly AdjustmentStep[]): BarColumns {
  if (steps.length === 0) return bars;
  const n = bars.length;
  const { price, volume } = cumulativeFactors(bars.ts, n, steps);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const vol = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = price[i];
    if (d === 1) {
      open[i] = bars.open[i];
      high[i] = bars.high[i];
      low[i] = bars.low[i];
      close[i] = bars.close[i];
    } else {
      open[i] = bars.open[i] / d;
      high[i] = bars.high[i] / d;
      low[i] = bars.low[i] / d;
      close[i] = bars.close[i] / d;
    }
    vol[i] = volume[i] === 1 ? bars.volume[i] : bars.volume[i] * volume[i];
  }
  return { length: n, ts: bars.ts, open, high, low, close, volume: vol, adjClose: bars.adjClose };
}
