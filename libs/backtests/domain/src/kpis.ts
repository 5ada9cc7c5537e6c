/*
 * Portfolio KPIs of an equity curve and its trades. Notation: equity E_0 … E_n at n + 1 instants (E_0 = the close of
 * the first instant, marked after its fills), period returns r_i = E_i / E_{i−1} − 1 (i = 1 … n), P = periods per year
 * (252 for daily US equities, 365 for a 24x7 market), rf = annual risk-free rate, rf_p = rf / P its per-period share.
 * Sample statistics use n − 1. A KPI that is undefined (no returns, zero variance, no losing trade, …) is null, never
 * NaN or Infinity.
 */

/** Inputs of {@link computeKpis}. */
export interface KpiInput {
  /** Equity per instant (account currency), ascending time. */
  equity: Float64Array;
  /** Instant times, epoch ms UTC (for drawdown durations in days). */
  ts: Float64Array;
  /** Instants with at least one open position at the close; `exposure` is null without it. */
  exposedSteps?: number;
  /** Σ over instants of gross exposure / equity (gross = Σ |quantity × close|); `averageGrossExposure` is null without it. */
  grossExposureSum?: number;
  /** Net pnl of each closed trade (account currency). */
  tradePnl: ArrayLike<number>;
  /** Return of each closed trade (pnl / entry notional). */
  tradeReturn: ArrayLike<number>;
  /** Σ |filled notional| over the run. */
  tradedNotional?: number;
  /** Benchmark close per instant (as of the instant; NaN before its first bar). Beta and alpha are null without it. */
  benchmark?: Float64Array | null;
  periodsPerYear: number;
  /** Annual risk-free rate, fraction (default 0). */
  riskFreeRate?: number;
}

/** The KPIs; see each field for its formula. */
export interface Kpis {
  /** E_n / E_0 − 1. */
  totalReturn: number | null;
  /** Compound annual growth: (E_n / E_0)^(P / n) − 1. */
  annualReturn: number | null;
  /** Annualised volatility: sampleStd(r) × √P. */
  volatility: number | null;
  /** (mean(r) − rf_p) / sampleStd(r) × √P. */
  sharpe: number | null;
  /**
   * (mean(r) − rf_p) / DD × √P with the downside deviation DD = √(Σ min(0, r_i − rf_p)² / n) (all n periods in the
   * denominator, Sortino & Price 1994).
   */
  sortino: number | null;
  /** annualReturn / maxDrawdown (over the whole run, not the classic trailing 36 months). */
  calmar: number | null;
  /** max_i (1 − E_i / max_{j ≤ i} E_j), a positive fraction (0.25 = −25 %). */
  maxDrawdown: number | null;
  /**
   * Longest drawdown, in periods: from a peak instant to the recovery instant (the first one back at or above the
   * peak), or to the last instant when equity never recovered. 0 when equity never fell below a peak.
   */
  maxDrawdownDurationPeriods: number;
  /** The same stretch in calendar days. */
  maxDrawdownDurationDays: number;
  /** Winning trades (pnl > 0) / closed trades. */
  winRate: number | null;
  /** Σ pnl of winners / |Σ pnl of losers| (null without a losing trade). */
  profitFactor: number | null;
  /** mean(trade pnl), account currency. */
  averageTrade: number | null;
  /** mean(trade return). */
  averageTradeReturn: number | null;
  /** Share of instants with at least one open position. */
  exposure: number | null;
  /** mean(gross_i / E_i). */
  averageGrossExposure: number | null;
  /** Annualised turnover: (Σ |filled notional| / mean(E)) × P / n (buys and sells both counted). */
  turnover: number | null;
  /** cov(r, b) / var(b) over periods where both returns exist (b = benchmark period returns). */
  beta: number | null;
  /** Jensen's alpha, annualised: (mean(r) − rf_p − β (mean(b) − rf_p)) × P, over the same periods. */
  alpha: number | null;
  periodsPerYear: number;
  /** n: number of period returns. */
  periods: number;
  trades: number;
}

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Computes {@link Kpis}; one pass per statistic, no allocation beyond the benchmark alignment. */
export function computeKpis(input: KpiInput): Kpis {
  const { equity, ts, periodsPerYear: P } = input;
  const rfP = (input.riskFreeRate ?? 0) / P;
  const N = equity.length;
  const n = Math.max(0, N - 1);

  // One pass: returns (one division each), their shifted sums for the variance (shifted by the first return, so
  // the cancellation in Σd² − (Σd)²/n stays small), the downside sum, drawdowns and the equity sum.
  let mean = NaN;
  let sd = NaN;
  let dd = NaN;
  let peak = N > 0 ? equity[0] : -Infinity;
  let peakIdx = 0;
  let maxDd = 0;
  let longest = 0;
  let longestDays = 0;
  let eqSum = N > 0 ? equity[0] : 0;
  const r0 = n > 0 ? equity[1] / equity[0] - 1 : 0;
  let sd1 = 0;
  let sd2 = 0;
  let down2 = 0;
  for (let i = 1; i < N; i++) {
    const e = equity[i];
    const x = e / equity[i - 1] - 1;
    const d = x - r0;
    sd1 += d;
    sd2 += d * d;
    const dn = x - rfP;
    if (dn < 0) down2 += dn * dn;
    eqSum += e;
    if (e >= peak) {
      if (peakIdx < i - 1) {
        // Recovery at i of a drawdown that started after the peak at peakIdx.
        const len = i - peakIdx;
        if (len > longest) {
          longest = len;
          longestDays = (ts[i] - ts[peakIdx]) / 86_400_000;
        }
      }
      peak = e;
      peakIdx = i;
    } else {
      const ddi = 1 - e / peak;
      if (ddi > maxDd) maxDd = ddi;
    }
  }
  if (N > 0 && equity[N - 1] < peak) {
    const len = N - 1 - peakIdx;
    if (len > longest) {
      longest = len;
      longestDays = (ts[N - 1] - ts[peakIdx]) / 86_400_000;
    }
  }
  if (n > 0) {
    mean = r0 + sd1 / n;
    sd = n > 1 ? Math.sqrt(Math.max(0, sd2 - (sd1 * sd1) / n) / (n - 1)) : NaN;
    dd = Math.sqrt(down2 / n);
  }
  const totalReturn = N > 0 ? equity[N - 1] / equity[0] - 1 : NaN;
  const annualReturn = n > 0 ? Math.pow(equity[N - 1] / equity[0], P / n) - 1 : NaN;

  // Trades.
  const m = input.tradePnl.length;
  let wins = 0;
  let grossWin = 0;
  let grossLoss = 0;
  let pnlSum = 0;
  let retSum = 0;
  for (let k = 0; k < m; k++) {
    const p = input.tradePnl[k];
    pnlSum += p;
    retSum += input.tradeReturn[k];
    if (p > 0) {
      wins++;
      grossWin += p;
    } else if (p < 0) grossLoss -= p;
  }

  // Exposure and turnover.
  let exposure = NaN;
  let avgGross = NaN;
  if (N > 0 && input.exposedSteps !== undefined) exposure = input.exposedSteps / N;
  if (N > 0 && input.grossExposureSum !== undefined) avgGross = input.grossExposureSum / N;
  let turnover = NaN;
  if (n > 0 && input.tradedNotional !== undefined) turnover = (input.tradedNotional / (eqSum / N)) * (P / n);

  // Beta and alpha over periods where both the strategy and the benchmark have a return.
  let beta = NaN;
  let alpha = NaN;
  const bm = input.benchmark;
  if (bm && bm.length === N) {
    let k = 0;
    let sr = 0;
    let sb = 0;
    for (let i = 1; i < N; i++) {
      if (bm[i] === bm[i] && bm[i - 1] === bm[i - 1]) {
        k++;
        sr += equity[i] / equity[i - 1] - 1;
        sb += bm[i] / bm[i - 1] - 1;
      }
    }
    if (k > 1) {
      const mr = sr / k;
      const mb = sb / k;
      let cov = 0;
      let vb = 0;
      for (let i = 1; i < N; i++) {
        if (bm[i] === bm[i] && bm[i - 1] === bm[i - 1]) {
          const x = equity[i] / equity[i - 1] - 1 - mr;
          const b = bm[i] / bm[i - 1] - 1 - mb;
          cov += x * b;
          vb += b * b;
        }
      }
      if (vb > 0) {
        beta = cov / vb;
        alpha = (mr - rfP - beta * (mb - rfP)) * P;
      }
    }
  }

  return {
    totalReturn: fin(totalReturn),
    annualReturn: fin(annualReturn),
    volatility: fin(sd * Math.sqrt(P)),
    sharpe: sd > 0 ? fin(((mean - rfP) / sd) * Math.sqrt(P)) : null,
    sortino: dd > 0 ? fin(((mean - rfP) / dd) * Math.sqrt(P)) : null,
    calmar: maxDd > 0 ? fin(annualReturn / maxDd) : null,
    maxDrawdown: N > 0 ? maxDd : null,
    maxDrawdownDurationPeriods: longest,
    maxDrawdownDurationDays: longestDays,
    winRate: m > 0 ? wins / m : null,
    profitFactor: grossLoss > 0 ? grossWin / grossLoss : null,
    averageTrade: m > 0 ? pnlSum / m : null,
    averageTradeReturn: m > 0 ? retSum / m : null,
    exposure: fin(exposure),
    averageGrossExposure: fin(avgGross),
    turnover: fin(turnover),
    beta: fin(beta),
    alpha: fin(alpha),
    periodsPerYear: P,
    periods: n,
    trades: m,
  };
}

/** Close of `bench` as of each instant of `timeline`: the last bench bar starting at or before it (NaN before the first). */
export function alignBenchmark(timeline: Float64Array, benchTs: Float64Array, benchClose: Float64Array): Float64Array {
  const out = new Float64Array(timeline.length);
  let j = -1;
  for (let i = 0; i < timeline.length; i++) {
    while (j + 1 < benchTs.length && benchTs[j + 1] <= timeline[i]) j++;
    out[i] = j >= 0 ? benchClose[j] : NaN;
  }
  return out;
}
