import { fitLogisticRegression, predictLogistic } from './logistic-regression';

describe('fitLogisticRegression', () => {
  // x = +1: 3 ups, 1 down; x = −1: 1 up, 3 downs. Standardised x is x itself (mean 0, population std 1).
  const X = Float64Array.from([1, 1, 1, 1, -1, -1, -1, -1]);
  const y = [1, 1, 1, 0, 1, 0, 0, 0];

  it('without a penalty recovers the log-odds: b = 0, w = ln 3', () => {
    const m = fitLogisticRegression(X, 8, ['x'], y, { l2: 0 });
    expect(m.intercept).toBeCloseTo(0, 10);
    expect(m.coef[0]).toBeCloseTo(Math.log(3), 10);
    const p = predictLogistic(m, Float64Array.from([1, -1, NaN]), 3);
    expect(p[0]).toBeCloseTo(0.75, 10);
    expect(p[1]).toBeCloseTo(0.25, 10);
    expect(p[2]).toBeCloseTo(0.5, 10); // NaN → training mean 0
  });

  it('with λ solves the hand-derived stationarity condition 8σ(w) − 6 + λw = 0', () => {
    // ∂/∂w: Σ(p_i − y_i)x_i + λw = 4(σ(w) − ¾) − 4(σ(−w) − ¼) + λw = 8σ(w) − 6 + λw.
    const lambda = 2;
    const m = fitLogisticRegression(X, 8, ['x'], y, { l2: lambda });
    const w = m.coef[0];
    expect(8 / (1 + Math.exp(-w)) - 6 + lambda * w).toBeCloseTo(0, 10);
    expect(w).toBeGreaterThan(0);
    expect(w).toBeLessThan(Math.log(3));
  });

  it('gives a constant feature coefficient 0 and the base-rate intercept', () => {
    const m = fitLogisticRegression(Float64Array.from([5, 5, 5, 5]), 4, ['k'], [1, 0, 0, 0], { l2: 1 });
    expect(m.coef[0]).toBe(0);
    expect(m.intercept).toBeCloseTo(Math.log(1 / 3), 10);
  });
});
