import { regimeColumns } from './regime-series';

describe('regimeColumns', () => {
  it('takes at each bar the latest point at or before it (as of the bar), NaN before the first and for absent states', () => {
    const ts = Float64Array.from([10, 20, 30, 40, 50]);
    const points = [
      { time: 20, probabilities: { calm: 0.9, turbulent: 0.1 } },
      { time: 35, probabilities: { calm: 0.2, turbulent: 0.8 } },
      { time: 50, probabilities: { calm: 0.6, turbulent: 0.4 } },
    ];
    const c = regimeColumns(ts, points, ['turbulent', 'normal']);
    // Bar 30 sees the point of 20 (35 is later than it); bar 40 the point of 35.
    expect(Array.from(c['regime:turbulent'])).toEqual([NaN, 0.1, 0.1, 0.8, 0.4]);
    expect(Array.from(c['regime:normal']).every(Number.isNaN)).toBe(true);
  });
});
