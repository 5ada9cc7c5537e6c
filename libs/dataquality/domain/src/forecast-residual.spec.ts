import { intervalExcessScore, sesForecast } from './forecast-residual';

describe('intervalExcessScore', () => {
  it('is 0 inside the interval and 1 − e^(1−u) outside', () => {
    expect(intervalExcessScore(0.5, 1)).toBe(0);
    expect(intervalExcessScore(1, 1)).toBe(0);
    expect(intervalExcessScore(2, 1)).toBeCloseTo(1 - Math.exp(-1), 12); // 0.6321
    expect(intervalExcessScore(4, 1)).toBeCloseTo(0.9502129316, 9);
    expect(intervalExcessScore(1, 0)).toBe(0);
  });
});

describe('sesForecast', () => {
  it('matches a hand-worked simple exponential smoothing run', () => {
    // y = 1, 3, 2; α = 0.5: ℓ0 = 1; e1 = 2 → ℓ1 = 2; e2 = 0 → ℓ2 = 2; RMSE = √((4 + 0)/2) = √2.
    const out = sesForecast(Float64Array.from([9, 1, 3, 2]), 1, 4, 0.5, { level: 0, rmse: 0 });
    expect(out.level).toBe(2);
    expect(out.rmse).toBeCloseTo(Math.SQRT2, 12);
  });
});
