/**
 * Seeded pseudo-random numbers for the synthetic generator.
 *
 * xoshiro128** 1.0 (Blackman & Vigna, 2018) over four 32-bit words, seeded through splitmix32 so that any seed
 * (including 0) gives a well-mixed, non-zero state. Only 32-bit integer arithmetic (`Math.imul`, shifts) is used, so the
 * integer stream is bit-identical on every JavaScript engine; the floating-point transforms use `Math.log`, `Math.sqrt`,
 * `Math.cos` and `Math.sin`, which V8 implements with its own portable (fdlibm-derived) code, so the same seed gives the
 * same doubles on every platform Node runs on.
 */

const TWO_POW_NEG_32 = 1 / 4294967296;

/** FNV-1a (32-bit) of a string's UTF-16 code units; used to turn a textual seed into a number. */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 step: returns the next 32-bit output for the running 32-bit counter `x` (already advanced by the caller). */
function mix32(x: number): number {
  let t = x ^ (x >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return t >>> 0;
}

/**
 * A seeded xoshiro128** generator with uniform, standard-normal (Box–Muller) and Poisson draws.
 *
 * Guarantees: the same `(seed, stream)` pair always yields the same sequence; different `stream` numbers give
 * independent-looking sequences from one seed (the generator uses one stream for prices and another for anomalies, so
 * switching anomalies on or off never changes the clean price path).
 */
export class Xoshiro128ss {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  /** Second Box–Muller variate kept for the next `normal()` call. */
  private spare = 0;
  private hasSpare = false;

  /**
   * @param seed a number (any finite value; its integer part modulo 2^53 is used) or a string (hashed with FNV-1a).
   * @param stream an independent sub-stream index (non-negative integer).
   */
  constructor(seed: number | string, stream = 0) {
    const numeric = typeof seed === 'string' ? hashSeed(seed) : Math.trunc(seed);
    const lo = numeric >>> 0;
    const hi = Math.floor(numeric / 4294967296) >>> 0;
    // splitmix32 with a golden-ratio increment, mixing in the high half of the seed and the stream index.
    let x = (lo ^ mix32(hi + 0x6a09e667) ^ mix32(Math.imul(stream + 1, 0x9e3779b9))) >>> 0;
    x = (x + 0x9e3779b9) >>> 0;
    this.s0 = mix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s1 = mix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s2 = mix32(x);
    x = (x + 0x9e3779b9) >>> 0;
    this.s3 = mix32(x);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is the one fixed point
  }

  /** A generator started from an explicit 128-bit state (four 32-bit words, not all zero): for reference-vector tests. */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128ss {
    const g = new Xoshiro128ss(0);
    g.s0 = s0 | 0;
    g.s1 = s1 | 0;
    g.s2 = s2 | 0;
    g.s3 = s3 | 0;
    if ((g.s0 | g.s1 | g.s2 | g.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    return g;
  }

  /** Next raw 32-bit output as an unsigned integer in [0, 2^32). */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in the open interval (0, 1), with 2^-32 resolution (never exactly 0 or 1, so `log(u)` is finite). */
  uniform(): number {
    return (this.nextUint32() + 0.5) * TWO_POW_NEG_32;
  }

  /** Uniform integer in [lo, hi] (both inclusive). */
  intBetween(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo + 1));
  }

  /** Uniform double in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal variate (Box–Muller; the second variate of each pair is cached for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    this.hasSpare = true;
    return r * Math.cos(theta);
  }

  /**
   * Poisson variate with mean `lambda` by Knuth's multiplication method: O(lambda) uniforms, exact, meant for the
   * small per-bar jump intensities used here (the generator rejects configurations with more than 30 expected jumps per bar).
   * @param expMinusLambda `Math.exp(-lambda)`, for callers that draw many variates with one mean.
   */
  poisson(lambda: number, expMinusLambda: number = Math.exp(-lambda)): number {
    if (lambda <= 0) return 0;
    const limit = expMinusLambda;
    let k = 0;
    let p = this.uniform();
    while (p > limit) {
      k++;
      p *= this.uniform();
    }
    return k;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * mulberry32 (Tommy Ettinger): a small, fast 32-bit PRNG with a 2^32 period, uniform in [0, 1) with 2^-32 resolution.
 * For test fixtures, benchmarks and perturbations where a closure is handier than {@link Xoshiro128ss}; the same
 * `seed` (taken modulo 2^32) always gives the same sequence on every engine (32-bit integer arithmetic only).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) * TWO_POW_NEG_32;
  };
}
