import { flaggedBarMask } from '@strata/dataquality-contracts';
import { buildTrainingDataset } from './training-dataset.builder';

const DAY = 86_400_000;
const T0 = Date.UTC(2020, 0, 1);

describe('quality filter of training datasets', () => {
  const ts = Float64Array.from({ length: 20 }, (_, i) => T0 + i * DAY);

  it('flaggedBarMask marks exactly the bars that carry a flag (unsorted flags, unknown times ignored)', () => {
    const m = flaggedBarMask(ts, [
      { ts: T0 + 7 * DAY },
      { ts: T0 + 2 * DAY },
      { ts: T0 + 2.5 * DAY },
      { ts: T0 + 99 * DAY },
      { ts: T0 + 7 * DAY },
    ]);
    expect([...m.keys()].filter((i) => m[i] === 1)).toEqual([2, 7]);
  });

  it('excludeBars drops rows whose own bar or label bar (t + horizon) is flagged, and counts them', () => {
    const close = Float64Array.from({ length: 20 }, (_, i) => 100 + i);
    const f = Float64Array.from({ length: 20 }, (_, i) => i);
    const excludeBars = flaggedBarMask(ts, [{ ts: T0 + 7 * DAY }, { ts: T0 + 12 * DAY }]);
    const seg = [{ name: 'all', from: T0, to: T0 + 20 * DAY }];
    const kept = buildTrainingDataset({ ts, close, features: { f } }, seg, { horizon: 2, excludeBars });
    // Hand count: flagged bars 7 and 12 drop rows 7, 12 (own bar) and 5, 10 (label ends on them); 18, 19 have no label.
    expect(Array.from(kept.parts[0].index)).toEqual([0, 1, 2, 3, 4, 6, 8, 9, 11, 13, 14, 15, 16, 17]);
    expect(kept.dropped).toEqual({
      missingFeature: 0,
      noLabel: 2,
      deadZone: 0,
      purged: 0,
      embargoed: 0,
      outsideSegments: 0,
      qualityFlagged: 4,
    });
    const all = buildTrainingDataset({ ts, close, features: { f } }, seg, { horizon: 2 });
    expect(all.parts[0].index.length).toBe(18);
    expect(all.dropped.qualityFlagged).toBeUndefined();
    expect(() =>
      buildTrainingDataset({ ts, close, features: { f } }, seg, { horizon: 2, excludeBars: new Uint8Array(3) }),
    ).toThrow(RangeError);
  });
});
