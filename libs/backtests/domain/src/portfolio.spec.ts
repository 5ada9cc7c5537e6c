import { aggregatePortfolio } from './portfolio';

const day = (d: string) => Date.parse(`${d}T21:00:00Z`);

describe('aggregatePortfolio', () => {
  // A trades Jan 2, 3, 4; B trades Jan 3 and Jan 5 (two calendars, union = Jan 2 … 5).
  const a = { ts: ['2024-01-02', '2024-01-03', '2024-01-04'].map(day), equity: [100, 110, 99], weight: 1 };
  const b = { ts: ['2024-01-03', '2024-01-05'].map(day), equity: [50, 55], weight: 1 };
  // Independently: member day returns on the union calendar, 0 where the member has no bar (cash).
  const rA = [0, 0.1, -0.1, 0];
  const rB = [0, 0, 0, 0.1];

  it('daily rebalancing: the weighted sum of member returns, cash on missing days', () => {
    const p = aggregatePortfolio([a, b], 'daily');
    expect(Array.from(p.ts)).toEqual(['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05'].map(day));
    const expected = rA.map((x, i) => 0.5 * x + 0.5 * rB[i]);
    expect(Array.from(p.returns).map((x) => +x.toFixed(12))).toEqual(expected.map((x) => +x.toFixed(12)));
    let e = 1;
    expected.forEach((x, i) => {
      e *= 1 + x;
      expect(p.equity[i]).toBeCloseTo(e, 12);
    });
  });

  it('no rebalancing: the weighted sum of the member growth curves (weights drift)', () => {
    const p = aggregatePortfolio([a, { ...b, weight: 3 }], 'none');
    const growth = (r: number[]) => r.map((_, i) => r.slice(0, i + 1).reduce((g, x) => g * (1 + x), 1));
    const gA = growth(rA);
    const gB = growth(rB);
    gA.forEach((g, i) => expect(p.equity[i]).toBeCloseTo(0.25 * g + 0.75 * gB[i], 12));
  });

  it('monthly rebalancing restores the weights after the last day of a month only', () => {
    const m1 = {
      ts: ['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-02'].map(day),
      equity: [1, 2, 2, 4],
      weight: 1,
    };
    const m2 = {
      ts: ['2024-01-30', '2024-01-31', '2024-02-01', '2024-02-02'].map(day),
      equity: [1, 1, 1, 1],
      weight: 1,
    };
    const p = aggregatePortfolio([m1, m2], 'monthly');
    // Jan 31: 0.5·2 + 0.5 = 1.5, rebalanced to 0.75 / 0.75; Feb 2: 0.75·2 + 0.75 = 2.25 (no rebalance on Feb 1).
    expect(Array.from(p.equity)).toEqual([1, 1.5, 1.5, 2.25]);
    expect(aggregatePortfolio([m1, m2], 'none').equity[3]).toBeCloseTo(0.5 * 4 + 0.5, 12);
  });

  it('refuses no members and non-positive weights', () => {
    expect(() => aggregatePortfolio([], 'none')).toThrow(/at least one/);
    expect(() => aggregatePortfolio([{ ...a, weight: 0 }], 'none')).toThrow(/positive/);
  });
});
