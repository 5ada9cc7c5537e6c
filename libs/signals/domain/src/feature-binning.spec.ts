import { Xoshiro128ss } from '@strata/shared-random';
import { sortFloat64 } from './feature-binning';

describe('sortFloat64', () => {
  it('sorts like Float64Array.prototype.sort: signs, zeros, infinities, subnormals, duplicates', () => {
    const rng = new Xoshiro128ss(3);
    const special = [0, -0, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, -1, 1, 1];
    for (const n of [0, 1, 2, 17, 5000]) {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++)
        a[i] = i < special.length && n > 12 ? special[i] : rng.normal() * 10 ** Math.floor(rng.uniform() * 8 - 4);
      const expected = a.slice().sort();
      const got = sortFloat64(a.slice(), new Uint32Array(2 * n));
      expect(Array.from(got).map((x) => (Object.is(x, -0) ? '-0' : x))).toEqual(
        Array.from(expected).map((x) => (Object.is(x, -0) ? '-0' : x)),
      );
    }
  });

  it('keeps the order when every value shares the digits of a pass (skipped passes)', () => {
    const a = Float64Array.from([3, 1, 2, 3, 1]);
    expect(Array.from(sortFloat64(a, new Uint32Array(10)))).toEqual([1, 1, 2, 3, 3]);
  });
});
