import { alignBenchmark, computeKpis } from './kpis';

const DAY = 86_400_000;
const days = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => Date.UTC(2024, 0, 1) + i * DAY);

describe('computeKpis — hand-computed small series', () => {
  // Equity 100 → 110 → 99 → 105.93: returns +10 %, −10 %, +7 %.
  const equity = Float64Array.from([100, 110, 99, 105.93]);
  const ts = days(4);
  const k = computeKpis({ equity, ts, tradePnl: [30, -10, 5], tradeReturn: [0.3, -0.1, 0.05], periodsPerYear: 4 });

  it('returns', () => {
    expect(k.totalReturn).toBeCloseTo(0.0593, 12);
    // (1.0593)^(4/3) − 1
    expect(k.annualReturn).toBeCloseTo(Math.pow(1.0593, 4 / 3) - 1, 12);
    expect(k.periods).toBe(3);
  });

  it('volatility, Sharpe and Sortino', () => {
    // r = 0.1, −0.1, 0.07; mean = 0.07/3 = 0.023333…; deviations 0.076667, −0.123333, 0.046667
    // Σd² = 0.0058778 + 0.0152111 + 0.0021778 = 0.0232667; sample var = 0.0116333; sd = 0.1078579
    const sd = Math.sqrt(0.0232666666666667 / 2);
    expect(k.volatility).toBeCloseTo(sd * 2, 9);
    expect(k.sharpe).toBeCloseTo((0.07 / 3 / sd) * 2, 9);
    // Downside deviation: only −0.1 below 0 → √(0.01 / 3)
    expect(k.sortino).toBeCloseTo((0.07 / 3 / Math.sqrt(0.01 / 3)) * 2, 9);
  });

  it('drawdown and Calmar', () => {
    // Peak 110, trough 99 → 10 %; not recovered (105.93 < 110): from the peak (index 1) to the end (index 3).
    expect(k.maxDrawdown).toBeCloseTo(0.1, 12);
    expect(k.maxDrawdownDurationPeriods).toBe(2);
    expect(k.maxDrawdownDurationDays).toBe(2);
    expect(k.calmar).toBeCloseTo((Math.pow(1.0593, 4 / 3) - 1) / 0.1, 9);
  });

  it('trade statistics', () => {
    expect(k.winRate).toBeCloseTo(2 / 3, 12);
    expect(k.profitFactor).toBeCloseTo(35 / 10, 12);
    expect(k.averageTrade).toBeCloseTo(25 / 3, 12);
    expect(k.averageTradeReturn).toBeCloseTo(0.25 / 3, 12);
    expect(k.trades).toBe(3);
  });

  it('exposure, turnover, beta and alpha', () => {
    const k2 = computeKpis({
      equity,
      ts,
      // Invested at instants 1 and 2 with gross / equity = 110/110 and 99/99.
      exposedSteps: 2,
      grossExposureSum: 110 / 110 + 99 / 99,
      tradePnl: [],
      tradeReturn: [],
      tradedNotional: 207.86,
      // Benchmark returns: +5 %, −5 %, +2 %.
      benchmark: Float64Array.from([200, 210, 199.5, 203.49]),
      periodsPerYear: 4,
      riskFreeRate: 0.04,
    });
    expect(k2.exposure).toBe(0.5);
    expect(k2.averageGrossExposure).toBeCloseTo((0 + 1 + 1 + 0) / 4, 12);
    // mean equity = (100 + 110 + 99 + 105.93)/4 = 103.7325; turnover = 207.86 / 103.7325 × 4 / 3
    expect(k2.turnover).toBeCloseTo((207.86 / 103.7325) * (4 / 3), 12);
    // r = (0.1, −0.1, 0.07), b = (0.05, −0.05, 0.02): mean r = 0.0233333, mean b = 0.0066667
    // cov ∝ Σ (r − r̄)(b − b̄) = 0.0766667·0.0433333 + (−0.1233333)(−0.0566667) + 0.0466667·0.0133333 = 0.0328/3
    // var ∝ Σ (b − b̄)² = 0.0018778 + 0.0032111 + 0.0001778 = 0.0158/3 → β = 328/158 = 164/79
    const rbar = 0.07 / 3;
    const bbar = 0.02 / 3;
    const cov = (0.1 - rbar) * (0.05 - bbar) + (-0.1 - rbar) * (-0.05 - bbar) + (0.07 - rbar) * (0.02 - bbar);
    const vb = (0.05 - bbar) ** 2 + (-0.05 - bbar) ** 2 + (0.02 - bbar) ** 2;
    expect(k2.beta).toBeCloseTo(cov / vb, 9);
    expect(k2.beta).toBeCloseTo(164 / 79, 9);
    const rf = 0.04 / 4;
    expect(k2.alpha).toBeCloseTo((rbar - rf - (cov / vb) * (bbar - rf)) * 4, 9);
  });

  it('undefined KPIs are null, not NaN or Infinity', () => {
    const flat = computeKpis({
      equity: Float64Array.from([100, 100, 100]),
      ts: days(3),
      tradePnl: [5],
      tradeReturn: [0.05],
      periodsPerYear: 252,
    });
    expect(flat.sharpe).toBeNull();
    expect(flat.sortino).toBeNull();
    expect(flat.calmar).toBeNull();
    expect(flat.profitFactor).toBeNull();
    expect(flat.maxDrawdown).toBe(0);
    expect(flat.beta).toBeNull();
    const empty = computeKpis({
      equity: new Float64Array(0),
      ts: new Float64Array(0),
      tradePnl: [],
      tradeReturn: [],
      periodsPerYear: 252,
    });
    expect(empty.totalReturn).toBeNull();
    expect(empty.winRate).toBeNull();
  });

  it('drawdown duration counts to the recovery instant', () => {
    // Peak at 0 (100), below at 1..2, back to 100 at 3; then a new shorter drawdown 4..5 recovered at 6.
    const e = Float64Array.from([100, 90, 95, 100, 120, 110, 125]);
    const k3 = computeKpis({ equity: e, ts: days(7), tradePnl: [], tradeReturn: [], periodsPerYear: 252 });
    expect(k3.maxDrawdownDurationPeriods).toBe(3);
    expect(k3.maxDrawdownDurationDays).toBe(3);
    expect(k3.maxDrawdown).toBeCloseTo(0.1, 12);
  });
});

/** Naive reference implementations written from the textbook formulas, independent of kpis.ts. */
const ref = {
  returns: (e: number[]) => e.slice(1).map((x, i) => x / e[i] - 1),
  mean: (x: number[]) => x.reduce((a, b) => a + b, 0) / x.length,
  sampleVar(x: number[]) {
    const m = ref.mean(x);
    return x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1);
  },
  maxDrawdown(e: number[]) {
    let best = 0;
    for (let i = 0; i < e.length; i++) for (let j = i + 1; j < e.length; j++) best = Math.max(best, 1 - e[j] / e[i]);
    return best;
  },
  longestUnderwater(e: number[]) {
    // For every instant i, the distance back to the most recent instant at which the running peak was set.
    let longest = 0;
    for (let i = 0; i < e.length; i++) {
      const peak = Math.max(...e.slice(0, i + 1));
      if (e[i] >= peak) continue;
      const peakIdx = e.slice(0, i + 1).lastIndexOf(peak);
      // Extend to the recovery instant if any.
      let end = e.length - 1;
      for (let j = i + 1; j < e.length; j++) {
        if (e[j] >= peak) {
          end = j;
          break;
        }
      }
      longest = Math.max(longest, end - peakIdx);
    }
    return longest;
  },
};

describe('computeKpis — against a naive reference on random series', () => {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let trial = 0; trial < 5; trial++) {
    it(`random walk #${trial}`, () => {
      const e = [1000];
      const b = [50];
      for (let i = 0; i < 300; i++) {
        const m = (rnd() - 0.5) * 0.04;
        e.push(e[e.length - 1] * (1 + m * 1.5 + (rnd() - 0.5) * 0.01));
        b.push(b[b.length - 1] * (1 + m));
      }
      const P = 252;
      const rf = 0.02;
      const k = computeKpis({
        equity: Float64Array.from(e),
        ts: days(e.length),
        tradePnl: [],
        tradeReturn: [],
        benchmark: Float64Array.from(b),
        periodsPerYear: P,
        riskFreeRate: rf,
      });
      const r = ref.returns(e);
      const rb = ref.returns(b);
      const sd = Math.sqrt(ref.sampleVar(r));
      expect(k.volatility).toBeCloseTo(sd * Math.sqrt(P), 10);
      expect(k.sharpe).toBeCloseTo(((ref.mean(r) - rf / P) / sd) * Math.sqrt(P), 8);
      const dd = Math.sqrt(r.reduce((a, x) => a + Math.min(0, x - rf / P) ** 2, 0) / r.length);
      expect(k.sortino).toBeCloseTo(((ref.mean(r) - rf / P) / dd) * Math.sqrt(P), 8);
      expect(k.maxDrawdown).toBeCloseTo(ref.maxDrawdown(e), 12);
      expect(k.maxDrawdownDurationPeriods).toBe(ref.longestUnderwater(e));
      const mr = ref.mean(r);
      const mb = ref.mean(rb);
      const cov = r.reduce((a, x, i) => a + (x - mr) * (rb[i] - mb), 0) / (r.length - 1);
      const beta = cov / ref.sampleVar(rb);
      expect(k.beta).toBeCloseTo(beta, 8);
      expect(k.alpha).toBeCloseTo((mr - rf / P - beta * (mb - rf / P)) * P, 8);
      expect(k.annualReturn).toBeCloseTo(Math.pow(e[e.length - 1] / e[0], P / r.length) - 1, 10);
    });
  }
});

describe('alignBenchmark', () => {
  it('takes the last benchmark bar at or before each instant, NaN before the first', () => {
    const tl = Float64Array.from([1, 2, 3, 5, 8]);
    const out = alignBenchmark(tl, Float64Array.from([2, 4, 8]), Float64Array.from([20, 40, 80]));
    expect(Array.from(out)).toEqual([NaN, 20, 20, 40, 80]);
  });
});
