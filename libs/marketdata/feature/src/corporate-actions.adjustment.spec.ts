import { type CorporateAction, type BarColumns } from '@strata/marketdata-contracts';
import { adjustBars, adjustmentSteps, cumulativeFactors, exDateInstant } from './corporate-actions.adjustment';

const day = (d: string) => Date.parse(`${d}T00:00:00Z`);

function series(dates: string[], close: number[], volume: number[]): BarColumns {
  const n = dates.length;
  const c = Float64Array.from(close);
  return {
    length: n,
    ts: Float64Array.from(dates.map(day)),
    open: c.map((x) => x - 1),
    high: c.map((x) => x + 2),
    low: c.map((x) => x - 2),
    close: c,
    volume: Float64Array.from(volume),
    adjClose: null,
  };
}

describe('corporate-action adjustment (hand-computed)', () => {
  const dates = ['2020-01-02', '2020-01-03', '2020-01-06', '2020-01-07', '2020-01-08'];
  const bars = series(dates, [100, 102, 51, 52, 53], [1000, 1100, 2400, 2500, 2600]);
  const split: CorporateAction = { kind: 'split', symbol: 'X', exDate: '2020-01-06', newShares: 2, oldShares: 1 };
  const div: CorporateAction = { kind: 'dividend', symbol: 'X', exDate: '2020-01-03', amount: 1.02 };

  it('split: prices before the ex-date ÷ ratio, volume × ratio, later bars untouched', () => {
    const { steps } = adjustmentSteps([split, div], 'split', [NaN, 100]);
    const a = adjustBars(bars, steps);
    expect(Array.from(a.close)).toEqual([50, 51, 51, 52, 53]);
    expect(Array.from(a.open)).toEqual([49.5, 50.5, 50, 51, 52]);
    expect(Array.from(a.high)).toEqual([51, 52, 53, 54, 55]);
    expect(Array.from(a.volume)).toEqual([2000, 2200, 2400, 2500, 2600]);
  });

  it('total: also × (1 − d / prevClose) before a dividend ex-date (CRSP), volume not dividend-adjusted', () => {
    // prevClose of the 2020-01-03 dividend is the 2020-01-02 close, 100: f = 1 − 1.02/100 = 0.9898.
    const { steps, skipped } = adjustmentSteps([div, split], 'total', [100, NaN]);
    expect(skipped).toEqual([]);
    const a = adjustBars(bars, steps);
    expect(a.close[0]).toBeCloseTo((100 / 2) * 0.9898, 12); // 49.49
    expect(a.close[0]).toBeCloseTo(49.49, 12);
    expect(a.close[1]).toBe(51);
    expect(a.close[2]).toBe(51);
    expect(Array.from(a.volume)).toEqual([2000, 2200, 2400, 2500, 2600]);
    // The multiplicative factor makes the return over the ex-date P1 / (P0 − d) − 1 = 102 / 98.98 − 1.
    expect(a.close[1] / a.close[0] - 1).toBeCloseTo(102 / 98.98 - 1, 12);
  });

  it('reverse split 1-for-10: earlier prices × 10, volume ÷ 10', () => {
    const rev: CorporateAction = { kind: 'split', symbol: 'X', exDate: '2020-01-07', newShares: 1, oldShares: 10 };
    const a = adjustBars(bars, adjustmentSteps([rev], 'split', [NaN]).steps);
    expect(Array.from(a.close)).toEqual([1000, 1020, 510, 52, 53]);
    expect(Array.from(a.volume)).toEqual([100, 110, 240, 2500, 2600]);
  });

  it('raw applies nothing; a dividend with no earlier bar or ≥ the previous close is skipped, not applied', () => {
    expect(adjustmentSteps([split, div], 'raw', [NaN, 100]).steps).toEqual([]);
    const r = adjustmentSteps([div, { ...div, exDate: '2020-01-07', amount: 60 }], 'total', [NaN, 51]);
    expect(r.steps).toEqual([]);
    expect(r.skipped).toHaveLength(2);
  });

  it('cumulative factors multiply every action after the bar, whatever the input order', () => {
    const steps = [
      { exTs: exDateInstant('2020-01-07'), priceDivisor: 4, volumeMultiplier: 4 },
      { exTs: exDateInstant('2020-01-03'), priceDivisor: 2, volumeMultiplier: 2 },
    ].sort((a, b) => a.exTs - b.exTs);
    const f = cumulativeFactors(bars.ts, bars.length, steps);
    expect(Array.from(f.price)).toEqual([8, 4, 4, 1, 1]);
  });
});
