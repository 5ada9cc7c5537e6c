import { buildTrainingDataset } from './training-dataset.builder';

const DAY = 86_400_000;
const T0 = Date.UTC(2020, 0, 1);

/** 20 bars, close = 100, 101, ..., feature f = bar index, NaN for the first 3 (warm-up). */
function input(n = 20) {
  const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * DAY);
  const close = Float64Array.from({ length: n }, (_, i) => 100 + i);
  const f = Float64Array.from({ length: n }, (_, i) => (i < 3 ? NaN : i));
  return { ts, close, features: { f } };
}

describe('buildTrainingDataset', () => {
  it('labels forward returns over the horizon and drops warm-up rows and rows without a label', () => {
    const d = buildTrainingDataset(input(), [{ name: 'all', from: T0, to: T0 + 20 * DAY }], { horizon: 2 });
    const [p] = d.parts;
    expect(Array.from(p.index)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    // Hand values: y[3] = close[5] / close[3] − 1 = 105 / 103 − 1.
    expect(p.y[0]).toBeCloseTo(105 / 103 - 1, 15);
    expect(p.y[14]).toBeCloseTo(119 / 117 - 1, 15);
    expect(Array.from(p.X.f)).toEqual(Array.from(p.index));
    expect(Array.from(p.direction).every((x) => x === 1)).toBe(true);
    expect(d.dropped).toMatchObject({ missingFeature: 3, noLabel: 2, purged: 0, embargoed: 0 });
  });

  it('purges rows whose label window reaches the next segment and embargoes the first bars after a boundary', () => {
    const segments = [
      { name: 'train', from: T0, to: T0 + 10 * DAY }, // bars 0..9
      { name: 'test', from: T0 + 10 * DAY, to: T0 + 20 * DAY }, // bars 10..19
    ];
    const d = buildTrainingDataset(input(), segments, { horizon: 2, embargo: 3 });
    const [train, test] = d.parts;
    // train: 3..9 minus purged 8, 9 (8 + 2 = 10 reaches test); test: 10..19 minus embargo 10..12 and no-label 18, 19.
    expect(Array.from(train.index)).toEqual([3, 4, 5, 6, 7]);
    expect(Array.from(test.index)).toEqual([13, 14, 15, 16, 17]);
    expect(d.dropped).toEqual({
      missingFeature: 3,
      noLabel: 2,
      deadZone: 0,
      purged: 2,
      embargoed: 3,
      outsideSegments: 0,
    });
    // No training label uses a bar of the test segment.
    for (const i of train.index) expect(i + 2).toBeLessThan(10);
  });

  it('applies a dead zone: direction 0 inside it, or the rows are dropped', () => {
    const x = input();
    // Flat prices from bar 10 on: returns there are 0.
    for (let i = 10; i < 20; i++) x.close[i] = 110;
    const keep = buildTrainingDataset(x, [{ name: 'all', from: T0, to: T0 + 20 * DAY }], {
      horizon: 1,
      deadZone: 0.001,
    });
    const dir = keep.parts[0].direction;
    const idx = keep.parts[0].index;
    for (let j = 0; j < idx.length; j++) expect(dir[j]).toBe(idx[j] >= 10 ? 0 : 1);
    const drop = buildTrainingDataset(x, [{ name: 'all', from: T0, to: T0 + 20 * DAY }], {
      horizon: 1,
      deadZone: 0.001,
      dropDeadZoneFrom: ['all'],
    });
    expect(drop.parts[0].index.length).toBe(idx.length - drop.dropped.deadZone);
    expect(drop.dropped.deadZone).toBe(9); // bars 10..18 have y = 0; bar 9 gains 110/109 − 1 = 0.92%
  });

  it('drops the dead zone from the training segment only: the test segment keeps its dead-zone rows', () => {
    const x = input();
    // Flat stretches in both segments: bars 3..7 (train) and 13..17 (test) have a 1-bar return of 0.
    for (let i = 3; i < 9; i++) x.close[i] = 103;
    for (let i = 13; i < 19; i++) x.close[i] = 113;
    const segments = [
      { name: 'train', from: T0, to: T0 + 10 * DAY },
      { name: 'test', from: T0 + 10 * DAY, to: T0 + 20 * DAY },
    ];
    const ds = buildTrainingDataset(x, segments, {
      horizon: 1,
      deadZone: 0.001,
      purge: 1,
      dropDeadZoneFrom: ['train'],
    });
    const [train, test] = ds.parts;
    // Train: no direction-0 row is left; the flat bars 3..7 are gone.
    expect(Array.from(train.direction).every((d) => d !== 0)).toBe(true);
    expect(Array.from(train.index).some((i) => i >= 3 && i <= 7)).toBe(false);
    expect(ds.dropped.deadZone).toBe(5);
    // Test: every bar from 10 to 18 is there (19 has no label), the flat ones with direction 0 and y = 0.
    expect(Array.from(test.index)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18]);
    const flat = Array.from(test.index).flatMap((i, j) => (i >= 13 && i <= 17 ? [j] : []));
    expect(flat.map((j) => test.direction[j])).toEqual([0, 0, 0, 0, 0]);
    expect(flat.map((j) => test.y[j])).toEqual([0, 0, 0, 0, 0]);
  });

  it('refuses misaligned inputs and overlapping segments', () => {
    const x = input();
    expect(() => buildTrainingDataset({ ...x, close: x.close.subarray(1) }, [], { horizon: 1 })).toThrow(RangeError);
    expect(() =>
      buildTrainingDataset(
        x,
        [
          { name: 'a', from: T0, to: T0 + 10 * DAY },
          { name: 'b', from: T0 + 5 * DAY, to: T0 + 15 * DAY },
        ],
        { horizon: 1 },
      ),
    ).toThrow(/overlap/);
    expect(() => buildTrainingDataset(x, [], { horizon: 0 })).toThrow(/horizon/);
  });
});
