import { generateSyntheticSeries } from './synthetic.generator';
import { ANOMALY_CODE, ANOMALY_KINDS, type AnomalyKind, type SyntheticConfig } from './synthetic.types';

/** The ingest validation rules of issue 4, written out independently: the first failing reason, or null. */
function rowProblem(o: number, h: number, l: number, c: number, v: number): string | null {
  if (![o, h, l, c, v].every(Number.isFinite)) return 'non_finite';
  if (o <= 0 || h <= 0 || l <= 0 || c <= 0) return 'non_positive_price';
  if (h < l) return 'high_below_low';
  if (o < l || o > h || c < l || c > h) return 'open_close_outside_range';
  if (v < 0) return 'negative_volume';
  return null;
}

const rates: Record<AnomalyKind, number> = {
  spike: 0.006,
  gap: 0.004,
  stale: 0.003,
  bad_tick: 0.006,
  volume_burst: 0.005,
};
const base: SyntheticConfig = {
  seed: 31337,
  bars: 60_000,
  timeframe: '1d',
  jumps: { intensityPerYear: 6, meanLog: -0.02, stdLog: 0.06 },
};

describe('injected anomalies against the same series without them', () => {
  const clean = generateSyntheticSeries(base);
  const dirty = generateSyntheticSeries({ ...base, anomalies: { rates } });
  const cleanIndex = new Map<number, number>();
  for (let i = 0; i < clean.length; i++) cleanIndex.set(clean.ts[i], i);
  const cols = ['open', 'high', 'low', 'close', 'volume'] as const;

  it('the clean path is untouched by switching anomalies on (own PRNG stream)', () => {
    expect(clean.length).toBe(base.bars);
    expect(clean.truth.events).toEqual([]);
    expect(clean.truth.anomaly.every((x) => x === 0)).toBe(true);
  });

  it('rows differ from the clean series exactly where a non-gap anomaly is labelled', () => {
    let mismatched = 0;
    let unknownTs = 0;
    let truthDiffers = 0;
    let labelled = 0;
    for (let i = 0; i < dirty.length; i++) {
      const j = cleanIndex.get(dirty.ts[i]);
      if (j === undefined) {
        unknownTs++;
        continue;
      }
      const differs = cols.some((c) => dirty[c][i] !== clean[c][j]);
      const code = dirty.truth.anomaly[i];
      const labelledChange = code !== ANOMALY_CODE.none && code !== ANOMALY_CODE.gap;
      if (labelledChange) labelled++;
      if (differs !== labelledChange) mismatched++;
      if (dirty.truth.regime[i] !== clean.truth.regime[j] || dirty.truth.jumps[i] !== clean.truth.jumps[j])
        truthDiffers++;
    }
    expect({ mismatched, unknownTs, truthDiffers }).toEqual({ mismatched: 0, unknownTs: 0, truthDiffers: 0 });
    expect(labelled).toBeGreaterThan(500);
  });

  it('gaps remove exactly the listed bars and label the first bar after each hole', () => {
    const present = new Set(Array.from(dirty.ts));
    const missing = Array.from(clean.ts).filter((t) => !present.has(t));
    const gapEvents = dirty.truth.events.filter((e) => e.kind === 'gap');
    expect(gapEvents.length).toBeGreaterThan(50);
    const listed: number[] = [];
    for (const e of gapEvents) {
      const from = cleanIndex.get(e.missingFromTs!)!;
      const to = cleanIndex.get(e.missingToTs!)!;
      expect(to - from + 1).toBe(e.missingBars);
      for (let j = from; j <= to; j++) listed.push(clean.ts[j]);
      expect(cleanIndex.get(dirty.ts[e.index])).toBe(to + 1); // the labelled row is the slot right after the hole
      expect(cleanIndex.get(dirty.ts[e.index - 1])).toBe(from - 1);
      expect(dirty.truth.anomaly[e.index]).toBe(ANOMALY_CODE.gap);
      expect(e.missingBars).toBeGreaterThanOrEqual(1);
      expect(e.missingBars).toBeLessThanOrEqual(3);
    }
    expect(listed).toEqual(missing);
    expect(dirty.length).toBe(base.bars - missing.length);
  });

  it('every label belongs to exactly one event, with the right index, line and time', () => {
    const fromEvents = new Uint8Array(dirty.length);
    for (const e of dirty.truth.events) {
      expect(e.line).toBe(e.index + 2);
      expect(e.ts).toBe(dirty.ts[e.index]);
      for (let j = e.index; j < e.index + e.bars; j++) {
        expect(fromEvents[j]).toBe(0);
        fromEvents[j] = ANOMALY_CODE[e.kind];
      }
    }
    expect(Buffer.from(fromEvents).equals(Buffer.from(dirty.truth.anomaly))).toBe(true);
    const times = dirty.truth.events.map((e) => e.index);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('a spike moves one close by 8–16 bar sigmas and the next bar reverts to the clean path', () => {
    const spikes = dirty.truth.events.filter((e) => e.kind === 'spike');
    expect(spikes.length).toBeGreaterThan(100);
    const sd = [0.14, 0.26, 0.5].map((v) => v * Math.sqrt(1 / 252));
    for (const e of spikes) {
      const i = e.index;
      const j = cleanIndex.get(dirty.ts[i])!;
      const move = Math.log(dirty.close[i] / clean.close[j]);
      expect(move).toBeCloseTo(e.logMove!, 12);
      const sigmas = Math.abs(move) / sd[dirty.truth.regime[i]];
      expect(sigmas).toBeGreaterThanOrEqual(8 - 1e-9);
      expect(sigmas).toBeLessThanOrEqual(16 + 1e-9);
      // The recorded size is the drawn one; the realised move differs only by the price rounding.
      expect(Math.abs(e.sigmas! - sigmas)).toBeLessThan(0.05);
      expect(dirty.open[i]).toBe(clean.open[j]);
      expect(rowProblem(dirty.open[i], dirty.high[i], dirty.low[i], dirty.close[i], dirty.volume[i])).toBeNull();
      // Reverts: the next bar is the clean one, opening near the clean close rather than the spiked one.
      expect(dirty.truth.anomaly[i + 1]).toBe(ANOMALY_CODE.none);
      expect(dirty.open[i + 1]).toBe(clean.open[j + 1]);
      expect(dirty.close[i + 1]).toBe(clean.close[j + 1]);
    }
  });

  it('a bad tick corrupts one field by its factor; invalidRow and expectedReject agree with the validation rules', () => {
    const ticks = dirty.truth.events.filter((e) => e.kind === 'bad_tick');
    expect(ticks.length).toBeGreaterThan(100);
    const seen = new Set<string>();
    let invalid = 0;
    for (const e of ticks) {
      const i = e.index;
      const j = cleanIndex.get(dirty.ts[i])!;
      const changed = cols.filter((c) => dirty[c][i] !== clean[c][j]);
      expect(changed).toEqual([e.field]);
      expect(e.original).toBe(clean[e.field!][j]);
      expect(e.corrupted).toBe(dirty[e.field!][i]);
      expect(e.corrupted! / e.original!).toBeCloseTo(e.factor!, 12);
      const problem = rowProblem(dirty.open[i], dirty.high[i], dirty.low[i], dirty.close[i], dirty.volume[i]);
      expect(e.invalidRow).toBe(problem !== null);
      expect(e.expectedReject ?? null).toBe(problem);
      if (problem) invalid++;
      seen.add(`${e.field}x${e.factor}`);
      // Documented: high × 10 and low × 0.1 keep a consistent row; every other combination breaks it.
      expect(e.invalidRow).toBe(!((e.field === 'high' && e.factor! > 1) || (e.field === 'low' && e.factor! < 1)));
      expect(dirty.truth.anomaly[i + 1]).toBe(ANOMALY_CODE.none);
    }
    expect(seen.size).toBe(8);
    expect(invalid).toBeGreaterThan(ticks.length / 2);
  });

  it('a stale run repeats the previous close as a flat bar for its whole length', () => {
    const runs = dirty.truth.events.filter((e) => e.kind === 'stale');
    expect(runs.length).toBeGreaterThan(30);
    for (const e of runs) {
      expect(e.bars).toBeGreaterThanOrEqual(4);
      expect(e.bars).toBeLessThanOrEqual(10);
      const p = dirty.close[e.index - 1];
      for (let i = e.index; i < e.index + e.bars; i++) {
        expect([dirty.open[i], dirty.high[i], dirty.low[i], dirty.close[i]]).toEqual([p, p, p, p]);
        expect(dirty.truth.anomaly[i]).toBe(ANOMALY_CODE.stale);
      }
      expect(dirty.truth.anomaly[e.index + e.bars]).toBe(ANOMALY_CODE.none);
    }
  });

  it('a volume burst multiplies the volume by 20–50 and leaves prices alone', () => {
    const bursts = dirty.truth.events.filter((e) => e.kind === 'volume_burst');
    expect(bursts.length).toBeGreaterThan(100);
    for (const e of bursts) {
      const i = e.index;
      const j = cleanIndex.get(dirty.ts[i])!;
      expect(e.volumeFactor).toBeGreaterThanOrEqual(20);
      expect(e.volumeFactor).toBeLessThanOrEqual(50);
      expect(Math.abs(dirty.volume[i] - clean.volume[j] * e.volumeFactor!)).toBeLessThanOrEqual(0.5);
      expect(dirty.close[i]).toBe(clean.close[j]);
    }
  });

  it('event counts match the configured rates (renewal argument: one try per free bar)', () => {
    // Bars consumed by an anomaly that starts at a try: spike, bad tick, burst = 2 (itself + clean follower);
    // stale = E[k] + 1 = 8; gap = E[k] + 2 = 4 (the removed
    // bars, the labelled bar after them and its clean follower). A try with no anomaly consumes 1 bar.
    const consumed: Record<AnomalyKind, number> = { spike: 2, bad_tick: 2, volume_burst: 2, stale: 8, gap: 4 };
    const perTry = 1 + ANOMALY_KINDS.reduce((a, k) => a + rates[k] * (consumed[k] - 1), 0);
    const tries = (base.bars - 2) / perTry;
    for (const k of ANOMALY_KINDS) {
      const count = dirty.truth.events.filter((e) => e.kind === k).length;
      const expected = rates[k] * tries;
      expect(Math.abs(count - expected)).toBeLessThan(4.5 * Math.sqrt(expected));
    }
  });

  it('never labels the first bar, and two anomalies never touch', () => {
    expect(dirty.truth.anomaly[0]).toBe(0);
    let touching = 0;
    for (let i = 1; i < dirty.length; i++) {
      const a = dirty.truth.anomaly[i - 1];
      const b = dirty.truth.anomaly[i];
      if (a !== 0 && b !== 0 && !(a === ANOMALY_CODE.stale && b === ANOMALY_CODE.stale)) touching++;
    }
    expect(touching).toBe(0);
  });
});

describe('anomalies on intraday and crypto series', () => {
  it('works the same on 1m 24x7 bars with fractional volume', () => {
    const s = generateSyntheticSeries({
      seed: 'btc',
      bars: 30_000,
      timeframe: '1m',
      calendar: '24x7',
      initialPrice: 29_000,
      volume: { base: 0.9, decimals: 6 },
      anomalies: { rates: { ...rates, gap: 0.01 } },
    });
    const steps = new Map<number, number>();
    for (let i = 1; i < s.length; i++) {
      const d = (s.ts[i] - s.ts[i - 1]) / 60_000;
      steps.set(d, (steps.get(d) ?? 0) + 1);
      if (d !== 1) expect(s.truth.anomaly[i]).toBe(ANOMALY_CODE.gap);
      if (s.truth.anomaly[i] === ANOMALY_CODE.gap) expect(d).toBeGreaterThan(1);
    }
    expect([...steps.keys()].sort()).toEqual([1, 2, 3, 4]);
  });
});
