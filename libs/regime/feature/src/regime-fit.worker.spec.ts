import { fitRegimeModel, generateRegimeSeries } from '@strata/regime-domain';
import { RegimeFitWorker } from './regime-fit.worker';

const series = (seed: number, bars: number): Float64Array =>
  generateRegimeSeries({
    seed,
    bars,
    transition: [
      [0.98, 0.02],
      [0.05, 0.95],
    ],
    drift: [0.0005, -0.001],
    vol: [0.008, 0.025],
  }).close;

describe('RegimeFitWorker', () => {
  const fits = new RegimeFitWorker();
  afterAll(() => fits.close());

  it('fits on a worker thread exactly as on the calling thread, warm start and errors included', async () => {
    const close = series(3, 1500);
    const opts = { volWindow: 12, restarts: 2, seed: 1 };
    const first = await fits.fit(close, opts);
    expect(first).toEqual(fitRegimeModel(close, opts));
    const more = series(4, 1700);
    expect(await fits.fit(more, { ...opts, seed: 2 }, first)).toEqual(
      fitRegimeModel(more, { ...opts, seed: 2 }, first),
    );
    await expect(fits.fit(close.subarray(0, 30), opts)).rejects.toThrow(RangeError);
  }, 60_000);

  it('keeps the event loop responsive while a fit runs (every 10 ms timer fires within 100 ms)', async () => {
    await fits.fit(series(5, 600), { volWindow: 12, restarts: 1 }); // worker started and domain loaded
    const close = series(6, 5000);
    let last = performance.now();
    let worstGap = 0;
    let ticks = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
      ticks++;
    }, 10);
    const t0 = performance.now();
    try {
      await fits.fit(close, { volWindow: 12, restarts: 4, seed: 7 });
    } finally {
      clearInterval(timer);
    }
    const fitMs = performance.now() - t0;
    // The fit itself must take long enough that an on-loop fit would have blocked well past the bound.
    expect(fitMs).toBeGreaterThan(200);
    expect(ticks).toBeGreaterThan(fitMs / 10 / 3);
    expect(worstGap).toBeLessThan(100);
  }, 60_000);
});
