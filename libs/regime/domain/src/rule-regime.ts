import { type RuleRegimeLabel } from '@strata/regime-contracts';

/** Options of {@link ruleRegimes}. */
export interface RuleRegimeOptions {
  /** Bars of the trend moving average. Default 200. */
  trendWindow?: number;
  /** Bars of the short realised volatility. Default 20. */
  volWindow?: number;
  /** Bars over which the median of the short realised volatility is taken. Default 252. */
  volMedianWindow?: number;
  /** Hysteresis of the trend, a fraction of the average: up above avg·(1+band), down below avg·(1−band). Default 0.01. */
  trendBand?: number;
  /** Hysteresis of the volatility, a fraction of the median: turbulent above med·(1+band), calm below med·(1−band). Default 0.1. */
  volBand?: number;
  /** Minimum bars a side stays before it may switch again. Default 5. */
  minStay?: number;
}

/** Rule regime per bar: null while a window is incomplete. Bar t uses closes up to t only. */
export interface RuleRegimes {
  labels: (RuleRegimeLabel | null)[];
  /** +1 up, −1 down, 0 not yet defined. */
  trend: Int8Array;
  /** 1 turbulent, 0 calm, −1 not yet defined. */
  turbulent: Int8Array;
}

/** A two-sided switch with hysteresis and a minimum stay (−1/+1 sides; 0 until the first defined value). */
class HysteresisSwitch {
  side = 0;
  private held = 0;
  constructor(private readonly minStay: number) {}
  update(initial: number, goUp: boolean, goDown: boolean): number {
    if (this.side === 0) {
      this.side = initial;
      this.held = 1;
      return this.side;
    }
    const want = goUp ? 1 : goDown ? -1 : this.side;
    if (want !== this.side && this.held >= this.minStay) {
      this.side = want;
      this.held = 1;
    } else this.held++;
    return this.side;
  }
}

/**
 * Rule regime: trend (close against its `trendWindow`-bar simple average) crossed with volatility (`volWindow`-bar
 * realised volatility, the root mean square of log returns, against its median over the last `volMedianWindow`
 * values), each side with a hysteresis band and a minimum stay. Point-in-time: bar t's label depends on closes
 * 0..t only. Throws RangeError on a non-positive or non-finite close.
 */
export function ruleRegimes(close: ArrayLike<number>, opts: RuleRegimeOptions = {}): RuleRegimes {
  const tw = opts.trendWindow ?? 200;
  const vw = opts.volWindow ?? 20;
  const mw = opts.volMedianWindow ?? 252;
  const tb = opts.trendBand ?? 0.01;
  const vb = opts.volBand ?? 0.1;
  const minStay = opts.minStay ?? 5;
  const n = close.length;
  for (let t = 0; t < n; t++)
    if (!(close[t] > 0) || !Number.isFinite(close[t]))
      throw new RangeError(`close at bar ${t} must be a positive finite price, got ${close[t]}`);
  const trend = new Int8Array(n);
  const turbulent = new Int8Array(n).fill(-1);
  const labels: (RuleRegimeLabel | null)[] = new Array(n).fill(null);
  const rv = new Float64Array(n).fill(Number.NaN);
  const trendSwitch = new HysteresisSwitch(minStay);
  const volSwitch = new HysteresisSwitch(minStay);
  let sum = 0;
  for (let t = 0; t < n; t++) {
    sum += close[t];
    if (t >= tw) sum -= close[t - tw];
    if (t >= tw - 1) {
      const avg = sum / tw;
      trend[t] = trendSwitch.update(close[t] >= avg ? 1 : -1, close[t] > avg * (1 + tb), close[t] < avg * (1 - tb));
    }
    if (t >= vw) {
      let ss = 0;
      for (let s = t - vw + 1; s <= t; s++) ss += Math.log(close[s] / close[s - 1]) ** 2;
      rv[t] = Math.sqrt(ss / vw);
    }
    if (t >= vw + mw - 1) {
      const win = Array.from(rv.subarray(t - mw + 1, t + 1)).sort((a, b) => a - b);
      const med = mw % 2 ? win[(mw - 1) / 2] : (win[mw / 2 - 1] + win[mw / 2]) / 2;
      const side = volSwitch.update(rv[t] > med ? 1 : -1, rv[t] > med * (1 + vb), rv[t] < med * (1 - vb));
      turbulent[t] = side > 0 ? 1 : 0;
    }
    if (trend[t] !== 0 && turbulent[t] >= 0)
      labels[t] = `${trend[t] > 0 ? 'up' : 'down'}_${turbulent[t] ? 'turbulent' : 'calm'}` as RuleRegimeLabel;
  }
  return { labels, trend, turbulent };
}
