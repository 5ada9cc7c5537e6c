import { TimeframeSchema, type OhlcvSeries } from '@strata/marketdata-contracts';
import { layoutSlots, parseClock, US_EQUITY_SESSION, type SessionSpec } from './synthetic.calendar';
import { Xoshiro128ss } from '@strata/shared-random';
import { stationaryDistribution } from './regime.markov';
import {
  ANOMALY_CODE,
  ANOMALY_KINDS,
  DEFAULT_REGIMES,
  DEFAULT_TRANSITIONS,
  SyntheticConfigError,
  type AnomalyEvent,
  type AnomalyKind,
  type AnomalySpec,
  type JumpSpec,
  type PriceField,
  type RegimeSpec,
  type SyntheticConfig,
  type SyntheticConfigIssue,
  type SyntheticSeries,
  type VolumeSpec,
} from './synthetic.types';

/** PRNG stream used for the clean price path; anomalies use {@link ANOMALY_STREAM} so toggling them never moves prices. */
const PRICE_STREAM = 0;
const ANOMALY_STREAM = 1;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

interface Resolved {
  cfg: SyntheticConfig;
  regimes: readonly RegimeSpec[];
  transitions: readonly (readonly number[])[];
  jumps: JumpSpec;
  volume: VolumeSpec;
  overnightShare: number;
  startMs: number;
  session: SessionSpec;
  anomalies: Required<AnomalySpec> & { rates: Record<AnomalyKind, number> };
}

function resolve(cfg: SyntheticConfig): Resolved {
  const issues: SyntheticConfigIssue[] = [];
  const bad = (field: string, message: string) => issues.push({ field, message });
  if (!Number.isInteger(cfg.bars) || cfg.bars < 1) bad('bars', 'must be a positive integer');
  if (!TimeframeSchema.safeParse(cfg.timeframe).success)
    bad('timeframe', `must be one of ${TimeframeSchema.options.join(', ')}`);
  if (typeof cfg.seed === 'number' && !Number.isFinite(cfg.seed)) bad('seed', 'must be a finite number or a string');
  const calendar = cfg.calendar ?? 'nyse';
  if (calendar !== 'nyse' && calendar !== 'weekdays' && calendar !== '24x7')
    bad('calendar', "must be 'nyse', 'weekdays' or '24x7'");
  const startText = cfg.start ?? (calendar === '24x7' ? '2021-01-01T00:00:00Z' : '2000-01-03');
  const startMs = /^\d{4}-\d{2}-\d{2}$/.test(startText) ? Date.parse(`${startText}T00:00:00Z`) : Date.parse(startText);
  if (!Number.isFinite(startMs)) bad('start', 'must be YYYY-MM-DD or an ISO-8601 instant');
  const session = cfg.session ?? US_EQUITY_SESSION;
  try {
    if (parseClock(session.close) <= parseClock(session.open)) bad('session', 'close must be after open');
    new Intl.DateTimeFormat('en-US', { timeZone: session.timeZone });
  } catch (e) {
    bad('session', (e as Error).message);
  }
  const regimes = cfg.regimes ?? DEFAULT_REGIMES;
  if (regimes.length < 1 || regimes.length > 255) bad('regimes', 'must hold 1 to 255 regimes');
  regimes.forEach((r, i) => {
    if (!Number.isFinite(r.drift)) bad(`regimes.${i}.drift`, 'must be finite');
    if (!(r.volatility >= 0) || !Number.isFinite(r.volatility))
      bad(`regimes.${i}.volatility`, 'must be finite and >= 0');
    if (r.volumeMultiplier !== undefined && !(r.volumeMultiplier > 0))
      bad(`regimes.${i}.volumeMultiplier`, 'must be > 0');
  });
  const transitions =
    cfg.transitionMatrix ?? (regimes === DEFAULT_REGIMES ? DEFAULT_TRANSITIONS : regimes.length === 1 ? [[1]] : []);
  if (transitions.length !== regimes.length) {
    bad(
      'transitionMatrix',
      cfg.transitionMatrix
        ? `must be ${regimes.length} x ${regimes.length}`
        : 'is required when custom regimes are given',
    );
  }
  transitions.forEach((row, i) => {
    if (row.length !== regimes.length) bad(`transitionMatrix.${i}`, `must have ${regimes.length} entries`);
    if (row.some((x) => !(x >= 0) || !Number.isFinite(x)))
      bad(`transitionMatrix.${i}`, 'entries must be finite and >= 0');
    const sum = row.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-9) bad(`transitionMatrix.${i}`, `row must sum to 1 (sums to ${sum})`);
  });
  if (
    cfg.initialRegime !== undefined &&
    !(Number.isInteger(cfg.initialRegime) && cfg.initialRegime >= 0 && cfg.initialRegime < regimes.length)
  ) {
    bad('initialRegime', `must be an integer in [0, ${regimes.length - 1}]`);
  }
  const jumps = cfg.jumps ?? { intensityPerYear: 4, meanLog: -0.02, stdLog: 0.05 };
  if (!(jumps.intensityPerYear >= 0)) bad('jumps.intensityPerYear', 'must be >= 0');
  if (!Number.isFinite(jumps.meanLog)) bad('jumps.meanLog', 'must be finite');
  if (!(jumps.stdLog >= 0)) bad('jumps.stdLog', 'must be >= 0');
  const volume: VolumeSpec = { base: 1_000_000, absReturnBeta: 0.6, logSigma: 0.35, decimals: 0, ...cfg.volume };
  if (!(volume.base > 0)) bad('volume.base', 'must be > 0');
  if (!Number.isFinite(volume.absReturnBeta)) bad('volume.absReturnBeta', 'must be finite');
  if (!(volume.logSigma >= 0)) bad('volume.logSigma', 'must be >= 0');
  if (!(Number.isInteger(volume.decimals) && volume.decimals >= 0 && volume.decimals <= 12))
    bad('volume.decimals', 'must be an integer in [0, 12]');
  const overnightShare = cfg.overnightVarianceShare ?? 0.2;
  if (!(overnightShare >= 0 && overnightShare <= 1)) bad('overnightVarianceShare', 'must be in [0, 1]');
  if (!(cfg.initialPrice === undefined || cfg.initialPrice > 0)) bad('initialPrice', 'must be > 0');
  if (
    cfg.priceDecimals !== undefined &&
    !(Number.isInteger(cfg.priceDecimals) && cfg.priceDecimals >= 0 && cfg.priceDecimals <= 12)
  ) {
    bad('priceDecimals', 'must be an integer in [0, 12]');
  }
  if (cfg.barsPerYear !== undefined && !(cfg.barsPerYear > 0)) bad('barsPerYear', 'must be > 0');

  const a = cfg.anomalies ?? {};
  const rates = {} as Record<AnomalyKind, number>;
  let total = 0;
  for (const k of ANOMALY_KINDS) {
    const r = a.rates?.[k] ?? 0;
    if (!(r >= 0 && r <= 1)) bad(`anomalies.rates.${k}`, 'must be in [0, 1]');
    rates[k] = r;
    total += r;
  }
  if (total > 1) bad('anomalies.rates', `rates must sum to at most 1 (sum ${total})`);
  const anomalies = {
    rates,
    spike: a.spike ?? { minSigmas: 8, maxSigmas: 16 },
    gap: a.gap ?? { minBars: 1, maxBars: 3 },
    stale: a.stale ?? { minBars: 4, maxBars: 10 },
    badTick: a.badTick ?? { fields: ['open', 'high', 'low', 'close'] as PriceField[], factors: [10, 0.1] },
    volumeBurst: a.volumeBurst ?? { minFactor: 20, maxFactor: 50 },
  };
  if (!(anomalies.spike.minSigmas > 0 && anomalies.spike.maxSigmas >= anomalies.spike.minSigmas))
    bad('anomalies.spike', 'need 0 < minSigmas <= maxSigmas');
  for (const key of ['gap', 'stale'] as const) {
    const s = anomalies[key];
    if (!(Number.isInteger(s.minBars) && Number.isInteger(s.maxBars) && s.minBars >= 1 && s.maxBars >= s.minBars)) {
      bad(`anomalies.${key}`, 'need integers 1 <= minBars <= maxBars');
    }
  }
  if (
    anomalies.badTick.fields.length === 0 ||
    anomalies.badTick.fields.some((f) => !['open', 'high', 'low', 'close'].includes(f))
  ) {
    bad('anomalies.badTick.fields', 'must list open, high, low and/or close');
  }
  if (anomalies.badTick.factors.length === 0 || anomalies.badTick.factors.some((f) => !(f > 0) || f === 1)) {
    bad('anomalies.badTick.factors', 'must list positive factors other than 1');
  }
  if (!(anomalies.volumeBurst.minFactor > 1 && anomalies.volumeBurst.maxFactor >= anomalies.volumeBurst.minFactor)) {
    bad('anomalies.volumeBurst', 'need 1 < minFactor <= maxFactor');
  }
  if (issues.length) throw new SyntheticConfigError(issues);
  return {
    cfg: { ...cfg, calendar },
    regimes,
    transitions,
    jumps,
    volume,
    overnightShare,
    startMs,
    session,
    anomalies,
  };
}

/**
 * Generates a seeded synthetic OHLCV series: regime-switching geometric Brownian motion with Merton jumps, realistic
 * bars and volume, plus optional labelled anomalies, and the ground truth (regime, jumps and anomaly per bar).
 *
 * Model, per calendar slot t with Δt = 1 / barsPerYear and regime k_t drawn from row k_{t−1} of the transition matrix:
 * - log return (previous close → close) = (μ_k − σ_k²/2)Δt + σ_k√Δt·Z + Σ_{j ≤ N} J_j, N ~ Poisson(λΔt), J ~ N(m, s²);
 * - a session-opening bar realises a share `overnightVarianceShare` of the diffusion between the previous close and its
 *   open (the overnight gap); the rest, and the jumps, happen between open and close;
 * - high and low are the exact maximum and minimum of a Brownian bridge from open to close with the intraday variance
 *   (inverse-CDF sampling of the bridge extremes), so low ≤ min(open, close) and high ≥ max(open, close) always hold;
 * - volume is lognormal, larger in volatile regimes and on big moves (see {@link VolumeSpec}).
 *
 * Anomalies are injected afterwards with their own PRNG stream, so the clean path is identical with or without them:
 * `spike` moves one close (and the high or low it needs) by 8–16 per-bar sigmas, and the next bar reverts; `gap` removes
 * 1–3 bars (the label sits on the first bar after the hole); `stale` flattens 4–10 bars to the previous close;
 * `bad_tick` multiplies one price field by 10 or 0.1; `volume_burst` multiplies the volume by 20–50.
 * Valid rows: spike, stale, volume_burst and gap keep every row OHLC-consistent. A bad tick breaks consistency except
 * for `high × factor > 1` and `low × factor < 1`, which stay consistent and must be caught by the sentinel; each event
 * says which (`invalidRow`, `expectedReject`).
 *
 * Guarantees: pure and deterministic: the same config gives bit-identical arrays and events; O(bars) time, typed arrays.
 * @throws SyntheticConfigError listing every invalid field.
 */
export function generateSyntheticSeries(config: SyntheticConfig): SyntheticSeries {
  const r = resolve(config);
  const { cfg, regimes, transitions, jumps, volume } = r;
  const n = cfg.bars;
  const K = regimes.length;
  const slots = layoutSlots(n, cfg.timeframe, cfg.calendar ?? 'nyse', r.startMs, r.session);
  const barsPerYear = cfg.barsPerYear ?? slots.barsPerYear;
  const dt = 1 / barsPerYear;
  const lambdaDt = jumps.intensityPerYear * dt;
  const expMinusLambdaDt = Math.exp(-lambdaDt);
  if (lambdaDt > 30)
    throw new SyntheticConfigError([
      { field: 'jumps.intensityPerYear', message: `expects ${lambdaDt} jumps per bar; at most 30 supported` },
    ]);

  const drift = new Float64Array(K);
  const sd = new Float64Array(K);
  const lnVolBase = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    const { drift: mu, volatility: sig } = regimes[k];
    drift[k] = (mu - 0.5 * sig * sig) * dt;
    sd[k] = sig * Math.sqrt(dt);
    lnVolBase[k] = Math.log(volume.base * (regimes[k].volumeMultiplier ?? 1)) - 0.5 * volume.logSigma * volume.logSigma;
  }
  const cum = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    let acc = 0;
    for (let j = 0; j < K; j++) {
      acc += transitions[i][j];
      cum[i * K + j] = acc;
    }
    cum[i * K + K - 1] = Infinity; // rows sum to 1 within 1e-9: the last regime takes any rounding remainder
  }

  const rng = new Xoshiro128ss(cfg.seed, PRICE_STREAM);
  let regime: number;
  if (cfg.initialRegime !== undefined) regime = cfg.initialRegime;
  else {
    const pi = K === 1 ? [1] : stationaryDistribution(transitions);
    const u = rng.uniform();
    let acc = 0;
    regime = K - 1;
    for (let k = 0; k < K; k++) {
      acc += pi[k];
      if (u < acc) {
        regime = k;
        break;
      }
    }
  }

  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const vol = new Float64Array(n);
  const regimeOf = new Uint8Array(n);
  const jumpCount = new Uint8Array(n);
  const sessionStart = slots.sessionStart;
  const share = r.overnightShare;
  const sqrtShare = Math.sqrt(share);
  const sqrtRest = Math.sqrt(1 - share);
  const beta = volume.absReturnBeta;
  const volSigma = volume.logSigma;
  let prevClose = cfg.initialPrice ?? 100;

  for (let t = 0; t < n; t++) {
    if (t > 0) {
      const u = rng.uniform();
      const row = regime * K;
      let k = 0;
      while (u >= cum[row + k]) k++;
      regime = k;
    }
    regimeOf[t] = regime;
    const mu = drift[regime];
    const s = sd[regime];
    let gapPart = 0;
    let intraDrift = mu;
    let intraSd = s;
    if (sessionStart[t] === 1 && share > 0) {
      gapPart = mu * share + s * sqrtShare * rng.normal();
      intraDrift = mu * (1 - share);
      intraSd = s * sqrtRest;
    }
    let jumpSum = 0;
    if (lambdaDt > 0) {
      const nj = rng.poisson(lambdaDt, expMinusLambdaDt);
      jumpCount[t] = nj > 255 ? 255 : nj;
      for (let j = 0; j < nj; j++) jumpSum += jumps.meanLog + jumps.stdLog * rng.normal();
    }
    const intraPart = intraDrift + intraSd * rng.normal() + jumpSum;
    const o = prevClose * Math.exp(gapPart);
    const c = o * Math.exp(intraPart);
    // Extremes of a Brownian bridge from 0 to b with variance v: max = (b + √(b² − 2v ln U))/2, min = (b − √(b² − 2v ln U'))/2.
    const v = intraSd * intraSd;
    const b2 = intraPart * intraPart;
    const up = 0.5 * (intraPart + Math.sqrt(b2 - 2 * v * Math.log(rng.uniform())));
    const dn = 0.5 * (intraPart - Math.sqrt(b2 - 2 * v * Math.log(rng.uniform())));
    open[t] = o;
    close[t] = c;
    high[t] = o * Math.exp(up);
    low[t] = o * Math.exp(dn);
    const z = s > 0 ? (gapPart + intraPart - mu) / s : 0;
    vol[t] = Math.exp(lnVolBase[regime] + beta * ((z < 0 ? -z : z) - SQRT_2_OVER_PI) + volSigma * rng.normal());
    prevClose = c;
  }

  // Rounding is monotone, so it keeps low ≤ min(open, close) and max(open, close) ≤ high.
  if (cfg.priceDecimals !== undefined) {
    const f = 10 ** cfg.priceDecimals;
    for (let t = 0; t < n; t++) {
      open[t] = Math.round(open[t] * f) / f;
      high[t] = Math.round(high[t] * f) / f;
      low[t] = Math.round(low[t] * f) / f;
      close[t] = Math.round(close[t] * f) / f;
    }
  }
  const vf = 10 ** volume.decimals;
  for (let t = 0; t < n; t++) vol[t] = Math.round(vol[t] * vf) / vf;

  const anomaly = new Uint8Array(n);
  const removed = new Uint8Array(n);
  const slotEvents = injectAnomalies(
    r,
    n,
    { ts: slots.ts, open, high, low, close, volume: vol, sd: sd, regimeOf },
    anomaly,
    removed,
  );

  // Compact away removed (gap) slots and translate event slot indexes into output row indexes.
  let m = n;
  let ts = slots.ts;
  let outOpen = open;
  let outHigh = high;
  let outLow = low;
  let outClose = close;
  let outVol = vol;
  let outRegime = regimeOf;
  let outAnomaly = anomaly;
  let outJumps = jumpCount;
  const slotToRow = new Int32Array(n);
  let w = 0;
  for (let t = 0; t < n; t++) {
    slotToRow[t] = w;
    if (removed[t] === 1) continue;
    if (w !== t) {
      ts[w] = ts[t];
      open[w] = open[t];
      high[w] = high[t];
      low[w] = low[t];
      close[w] = close[t];
      vol[w] = vol[t];
      regimeOf[w] = regimeOf[t];
      anomaly[w] = anomaly[t];
      jumpCount[w] = jumpCount[t];
    }
    w++;
  }
  if (w !== n) {
    m = w;
    ts = ts.slice(0, m);
    outOpen = open.slice(0, m);
    outHigh = high.slice(0, m);
    outLow = low.slice(0, m);
    outClose = close.slice(0, m);
    outVol = vol.slice(0, m);
    outRegime = regimeOf.slice(0, m);
    outAnomaly = anomaly.slice(0, m);
    outJumps = jumpCount.slice(0, m);
  }
  const events: AnomalyEvent[] = slotEvents.map((e) => {
    const index = slotToRow[e.index];
    return { ...e, index, line: index + 2, ts: ts[index] };
  });

  return {
    timeframe: cfg.timeframe,
    length: m,
    ts,
    adjClose: null,
    open: outOpen,
    high: outHigh,
    low: outLow,
    close: outClose,
    volume: outVol,
    truth: { regimeNames: regimes.map((x) => x.name), regime: outRegime, anomaly: outAnomaly, jumps: outJumps, events },
  };
}

interface Bars extends OhlcvSeries {
  sd: Float64Array;
  regimeOf: Uint8Array;
}

/** Plans and applies anomalies in slot space; returns events whose `index` is still a slot index. */
function injectAnomalies(r: Resolved, n: number, bars: Bars, anomaly: Uint8Array, removed: Uint8Array): AnomalyEvent[] {
  const { rates, spike, gap, stale, badTick, volumeBurst } = r.anomalies;
  const events: AnomalyEvent[] = [];
  const cumRates: number[] = [];
  let acc = 0;
  for (const k of ANOMALY_KINDS) {
    acc += rates[k];
    cumRates.push(acc);
  }
  if (acc === 0) return events;
  const rng = new Xoshiro128ss(r.cfg.seed, ANOMALY_STREAM);
  const { open, high, low, close, volume } = bars;
  const base = (kind: AnomalyKind, slot: number): AnomalyEvent => ({
    kind,
    index: slot,
    bars: 1,
    line: 0,
    ts: bars.ts[slot],
  });
  const tick = r.cfg.priceDecimals === undefined ? 0 : 10 ** r.cfg.priceDecimals;
  const roundPrice = (x: number): number => (tick === 0 ? x : Math.round(x * tick) / tick);
  // Slot 0 has no previous bar to compare with; the last slot has no next bar to revert on: neither starts an anomaly.
  let t = 1;
  while (t < n - 1) {
    const u = rng.uniform();
    let kind: AnomalyKind | undefined;
    for (let i = 0; i < ANOMALY_KINDS.length; i++) {
      if (u < cumRates[i]) {
        kind = ANOMALY_KINDS[i];
        break;
      }
    }
    if (kind === undefined) {
      t++;
      continue;
    }
    switch (kind) {
      case 'spike': {
        const sigmas = rng.between(spike.minSigmas, spike.maxSigmas);
        const sign = rng.uniform() < 0.5 ? -1 : 1;
        const c = roundPrice(close[t] * Math.exp(sign * sigmas * bars.sd[bars.regimeOf[t]]));
        const move = Math.log(c / close[t]);
        close[t] = c;
        if (c > high[t]) high[t] = c;
        if (c < low[t]) low[t] = c;
        anomaly[t] = ANOMALY_CODE.spike;
        events.push({ ...base(kind, t), logMove: move, sigmas });
        t += 2;
        break;
      }
      case 'bad_tick': {
        const field = badTick.fields[Math.floor(rng.uniform() * badTick.fields.length)];
        const factor = badTick.factors[Math.floor(rng.uniform() * badTick.factors.length)];
        const arr = field === 'open' ? open : field === 'high' ? high : field === 'low' ? low : close;
        const original = arr[t];
        arr[t] = roundPrice(original * factor);
        const o = open[t];
        const h = high[t];
        const l = low[t];
        const c = close[t];
        const hbl = h < l;
        const ocOut = o < l || o > h || c < l || c > h;
        anomaly[t] = ANOMALY_CODE.bad_tick;
        events.push({
          ...base(kind, t),
          field,
          factor,
          original,
          corrupted: arr[t],
          invalidRow: hbl || ocOut,
          ...(hbl
            ? { expectedReject: 'high_below_low' as const }
            : ocOut
              ? { expectedReject: 'open_close_outside_range' as const }
              : {}),
        });
        t += 2;
        break;
      }
      case 'volume_burst': {
        const factor = rng.between(volumeBurst.minFactor, volumeBurst.maxFactor);
        volume[t] = Math.round(volume[t] * factor * 10 ** r.volume.decimals) / 10 ** r.volume.decimals;
        anomaly[t] = ANOMALY_CODE.volume_burst;
        events.push({ ...base(kind, t), volumeFactor: factor });
        t += 2;
        break;
      }
      case 'stale': {
        const k = rng.intBetween(stale.minBars, stale.maxBars);
        if (t + k >= n) {
          t++;
          break;
        }
        const p = close[t - 1];
        for (let j = t; j < t + k; j++) {
          open[j] = p;
          high[j] = p;
          low[j] = p;
          close[j] = p;
          anomaly[j] = ANOMALY_CODE.stale;
        }
        events.push({ ...base(kind, t), bars: k });
        t += k + 1;
        break;
      }
      case 'gap': {
        const k = rng.intBetween(gap.minBars, gap.maxBars);
        if (t + k >= n) {
          t++;
          break;
        }
        for (let j = t; j < t + k; j++) removed[j] = 1;
        anomaly[t + k] = ANOMALY_CODE.gap;
        events.push({
          ...base(kind, t + k),
          missingBars: k,
          missingFromTs: bars.ts[t],
          missingToTs: bars.ts[t + k - 1],
        });
        t += k + 2; // the labelled bar after the hole is followed by a clean one too
        break;
      }
    }
  }
  return events;
}
