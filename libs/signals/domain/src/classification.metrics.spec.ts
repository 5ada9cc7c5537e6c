import {
  accuracy,
  auc,
  averageRanks,
  brierScore,
  informationCoefficient,
  logLoss,
  signalMetrics,
} from './classification.metrics';

describe('classification metrics (hand-worked values)', () => {
  it('AUC counts correctly ordered positive/negative pairs, ties as ½', () => {
    // Pairs (pos, neg): (0.35,0.1) ✓ (0.35,0.4) ✗ (0.8,0.1) ✓ (0.8,0.4) ✓ → 3/4.
    expect(auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // (0.5,0.5) tie ½, (0.5,0.2) ✓, (0.9,0.5) ✓, (0.9,0.2) ✓ → 3.5/4.
    expect(auc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
    expect(auc([1, 1, 0], [0.3, 0.3, 0.3])).toBe(0.5);
    expect(auc([1, 1], [0.1, 0.2])).toBeNaN();
    expect(() => auc([2, 0], [0.1, 0.2])).toThrow(RangeError);
  });

  it('average ranks share ties', () => {
    expect(Array.from(averageRanks([10, 20, 10, 30]))).toEqual([1.5, 3, 1.5, 4]);
  });

  it('log loss, accuracy and Brier', () => {
    // −(ln 0.8 + ln 0.7)/2 = (0.2231435513 + 0.3566749439)/2
    expect(logLoss([1, 0], [0.8, 0.3])).toBeCloseTo(0.2899092476, 9);
    expect(logLoss([1], [0])).toBeCloseTo(-Math.log(1e-15), 6);
    expect(accuracy([1, 0, 1, 0], [0.8, 0.3, 0.4, 0.5])).toBe(0.5);
    expect(brierScore([1, 0], [0.8, 0.3])).toBeCloseTo((0.04 + 0.09) / 2, 15);
  });

  it('IC is the Spearman rank correlation, 1 − 6Σd²/(n(n²−1)) without ties', () => {
    // ranks of returns [1,3,2,4] vs [1,2,3,4]: Σd² = 2 → 1 − 12/60 = 0.8
    expect(informationCoefficient([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4])).toBeCloseTo(0.8, 14);
    expect(informationCoefficient([1, 2, 3, 4], [0.4, 0.3, 0.2, 0.1])).toBeCloseTo(-1, 14);
    // Ties: scores [1,1,2] → ranks [1.5,1.5,3]; returns [1,2,3]; Pearson of ranks = 0.8660254 (√3/2).
    expect(informationCoefficient([1, 1, 2], [1, 2, 3])).toBeCloseTo(Math.sqrt(3) / 2, 12);
    expect(signalMetrics([1, 0], [0.5, 0.5], [0.01, -0.01]).ic).toBeNaN();
  });
});
