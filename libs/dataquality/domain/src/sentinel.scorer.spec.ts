import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBarsCsv, generateSyntheticSeries } from '@strata/marketdata-domain';
import { type BarColumns, type OhlcvSeries } from '@strata/marketdata-contracts';
import { DEFAULT_SENTINEL_CONFIG, mergeSentinelConfig, severityAtLeast } from './sentinel.config';
import { requiredContextBars, scoreBars } from './sentinel.scorer';
import type { BarAnomaly } from './sentinel.types';

const ROOT = join(__dirname, '..', '..', '..', '..');
const DAY = 86_400_000;

function load(path: string): BarColumns {
  return parseBarsCsv(readFileSync(path, 'utf8')).bars;
}

function slice(b: OhlcvSeries, from: number, to: number): OhlcvSeries {
  return {
    ts: b.ts.slice(from, to),
    open: b.open.slice(from, to),
    high: b.high.slice(from, to),
    low: b.low.slice(from, to),
    close: b.close.slice(from, to),
    volume: b.volume.slice(from, to),
  };
}

/** A calm daily series on consecutive NYSE weekdays with deterministic small moves, built by hand. */
function handSeries(n: number): OhlcvSeries {
  const ts: number[] = [];
  let day = Date.UTC(2021, 0, 4) / DAY; // Monday
  while (ts.length < n) {
    const w = (day + 4) % 7; // 1970-01-01 was a Thursday
    if (w !== 0 && w !== 6) ts.push(day * DAY);
    day++;
  }
  const close = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const volume = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    const r = 0.01 * Math.sin(i * 1.7) * Math.cos(i * 0.31); // |r| ≤ 1 %
    open[i] = p;
    close[i] = p * Math.exp(r);
    high[i] = Math.max(open[i], close[i]) * 1.004;
    low[i] = Math.min(open[i], close[i]) * 0.996;
    volume[i] = 1_000_000 * (1 + 0.2 * Math.sin(i * 0.9));
    p = close[i];
  }
  return { ts: Float64Array.from(ts), open, high, low, close, volume };
}

const key = (a: BarAnomaly) => `${a.ts}|${a.kind}`;

describe('scoreBars: rules on hand-built bars', () => {
  // Holidays would be gaps on the NYSE calendar; the hand series uses plain weekdays.
  const req = (bars: OhlcvSeries) => ({
    bars,
    firstNew: 0,
    timeframe: '1d' as const,
    symbol: 'TEST',
    calendar: 'weekdays' as const,
  });

  it('finds nothing at HIGH+ on a calm clean series', () => {
    const res = scoreBars(req(handSeries(300)));
    expect(res.anomalies.filter((a) => severityAtLeast(a.severity, 'HIGH'))).toEqual([]);
    expect(res.scoredBars).toBe(300);
  });

  it('flags a stale run (every bar once the run reaches staleMinBars) as HIGH', () => {
    const b = handSeries(120);
    for (let i = 60; i < 65; i++) {
      const p = b.close[59];
      b.open[i] = b.high[i] = b.low[i] = b.close[i] = p;
    }
    const stale = scoreBars(req(b)).anomalies.filter((a) => a.kind === 'stale');
    expect(stale.map((a) => a.index)).toEqual([60, 61, 62, 63, 64]);
    expect(stale.every((a) => a.severity === 'HIGH')).toBe(true);
    expect(stale[4].reason).toMatch(/for 5 consecutive bars/);
  });

  it('flags a missing weekday as a gap and zero/negative volume by severity', () => {
    const b = handSeries(100);
    const cut = { ...b };
    const keep = (arr: Float64Array) => Float64Array.from([...arr.subarray(0, 50), ...arr.subarray(51)]);
    for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) cut[k] = keep(b[k]);
    cut.volume[70] = 0;
    cut.volume[80] = -5;
    const res = scoreBars(req(cut)).anomalies;
    const gap = res.filter((a) => a.kind === 'gap');
    expect(gap).toHaveLength(1);
    expect(gap[0].index).toBe(50);
    expect(gap[0].severity).toBe('HIGH');
    expect(gap[0].reason).toMatch(/^1 expected 1d bar\(s\) missing between/);
    const zv = res.filter((a) => a.kind === 'zero_volume');
    expect(zv.map((a) => [a.index, a.severity])).toEqual([
      [70, 'HIGH'],
      [80, 'CRITICAL'],
    ]);
  });

  it('flags a reverting 10× high as a CRITICAL bad tick and an inconsistent close as CRITICAL, not the revert bar', () => {
    const b = handSeries(150);
    b.high[90] *= 10; // stays OHLC-consistent
    b.close[120] *= 0.1; // close below low: inconsistent
    const res = scoreBars(req(b)).anomalies.filter((a) => severityAtLeast(a.severity, 'HIGH'));
    expect(res.map((a) => [a.index, a.kind, a.severity])).toEqual([
      [90, 'bad_tick', 'CRITICAL'],
      [120, 'bad_tick', 'CRITICAL'],
    ]);
    expect(res[0].reason).toMatch(/^high .* is 10\.0× above the neighbours' level/);
  });

  it('flags a reverting close spike as spike (not its revert bar) and a 4:1 split as probable_split, never a spike', () => {
    const b = handSeries(200);
    // Spike: close 12 % up (≫ 5.5σ for ≤ 1 % moves), next bar opens back at the old level.
    b.close[100] = b.open[100] * 1.12;
    b.high[100] = b.close[100];
    // Split 4:1 from bar 150 on: every later price / 4, volume × 4.
    for (let i = 150; i < 200; i++) {
      b.open[i] /= 4;
      b.high[i] /= 4;
      b.low[i] /= 4;
      b.close[i] /= 4;
      b.volume[i] *= 4;
    }
    const res = scoreBars(req(b)).anomalies.filter((a) => a.kind !== 'outlier' && a.kind !== 'volume_burst');
    expect(res.map((a) => [a.index, a.kind])).toEqual([
      [100, 'spike'],
      [150, 'probable_split'],
    ]);
    expect(severityAtLeast(res[0].severity, 'HIGH')).toBe(true);
    expect(res[1].proposedSplit).toEqual({ newShares: 4, oldShares: 1 });
    expect(res[1].severity).toBe('MEDIUM');
  });

  it('scores are in [0, 1] or null and reasons are words', () => {
    const b = handSeries(200);
    b.low[77] *= 0.5;
    for (const a of scoreBars(req(b)).anomalies) {
      expect(a.combined).toBeGreaterThanOrEqual(0);
      expect(a.combined).toBeLessThanOrEqual(1);
      for (const s of Object.values(a.scores)) if (s !== null) expect(s >= 0 && s <= 1).toBe(true);
      expect(a.reason.length).toBeGreaterThan(10);
    }
  });

  it('rejects malformed requests with a clear RangeError', () => {
    const b = handSeries(10);
    expect(() => scoreBars({ ...req(b), firstNew: 11 })).toThrow(/firstNew must be an integer in \[0, 10\]/);
    expect(() => scoreBars(req({ ...b, volume: new Float64Array(3) }))).toThrow(/bars.volume has 3 values/);
    const back = { ...b, ts: b.ts.slice() };
    back.ts[5] = back.ts[4];
    expect(() => scoreBars(req(back))).toThrow(/strictly increasing/);
  });
});

describe('scoreBars: batching', () => {
  const cfg = mergeSentinelConfig({ forest: { trees: 30, trainBars: 256, refitEveryBars: 64 } });
  const s = generateSyntheticSeries({
    seed: 'batching',
    bars: 3000,
    timeframe: '1h',
    calendar: 'nyse',
    anomalies: { rates: { spike: 0.01, gap: 0.005, stale: 0.005, bad_tick: 0.01, volume_burst: 0.01 } },
  });
  const sortK = (xs: BarAnomaly[]) => [...xs].sort((a, b) => a.index - b.index || key(a).localeCompare(key(b)));
  const inBatches = (ctx: number): BarAnomaly[] => {
    const got: BarAnomaly[] = [];
    const sizes = [1, 1, 2, 3, 5, 17, 120, 1, 400];
    let start = 0;
    let k = 0;
    while (start < s.length) {
      const end = Math.min(s.length, start + sizes[k++ % sizes.length]);
      const from = Math.max(0, start - ctx);
      const res = scoreBars(
        { bars: slice(s, from, end), firstNew: start - from, timeframe: '1h', symbol: 'SYN', calendar: 'nyse' },
        cfg,
      );
      expect(res.scoredBars).toBe(end - start);
      for (const a of res.anomalies) got.push({ ...a, index: a.index + from });
      start = end;
    }
    return sortK(got);
  };
  const one = sortK(
    scoreBars({ bars: s, firstNew: 0, timeframe: '1h', symbol: 'SYN', calendar: 'nyse' }, cfg).anomalies,
  );

  it('gives the same findings in streaming batches (with requiredContextBars of history) as in one pass', () => {
    expect(one.length).toBeGreaterThan(50);
    expect(inBatches(requiredContextBars(cfg))).toEqual(one);
  });

  it('control: with too little history the batches differ (the equality above is not vacuous)', () => {
    expect(inBatches(30)).not.toEqual(one);
  });

  it('needs context: without history the first batch bars cannot be scored statistically', () => {
    expect(requiredContextBars(DEFAULT_SENTINEL_CONFIG)).toBeGreaterThan(DEFAULT_SENTINEL_CONFIG.forest.trainBars);
  });
});

describe('scoreBars on real unadjusted data', () => {
  const actions = JSON.parse(readFileSync(join(ROOT, 'data', 'sample', 'corporate-actions.json'), 'utf8')).actions as {
    symbol: string;
    exDate: string;
    newShares: number;
    oldShares: number;
  }[];

  it.each(['AAPL', 'IBM', 'BAC', 'QQQ', 'SPY', 'BTCUSD'])(
    'data/sample %s: exactly the listed splits are probable_split',
    (symbol) => {
      const bars = load(join(ROOT, 'data', 'sample', `${symbol}_1d.csv`));
      const res = scoreBars({ bars, firstNew: 0, timeframe: '1d', symbol });
      const splits = res.anomalies.filter((a) => a.kind === 'probable_split');
      const expected = actions
        .filter((a) => a.symbol === symbol)
        .map((a) => `${a.exDate} ${a.newShares}:${a.oldShares}`);
      expect(
        splits.map(
          (a) =>
            `${new Date(a.ts).toISOString().slice(0, 10)} ${a.proposedSplit?.newShares}:${a.proposedSplit?.oldShares}`,
        ),
      ).toEqual(expected);
      // A split is never also paged as a price anomaly on the same bar.
      const splitTs = new Set(splits.map((a) => a.ts));
      expect(res.anomalies.filter((a) => splitTs.has(a.ts) && a.kind !== 'probable_split')).toEqual([]);
    },
  );

  it('AAPL: the 2000-09-29 crash is not a split; the one-tenth low prints are CRITICAL bad ticks', () => {
    const bars = load(join(ROOT, 'data', 'sample', 'AAPL_1d.csv'));
    const res = scoreBars({ bars, firstNew: 0, timeframe: '1d', symbol: 'AAPL' }).anomalies;
    const on = (d: string) => res.filter((a) => new Date(a.ts).toISOString().startsWith(d));
    expect(on('2000-09-29').filter((a) => a.kind === 'probable_split')).toEqual([]);
    for (const d of ['2009-09-21', '2010-08-31', '2011-01-03']) {
      expect(on(d).map((a) => [a.kind, a.severity])).toEqual([['bad_tick', 'CRITICAL']]);
    }
  });

  it.each([
    ['SPY', '2002-04-02', 'spike', 'CRITICAL', /^high 144\.12 /],
    ['AAPL', '2001-04-05', 'spike', 'HIGH', /^high 27\.00 /],
    ['QQQ', '2002-06-27', 'spike', 'HIGH', /^low 20\.59 /],
    ['QQQ', '2004-11-01', 'spike', 'CRITICAL', /^low 27\.05 /],
    ['QQQ', '2004-11-17', 'spike', 'CRITICAL', /^low 30\.90 /],
    ['BTCUSD', '2017-04-15', 'bad_tick', 'CRITICAL', /^low 0\.06000 /],
  ])('%s %s: the bad print documented in data/sample/README.md is paged', (symbol, day, kind, severity, reason) => {
    const bars = load(join(ROOT, 'data', 'sample', `${symbol}_1d.csv`));
    const hit = scoreBars({ bars, firstNew: 0, timeframe: '1d', symbol }).anomalies.filter((a) =>
      new Date(a.ts).toISOString().startsWith(day),
    );
    expect(hit.map((a) => [a.kind, a.severity])).toEqual([[kind, severity]]);
    expect(hit[0].reason).toMatch(reason);
  });

  it('split-adjusted real data gives no probable_split: AAPL with its four splits applied here by hand', () => {
    const raw = load(join(ROOT, 'data', 'sample', 'AAPL_1d.csv'));
    const { actions } = JSON.parse(readFileSync(join(ROOT, 'data', 'sample', 'corporate-actions.json'), 'utf8')) as {
      actions: { kind: string; symbol: string; exDate: string; newShares: number; oldShares: number }[];
    };
    const splits = actions.filter((a) => a.kind === 'split' && a.symbol === 'AAPL');
    expect(splits).toHaveLength(4);
    const adj = {
      ts: raw.ts.slice(),
      open: raw.open.slice(),
      high: raw.high.slice(),
      low: raw.low.slice(),
      close: raw.close.slice(),
      volume: raw.volume.slice(),
    };
    for (const sp of splits) {
      const ex = Date.parse(`${sp.exDate}T00:00:00Z`);
      const f = sp.newShares / sp.oldShares;
      for (let i = 0; i < adj.ts.length && adj.ts[i] < ex; i++) {
        adj.open[i] /= f;
        adj.high[i] /= f;
        adj.low[i] /= f;
        adj.close[i] /= f;
        adj.volume[i] *= f;
      }
    }
    const kinds = (bars: OhlcvSeries) =>
      scoreBars({ bars, firstNew: 0, timeframe: '1d', symbol: 'AAPL' }).anomalies.filter(
        (a) => a.kind === 'probable_split',
      ).length;
    expect(kinds(raw)).toBe(4);
    expect(kinds(adj)).toBe(0);
  });

  it('QQQ reports its 1,588-session hole (ticker QQQQ, 2004-12 to 2011-03, data/sample/README.md) as one CRITICAL gap', () => {
    const q = scoreBars({
      bars: load(join(ROOT, 'data', 'sample', 'QQQ_1d.csv')),
      firstNew: 0,
      timeframe: '1d',
      symbol: 'QQQ',
    }).anomalies.filter((a) => a.kind === 'gap');
    expect(q.map((a) => [new Date(a.ts).toISOString().slice(0, 10), a.severity])).toEqual([['2011-03-23', 'CRITICAL']]);
    expect(q[0].reason).toMatch(/^1588 expected 1d bar/);
  });
});
