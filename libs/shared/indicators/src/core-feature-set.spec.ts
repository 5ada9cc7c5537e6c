import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CORE_FEATURE_SET_VERSIONS,
  CORE_V1_FEATURE_NAMES,
  CORE_V2_FEATURE_NAMES,
  type CoreFeatureColumns,
  type CoreFeatureName,
  FEATURE_SET_CORE_V1,
  FEATURE_SET_CORE_V2,
  computeCoreFeatures,
  computeCoreFeaturesTail,
  computeCoreFeaturesV2,
  computeCoreFeaturesV2Tail,
} from './core-feature-set';
import { InvalidBarsError, type OhlcvColumns } from './ohlcv';
import { randomWalkBars } from './random-walk-bars';

/*
 * The library checked against an INDEPENDENT reference written here with plain number arrays and naive
 * loops, following the textbook / TA-Lib definition of each indicator (including TA-Lib's seeding and
 * lookback), over real daily bars (LEAN-derived SPY and AAPL, raw prices). Nothing below calls the kernels.
 */

// The bundled sample (data/sample) holds the same LEAN-derived SPY and AAPL daily files as shared/data/market.
const MARKET_DIR = path.resolve(__dirname, '../../../../data/sample');

interface Bars {
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

function readCsv(file: string): Bars {
  const lines = fs.readFileSync(path.join(MARKET_DIR, file), 'utf8').trim().split('\n');
  const header = lines[0].split(',');
  const col = (name: string) => header.indexOf(name);
  const b: Bars = { open: [], high: [], low: [], close: [], volume: [] };
  for (const line of lines.slice(1)) {
    const p = line.split(',');
    b.open.push(Number(p[col('open')]));
    b.high.push(Number(p[col('high')]));
    b.low.push(Number(p[col('low')]));
    b.close.push(Number(p[col('close')]));
    b.volume.push(Number(p[col('volume')]));
  }
  return b;
}

const toColumns = (b: Bars): OhlcvColumns => ({
  open: Float64Array.from(b.open),
  high: Float64Array.from(b.high),
  low: Float64Array.from(b.low),
  close: Float64Array.from(b.close),
  volume: Float64Array.from(b.volume),
});

// ---------------------------------------------------------------------------------------------------
// Naive reference implementation (independent of the library).
// ---------------------------------------------------------------------------------------------------

const nanArray = (n: number) => new Array<number>(n).fill(NaN);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const window = (xs: number[], t: number, p: number) => xs.slice(t - p + 1, t + 1);
const popVar = (xs: number[]) => {
  const m = mean(xs);
  return xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length;
};
const sampleSd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** TA-Lib 0.8's scaled zero test on a difference of two comparable magnitudes. */
const flat = (diff: number, scale: number) => Math.abs(diff) <= 1e-14 * scale;

/** EMA seeded with the SMA of `values[start .. start+p-1]`, first value at index start+p-1. */
function refEma(values: number[], p: number, start: number): number[] {
  const out = nanArray(values.length);
  const alpha = 2 / (p + 1);
  let e = mean(values.slice(start, start + p));
  out[start + p - 1] = e;
  for (let t = start + p; t < values.length; t++) {
    e = alpha * values[t] + (1 - alpha) * e;
    out[t] = e;
  }
  return out;
}

/** Wilder average: seed = mean of xs[first .. first+p-1] at index first+p-1, then (prev*(p-1) + x)/p. */
function refWilder(xs: number[], p: number, first: number): number[] {
  const out = nanArray(xs.length);
  let a = mean(xs.slice(first, first + p));
  out[first + p - 1] = a;
  for (let t = first + p; t < xs.length; t++) {
    a = (a * (p - 1) + xs[t]) / p;
    out[t] = a;
  }
  return out;
}

function reference(b: Bars, barsPerYear: number): Record<CoreFeatureName, number[]> {
  const { high: h, low: l, close: c, volume: v } = b;
  const n = c.length;
  const r = {} as Record<CoreFeatureName, number[]>;

  for (const k of [1, 5, 20] as const) {
    r[`ret_${k}`] = c.map((x, t) => (t >= k ? x / c[t - k] - 1 : NaN));
  }
  r.sma_20_ratio = c.map((x, t) => (t >= 19 ? x / mean(window(c, t, 20)) - 1 : NaN));
  const ema20 = refEma(c, 20, 0);
  r.ema_20_ratio = c.map((x, t) => x / ema20[t] - 1);

  // MACD per TA-Lib: both EMAs start at bar 25 (the fast one seeded with the mean of bars 14..25),
  // signal = EMA(9) of the line seeded with its first 9 values; everything published from bar 33.
  const slow = refEma(c, 26, 0);
  const fast = refEma(c, 12, 14);
  const line = c.map((_, t) => (t >= 25 ? fast[t] - slow[t] : NaN));
  const signal = refEma(line, 9, 25);
  r.macd = line.map((x, t) => (t >= 33 ? x : NaN));
  r.macd_signal = signal.map((x, t) => (t >= 33 ? x : NaN));
  r.macd_hist = c.map((_, t) => (t >= 33 ? line[t] - signal[t] : NaN));

  // RSI: Wilder averages of gains and losses over changes 1..14, first value at bar 14.
  const gains = c.map((x, t) => (t === 0 ? 0 : Math.max(x - c[t - 1], 0)));
  const losses = c.map((x, t) => (t === 0 ? 0 : Math.max(c[t - 1] - x, 0)));
  const ag = refWilder(gains, 14, 1);
  const al = refWilder(losses, 14, 1);
  r.rsi_14 = c.map((_, t) => (t < 14 ? NaN : ag[t] + al[t] === 0 ? 0 : (100 * ag[t]) / (ag[t] + al[t])));

  // Bollinger(20, 2), population variance.
  r.bb_pct_b = nanArray(n);
  r.bb_bandwidth = nanArray(n);
  for (let t = 19; t < n; t++) {
    const w = window(c, t, 20);
    const m = mean(w);
    const sd = Math.sqrt(popVar(w));
    const upper = m + 2 * sd;
    const lower = m - 2 * sd;
    r.bb_pct_b[t] = sd === 0 ? NaN : (c[t] - lower) / (upper - lower);
    r.bb_bandwidth[t] = (upper - lower) / m;
  }

  const tr = c.map((_, t) =>
    t === 0 ? NaN : Math.max(h[t] - l[t], Math.abs(h[t] - c[t - 1]), Math.abs(l[t] - c[t - 1])),
  );
  r.atr_14 = refWilder(tr, 14, 1);

  // Fast stochastic (14, 3) and Williams %R(14); TA-Lib publishes %K and %D from bar 15.
  const hh = c.map((_, t) => (t >= 13 ? Math.max(...window(h, t, 14)) : NaN));
  const ll = c.map((_, t) => (t >= 13 ? Math.min(...window(l, t, 14)) : NaN));
  const k = c.map((x, t) =>
    t < 13 ? NaN : flat(hh[t] - ll[t], Math.abs(hh[t]) + Math.abs(ll[t])) ? 0 : (100 * (x - ll[t])) / (hh[t] - ll[t]),
  );
  r.stoch_k = k.map((x, t) => (t >= 15 ? x : NaN));
  r.stoch_d = k.map((_, t) => (t >= 15 ? mean(window(k, t, 3)) : NaN));
  r.willr_14 = c.map((x, t) =>
    t < 13 ? NaN : flat(hh[t] - ll[t], Math.abs(hh[t]) + Math.abs(ll[t])) ? 0 : (-100 * (hh[t] - x)) / (hh[t] - ll[t]),
  );

  // CCI(20) on typical price.
  const tp = c.map((x, t) => (h[t] + l[t] + x) / 3);
  r.cci_20 = nanArray(n);
  for (let t = 19; t < n; t++) {
    const w = window(tp, t, 20);
    const m = mean(w);
    const md = w.reduce((a, x) => a + Math.abs(x - m), 0) / 20;
    r.cci_20[t] = flat(tp[t] - m, Math.abs(m)) || flat(md, Math.abs(m)) ? 0 : (tp[t] - m) / (0.015 * md);
  }

  // ADX(14) with TA-Lib's seeding: DM/TR summed over bars 1..13, Wilder sums S - S/14 + x from bar 14,
  // ADX = mean DX of bars 14..27 at bar 27, then Wilder.
  const dmP = c.map(() => 0);
  const dmM = c.map(() => 0);
  for (let t = 1; t < n; t++) {
    const up = h[t] - h[t - 1];
    const down = l[t - 1] - l[t];
    if (down > 0 && up < down) dmM[t] = down;
    else if (up > 0 && up > down) dmP[t] = up;
  }
  r.adx_14 = nanArray(n);
  let sP = 0;
  let sM = 0;
  let sTr = 0;
  for (let t = 1; t <= 13; t++) {
    sP += dmP[t];
    sM += dmM[t];
    sTr += tr[t];
  }
  const dx = nanArray(n);
  for (let t = 14; t < n; t++) {
    sP = sP - sP / 14 + dmP[t];
    sM = sM - sM / 14 + dmM[t];
    sTr = sTr - sTr / 14 + tr[t];
    const diP = (100 * sP) / sTr;
    const diM = (100 * sM) / sTr;
    dx[t] = sTr === 0 || diP + diM === 0 ? NaN : (100 * Math.abs(diP - diM)) / (diP + diM);
  }
  let adxValue = dx.slice(14, 28).reduce((a, x) => a + (Number.isNaN(x) ? 0 : x), 0) / 14;
  r.adx_14[27] = adxValue;
  for (let t = 28; t < n; t++) {
    if (!Number.isNaN(dx[t])) adxValue = (adxValue * 13 + dx[t]) / 14;
    r.adx_14[t] = adxValue;
  }

  // OBV seeded with the first volume.
  r.obv = [v[0]];
  for (let t = 1; t < n; t++) r.obv.push(r.obv[t - 1] + (c[t] > c[t - 1] ? v[t] : c[t] < c[t - 1] ? -v[t] : 0));

  // MFI(14): flows of bars t-13..t signed by the typical-price change (equal within rounding: none).
  const flow = tp.map((x, t) => {
    if (t === 0 || flat(x - tp[t - 1], Math.abs(x) + Math.abs(tp[t - 1]))) return 0;
    return x > tp[t - 1] ? x * v[t] : -x * v[t];
  });
  r.mfi_14 = nanArray(n);
  for (let t = 14; t < n; t++) {
    const w = window(flow, t, 14);
    const pos = w.filter((x) => x > 0).reduce((a, x) => a + x, 0);
    const neg = w.filter((x) => x < 0).reduce((a, x) => a - x, 0);
    r.mfi_14[t] = pos + neg === 0 ? 0 : (100 * pos) / (pos + neg);
  }

  r.roc_10 = c.map((x, t) => (t >= 10 ? 100 * (x / c[t - 10] - 1) : NaN));

  const logRet = c.map((x, t) => (t === 0 ? NaN : Math.log(x) - Math.log(c[t - 1])));
  r.rv_20 = c.map((_, t) => (t >= 20 ? sampleSd(window(logRet, t, 20)) * Math.sqrt(barsPerYear) : NaN));

  r.volume_z_20 = v.map((x, t) => {
    if (t < 19) return NaN;
    const w = window(v, t, 20);
    const sd = sampleSd(w);
    return sd === 0 ? NaN : (x - mean(w)) / sd;
  });
  return r;
}

/**
 * Scale below which a feature is compared absolutely: 1e-9 relative to max(|reference|, scale). Values near
 * zero (a return of 0, a MACD crossing) carry the rounding of operands of this magnitude, so a pure
 * relative test there would compare rounding noise.
 */
function comparisonScale(name: CoreFeatureName, b: Bars): number {
  const priceLevel = mean(b.close);
  switch (name) {
    case 'macd':
    case 'macd_signal':
    case 'macd_hist':
    case 'atr_14':
      return 1e-3 * priceLevel;
    case 'obv':
      return mean(b.volume);
    case 'rsi_14':
    case 'stoch_k':
    case 'stoch_d':
    case 'willr_14':
    case 'cci_20':
    case 'adx_14':
    case 'mfi_14':
    case 'roc_10':
      return 1;
    default:
      return 1e-2;
  }
}

describe.each(['SPY_1d.csv', 'AAPL_1d.csv'])('core v1 against the naive reference on %s', (file) => {
  const bars = readCsv(file);
  const ref = reference(bars, 252);
  const mine = computeCoreFeatures(toColumns(bars), { timeframe: '1d' });

  it.each(CORE_V1_FEATURE_NAMES.map((x) => [x]))(
    '%s matches to 1e-9 relative, NaN exactly where the reference has none',
    (name) => {
      const a = mine[name];
      const e = ref[name];
      expect(a.length).toBe(e.length);
      const scale = comparisonScale(name, bars);
      let worst = 0;
      let worstAt = -1;
      let values = 0;
      for (let t = 0; t < e.length; t++) {
        if (Number.isNaN(e[t])) {
          if (!Number.isNaN(a[t])) throw new Error(`${name}[${t}] = ${a[t]}, reference has no value (NaN)`);
          continue;
        }
        values++;
        const err = Math.abs(a[t] - e[t]) / Math.max(Math.abs(e[t]), scale);
        if (!(err <= worst)) {
          worst = err;
          worstAt = t;
        }
      }
      if (!(worst <= 1e-9))
        throw new Error(`${name}: relative error ${worst} at bar ${worstAt} (${a[worstAt]} vs ${e[worstAt]})`);
      expect(values).toBeGreaterThan(bars.close.length - 40);
    },
  );

  it('starts every feature exactly at the lookback the definition declares', () => {
    for (const def of FEATURE_SET_CORE_V1.features) {
      const a = mine[def.name as CoreFeatureName];
      const first = a.findIndex((x) => !Number.isNaN(x));
      expect({ name: def.name, first }).toEqual({ name: def.name, first: def.lookback });
    }
  });
});

describe('FEATURE_SET_CORE_V1', () => {
  it('lists the 22 names other tools rely on, in a stable order', () => {
    expect(FEATURE_SET_CORE_V1.features.map((x) => x.name)).toEqual([
      'ret_1',
      'ret_5',
      'ret_20',
      'sma_20_ratio',
      'ema_20_ratio',
      'macd',
      'macd_signal',
      'macd_hist',
      'rsi_14',
      'bb_pct_b',
      'bb_bandwidth',
      'atr_14',
      'stoch_k',
      'stoch_d',
      'willr_14',
      'cci_20',
      'adx_14',
      'obv',
      'mfi_14',
      'roc_10',
      'rv_20',
      'volume_z_20',
    ]);
    expect(CORE_V1_FEATURE_NAMES).toHaveLength(22);
    expect(FEATURE_SET_CORE_V1).toMatchObject({ name: 'core', version: 1, warmUpBars: 33 });
    expect(FEATURE_SET_CORE_V1.codeVersion).toMatch(/\S/);
  });

  it('is immutable', () => {
    expect(Object.isFrozen(FEATURE_SET_CORE_V1)).toBe(true);
    expect(Object.isFrozen(FEATURE_SET_CORE_V1.features)).toBe(true);
    expect(Object.isFrozen(FEATURE_SET_CORE_V1.features[0].params)).toBe(true);
  });

  it('flags exactly the features whose last value still depends on the first bar', () => {
    const bars = randomWalkBars(120, 11);
    const base = computeCoreFeatures(bars, { timeframe: '1d' });
    const changed = {
      ...bars,
      high: bars.high.slice(),
      low: bars.low.slice(),
      close: bars.close.slice(),
      volume: bars.volume.slice(),
    };
    changed.close[0] *= 0.97;
    changed.low[0] = Math.min(changed.low[0], changed.close[0]);
    changed.high[0] *= 1.01;
    changed.low[0] *= 0.99;
    changed.volume[0] += 12345;
    const other = computeCoreFeatures(changed, { timeframe: '1d' });
    for (const def of FEATURE_SET_CORE_V1.features) {
      const name = def.name as CoreFeatureName;
      const differs = base[name][119] !== other[name][119];
      expect({ name: def.name, differs }).toEqual({ name: def.name, differs: def.dependsOnFullHistory });
    }
  });
});

describe('point-in-time', () => {
  const bars = toColumns(readCsv('SPY_1d.csv'));
  const full = computeCoreFeatures(bars, { timeframe: '1d' });

  it.each([0, 33, 500, 2000, 5000])('changing every bar after %i leaves every feature up to it unchanged', (cut) => {
    const noise = randomWalkBars(bars.close.length, cut + 1, 300);
    const altered: OhlcvColumns = {
      open: bars.open.slice(),
      high: bars.high.slice(),
      low: bars.low.slice(),
      close: bars.close.slice(),
      volume: bars.volume.slice(),
    };
    for (let t = cut + 1; t < bars.close.length; t++) {
      altered.open[t] = noise.open[t];
      altered.high[t] = noise.high[t];
      altered.low[t] = noise.low[t];
      altered.close[t] = noise.close[t];
      altered.volume[t] = noise.volume[t];
    }
    const changed = computeCoreFeatures(altered, { timeframe: '1d' });
    for (const name of CORE_V1_FEATURE_NAMES) {
      for (let t = 0; t <= cut; t++) {
        if (!Object.is(changed[name][t], full[name][t]))
          throw new Error(`${name}[${t}] changed when bars after ${cut} changed`);
      }
      // The future really changed, so the test can fail.
      expect(changed[name][bars.close.length - 1]).not.toBe(full[name][bars.close.length - 1]);
    }
  });

  it('a truncated history gives the same features as the full one up to its end', () => {
    const cut = 3000;
    const head: OhlcvColumns = {
      open: bars.open.subarray(0, cut),
      high: bars.high.subarray(0, cut),
      low: bars.low.subarray(0, cut),
      close: bars.close.subarray(0, cut),
      volume: bars.volume.subarray(0, cut),
    };
    const part = computeCoreFeatures(head, { timeframe: '1d' });
    for (const name of CORE_V1_FEATURE_NAMES) {
      for (let t = 0; t < cut; t++) {
        if (!Object.is(part[name][t], full[name][t])) throw new Error(`${name}[${t}] differs on the truncated history`);
      }
    }
  });
});

describe('computeCoreFeaturesTail', () => {
  const bars = toColumns(readCsv('AAPL_1d.csv'));
  const n = bars.close.length;
  const full = computeCoreFeatures(bars, { timeframe: '1d' });

  it.each([0, 1, 13, 19, 33, 63, 64, 65, 127, 128, 1000, n - 1, n])(
    'is bit-identical to the full computation from %i',
    (from) => {
      const tail: CoreFeatureColumns = computeCoreFeaturesTail(bars, from, { timeframe: '1d' });
      for (const name of CORE_V1_FEATURE_NAMES) {
        expect(tail[name].length).toBe(n - from);
        for (let t = from; t < n; t++) {
          if (!Object.is(tail[name][t - from], full[name][t])) throw new Error(`${name}[${t}] differs from ${from}`);
        }
      }
    },
  );

  it('rejects a start outside the bars', () => {
    expect(() => computeCoreFeaturesTail(bars, n + 1, { timeframe: '1d' })).toThrow(RangeError);
    expect(() => computeCoreFeaturesTail(bars, -1, { timeframe: '1d' })).toThrow(RangeError);
  });
});

describe('input validation', () => {
  const good = () => randomWalkBars(50, 3);

  it.each([
    ['length_mismatch', (b: OhlcvColumns) => ({ ...b, volume: b.volume.subarray(1) }), 'volume', -1],
    ['non_finite', (b: OhlcvColumns) => ((b.high[7] = NaN), b), 'high', 7],
    ['non_finite', (b: OhlcvColumns) => ((b.close[9] = Infinity), b), 'close', 9],
    ['non_positive_price', (b: OhlcvColumns) => ((b.low[3] = 0), b), 'low', 3],
    ['negative_volume', (b: OhlcvColumns) => ((b.volume[4] = -1), b), 'volume', 4],
  ] as const)('rejects %s with the column and bar index', (reason, spoil, field, index) => {
    let err: unknown;
    try {
      computeCoreFeatures(spoil(good()), { timeframe: '1d' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidBarsError);
    expect(err).toMatchObject({ reason, field, index });
  });

  it('accepts zero volume and returns NaN-free features after warm-up on ordinary data', () => {
    const b = good();
    b.volume[20] = 0;
    const f = computeCoreFeatures(b, { timeframe: '1d' });
    for (const name of CORE_V1_FEATURE_NAMES) expect(Number.isNaN(f[name][49])).toBe(false);
  });

  it('annualises rv_20 by timeframe and calendar', () => {
    const b = good();
    const d = computeCoreFeatures(b, { timeframe: '1d' }).rv_20[40];
    const h = computeCoreFeatures(b, { timeframe: '1h' }).rv_20[40];
    const c = computeCoreFeatures(b, { timeframe: '1d', calendar: 'crypto-24x7' }).rv_20[40];
    expect(h / d).toBeCloseTo(Math.sqrt(1638 / 252), 12);
    expect(c / d).toBeCloseTo(Math.sqrt(365 / 252), 12);
  });
});

describe.each(['SPY_1d.csv', 'AAPL_1d.csv'])('core v2 against the naive reference on %s', (file) => {
  const bars = readCsv(file);
  const ref = reference(bars, 252);
  const c = bars.close;
  const v = bars.volume;
  // v2's five scale-free columns from the reference's v1 columns, by the formulas FEATURE_SET_CORE_V2 states.
  const expected: Record<string, number[]> = {
    ...ref,
    macd_norm: ref.macd.map((x, t) => x / c[t]),
    macd_signal_norm: ref.macd_signal.map((x, t) => x / c[t]),
    macd_hist_norm: ref.macd_hist.map((x, t) => x / c[t]),
    natr_14: ref.atr_14.map((x, t) => (x / c[t]) * 100),
    obv_rate_20: ref.obv.map((x, t) => {
      if (t < 20) return NaN;
      const total = window(v, t, 20).reduce((a, b) => a + b, 0);
      return total > 0 ? (x - ref.obv[t - 20]) / total : NaN;
    }),
  };
  const mine = computeCoreFeaturesV2(toColumns(bars), { timeframe: '1d' }) as Record<string, Float64Array>;

  it.each(CORE_V2_FEATURE_NAMES.map((x) => [x]))('%s matches to 1e-9 relative (1e-12 absolute), same NaNs', (name) => {
    const a = mine[name];
    const e = expected[name];
    let worst = 0;
    for (let t = 0; t < e.length; t++) {
      if (Number.isNaN(e[t]) !== Number.isNaN(a[t])) throw new Error(`${name}[${t}]: ${a[t]} vs ${e[t]}`);
      if (Number.isNaN(e[t])) continue;
      worst = Math.max(worst, Math.abs(a[t] - e[t]) / Math.max(Math.abs(e[t]), 1e-3));
    }
    expect(worst).toBeLessThanOrEqual(1e-9);
  });

  it('starts each column at its declared lookback; shares the other 17 columns with v1 bit for bit', () => {
    const v1 = computeCoreFeatures(toColumns(bars), { timeframe: '1d' }) as Record<string, Float64Array>;
    for (const def of FEATURE_SET_CORE_V2.features) {
      expect({ name: def.name, first: mine[def.name].findIndex((x) => !Number.isNaN(x)) }).toEqual({
        name: def.name,
        first: def.lookback,
      });
      if (v1[def.name]) expect(Buffer.compare(bytes(v1[def.name]), bytes(mine[def.name]))).toBe(0);
    }
    expect(FEATURE_SET_CORE_V2.features.map((x) => x.name)).toEqual([...CORE_V2_FEATURE_NAMES]);
    expect(FEATURE_SET_CORE_V2).toMatchObject({ name: 'core', version: 2, warmUpBars: 33 });
    expect(CORE_FEATURE_SET_VERSIONS[2].definition).toBe(FEATURE_SET_CORE_V2);
    expect(FEATURE_SET_CORE_V2.features.every((x) => x.talib.length > 0)).toBe(true);
  });
});

const bytes = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('core v2 is scale-free: a split recorded after t changes nothing at or before t', () => {
  const bars = toColumns(readCsv('AAPL_1d.csv'));
  const n = bars.close.length;
  const cut = 3000;
  // A 2:1 split dated after `cut`, back-adjusted: earlier prices halved, earlier volumes doubled (exact in binary).
  const split: OhlcvColumns = {
    open: bars.open.map((x, t) => (t <= cut ? x / 2 : x)),
    high: bars.high.map((x, t) => (t <= cut ? x / 2 : x)),
    low: bars.low.map((x, t) => (t <= cut ? x / 2 : x)),
    close: bars.close.map((x, t) => (t <= cut ? x / 2 : x)),
    volume: bars.volume.map((x, t) => (t <= cut ? x * 2 : x)),
  };
  const changedUpTo = (a: Record<string, Float64Array>, b: Record<string, Float64Array>, names: readonly string[]) =>
    names.filter((name) => {
      for (let t = 0; t <= cut; t++) if (!Object.is(a[name][t], b[name][t])) return true;
      return false;
    });

  it('v2: no column changes at any bar up to t', () => {
    const before = computeCoreFeaturesV2(bars, { timeframe: '1d' });
    const after = computeCoreFeaturesV2(split, { timeframe: '1d' });
    expect(changedUpTo(before, after, CORE_V2_FEATURE_NAMES)).toEqual([]);
  });

  it('v1: exactly its five unit-bearing columns change (what v2 replaces)', () => {
    const before = computeCoreFeatures(bars, { timeframe: '1d' });
    const after = computeCoreFeatures(split, { timeframe: '1d' });
    expect(changedUpTo(before, after, CORE_V1_FEATURE_NAMES)).toEqual([
      'macd',
      'macd_signal',
      'macd_hist',
      'atr_14',
      'obv',
    ]);
  });

  it.each([0, 1, 20, 33, 64, 1000, n - 1, n])('computeCoreFeaturesV2Tail is bit-identical from %i', (from) => {
    const full = computeCoreFeaturesV2(bars, { timeframe: '1d' });
    const tail = computeCoreFeaturesV2Tail(bars, from, { timeframe: '1d' });
    for (const name of CORE_V2_FEATURE_NAMES) {
      expect(tail[name].length).toBe(n - from);
      expect(Buffer.compare(bytes(tail[name]), bytes(full[name].subarray(from)))).toBe(0);
    }
  });
});
