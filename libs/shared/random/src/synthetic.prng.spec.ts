import { hashSeed, Xoshiro128ss } from './synthetic.prng';

/** Straightforward reference xoshiro128** (Blackman & Vigna) in BigInt arithmetic, independent of the implementation. */
function referenceXoshiro(state: [bigint, bigint, bigint, bigint]) {
  const M = 0xffffffffn;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const s = [...state];
  return () => {
    const result = (rotl((s[1] * 5n) & M, 7n) * 9n) & M;
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    return Number(result);
  };
}

describe('Xoshiro128ss', () => {
  it('matches the reference algorithm word for word (state 1,2,3,4: first outputs 11520, 0, 5927040)', () => {
    const g = Xoshiro128ss.fromState(1, 2, 3, 4);
    const ref = referenceXoshiro([1n, 2n, 3n, 4n]);
    const first = [g.nextUint32(), g.nextUint32(), g.nextUint32()];
    expect(first).toEqual([11520, 0, 5927040]); // worked by hand from the algorithm
    for (let i = 0; i < 3; i++) ref();
    for (let i = 0; i < 10_000; i++) expect(g.nextUint32()).toBe(ref());
  });

  it('matches the reference for a state with high bits set', () => {
    const st = [0xdeadbeef, 0x80000001, 0x7fffffff, 0xffffffff] as const;
    const g = Xoshiro128ss.fromState(st[0], st[1], st[2], st[3]);
    const ref = referenceXoshiro([BigInt(st[0]), BigInt(st[1]), BigInt(st[2]), BigInt(st[3])]);
    for (let i = 0; i < 10_000; i++) expect(g.nextUint32()).toBe(ref());
  });

  it('is reproducible per (seed, stream) and differs across seeds and streams', () => {
    const draw = (seed: number | string, stream = 0) => {
      const g = new Xoshiro128ss(seed, stream);
      return Array.from({ length: 8 }, () => g.nextUint32());
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw('alpha')).toEqual(draw('alpha'));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7, 0)).not.toEqual(draw(7, 1));
    expect(draw(2 ** 40)).not.toEqual(draw(0)); // the high half of a large seed matters
  });

  it('FNV-1a hash of a string seed matches the published test vector', () => {
    expect(hashSeed('')).toBe(0x811c9dc5);
    expect(hashSeed('a')).toBe(0xe40c292c);
    expect(hashSeed('foobar')).toBe(0xbf9cf968);
  });

  it('uniform is in (0,1) with mean 1/2 and variance 1/12', () => {
    const g = new Xoshiro128ss(123);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = g.uniform();
      if (!(u > 0 && u < 1)) outside++;
      s += u;
      s2 += u * u;
    }
    expect(outside).toBe(0);
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4.5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  it('normal has mean 0, variance 1, no skew and kurtosis 3', () => {
    const g = new Xoshiro128ss(99);
    const n = 400_000;
    let m1 = 0;
    let m2 = 0;
    let m3 = 0;
    let m4 = 0;
    for (let i = 0; i < n; i++) {
      const z = g.normal();
      m1 += z;
      m2 += z * z;
      m3 += z * z * z;
      m4 += z * z * z * z;
    }
    m1 /= n;
    m2 /= n;
    m3 /= n;
    m4 /= n;
    // Standard errors of the sample moments of N(0,1): 1/√n, √(2/n), √(15/n), √(96/n).
    expect(Math.abs(m1)).toBeLessThan(4.5 / Math.sqrt(n));
    expect(Math.abs(m2 - 1)).toBeLessThan(4.5 * Math.sqrt(2 / n));
    expect(Math.abs(m3)).toBeLessThan(4.5 * Math.sqrt(15 / n));
    expect(Math.abs(m4 - 3)).toBeLessThan(4.5 * Math.sqrt(96 / n));
  });

  it('poisson has the right mean and P(0) = e^-λ', () => {
    const g = new Xoshiro128ss(5);
    for (const lambda of [0.05, 0.7, 4]) {
      const n = 100_000;
      let sum = 0;
      let zeros = 0;
      for (let i = 0; i < n; i++) {
        const k = g.poisson(lambda);
        sum += k;
        if (k === 0) zeros++;
      }
      expect(Math.abs(sum / n - lambda)).toBeLessThan(4.5 * Math.sqrt(lambda / n));
      const p0 = Math.exp(-lambda);
      expect(Math.abs(zeros / n - p0)).toBeLessThan(4.5 * Math.sqrt((p0 * (1 - p0)) / n));
    }
    expect(g.poisson(0)).toBe(0);
  });
});
