import { rollingMoments } from './window-moments';

/** Corrected two-pass (Chan, Golub & LeVeque 1983): M2 = sum((x - m)^2) - (sum(x - m))^2 / n. */
function referenceM2(w: number[]): number {
  const m = w.reduce((a, x) => a + x, 0) / w.length;
  let s = 0;
  let q = 0;
  for (const x of w) {
    s += x - m;
    q += (x - m) ** 2;
  }
  return q - (s * s) / w.length;
}

function check(x: Float64Array, period: number): void {
  const m2 = new Float64Array(x.length);
  const dev = new Float64Array(x.length);
  rollingMoments(x, period, period - 1, period - 1, m2, dev);
  for (let t = period - 1; t < x.length; t++) {
    const w = Array.from(x.subarray(t - period + 1, t + 1));
    const ref = referenceM2(w);
    if (ref === 0 || w.every((v) => v === w[0])) {
      if (m2[t] !== 0) throw new Error(`flat window at ${t}: M2 ${m2[t]} instead of exactly 0`);
      continue;
    }
    const rel = Math.abs(m2[t] - ref) / ref;
    if (!(rel <= 1e-10)) throw new Error(`M2 at ${t}: ${m2[t]} vs ${ref} (relative error ${rel})`);
    // x[t] - mean from differences to the window's first value (exact for nearby values), compared on
    // the scale of the window's spread (what z-scores and %B divide by).
    const expected = x[t] - w[0] - w.reduce((a, v) => a + (v - w[0]), 0) / period;
    const sd = Math.sqrt(ref / period);
    if (!(Math.abs(dev[t] - expected) <= 1e-10 * sd)) throw new Error(`deviation at ${t}: ${dev[t]} vs ${expected}`);
  }
}

/** Seeded uniform numbers in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

describe('rollingMoments', () => {
  it('matches a corrected two-pass on a long random walk', () => {
    const r = rng(1);
    let p = 100;
    const x = Float64Array.from({ length: 3000 }, () => (p *= Math.exp(0.02 * (r() - 0.5))));
    check(x, 20);
  });

  it('stays accurate on a quiet window right after a large jump (where E[x^2] - mean^2 fails)', () => {
    const r = rng(2);
    const x = Float64Array.from({ length: 400 }, (_, i) => (i < 150 ? 100 : 1e6) + (r() - 0.5) * 1e-4);
    check(x, 20);
  });

  it('stays accurate when volume bursts leave the window', () => {
    const r = rng(3);
    const x = Float64Array.from({ length: 600 }, (_, i) => (i % 97 === 0 ? 1e12 : 100 + Math.floor(r() * 50)));
    check(x, 20);
  });

  it('gives exactly 0 for flat windows, also after a move', () => {
    const x = Float64Array.from({ length: 300 }, (_, i) => (i < 100 ? 97.31 + i * 0.01 : i < 200 ? 97.31 : 0.1 + 0.2));
    check(x, 20);
  });

  it('returns the same values wherever the computation starts', () => {
    const r = rng(4);
    const x = Float64Array.from({ length: 700 }, (_, i) => (i % 50 < 25 ? 100 : 5000) + r());
    const full = new Float64Array(700);
    const fullDev = new Float64Array(700);
    rollingMoments(x, 20, 19, 19, full, fullDev);
    for (const start of [19, 20, 63, 64, 65, 200, 699]) {
      const part = new Float64Array(700).fill(-1);
      const partDev = new Float64Array(700).fill(-1);
      rollingMoments(x, 20, 19, start, part, partDev);
      for (let t = 0; t < 700; t++) {
        const same = Object.is(part[t], t < start ? -1 : full[t]) && Object.is(partDev[t], t < start ? -1 : fullDev[t]);
        if (!same) throw new Error(`start ${start}: index ${t} differs`);
      }
    }
  });
});
