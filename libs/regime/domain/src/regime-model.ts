import { HMM_REGIME_LABELS, type HmmRegimeLabel } from '@strata/regime-contracts';
import {
  type GaussianHmmParams,
  compileEmissions,
  emissionLogDensities,
  forwardBackward,
  forwardFilter,
  forwardStep,
  stationaryDistribution,
  type CompiledEmissions,
} from './gaussian-hmm';
import { type HmmFitOptions, selectHmmByBic } from './hmm-fit';

/**
 * Observation dimension of the regime model: [log return of the bar, log realised volatility over the last
 * `volWindow` log returns ending at the bar].
 */
export const REGIME_OBS_DIM = 2;

/** Realised volatility below this (per bar, as a fraction) is taken at this value before the log (a flat window). */
export const MIN_REALISED_VOL = 1e-6;

/** Log return and log realised volatility at bar `t` from closes `c[t − w .. t]` (past bars only). */
function observationAt(close: ArrayLike<number>, t: number, w: number, out: Float64Array, off: number): void {
  let ss = 0;
  for (let s = t - w + 1; s <= t; s++) {
    const r = Math.log(close[s] / close[s - 1]);
    ss += r * r;
  }
  out[off] = Math.log(close[t] / close[t - 1]);
  out[off + 1] = Math.log(Math.max(Math.sqrt(ss / w), MIN_REALISED_VOL));
}

/**
 * Regime observations of a close series: row r (row-major, 2 columns) is bar `r + volWindow`: its log return and the
 * log of the root mean square of the last `volWindow` log returns ending at it. Each row uses closes up to its own bar
 * only. Throws RangeError on a non-positive or non-finite close, naming the bar.
 */
export function regimeObservations(close: ArrayLike<number>, volWindow: number): { obs: Float64Array; first: number } {
  for (let t = 0; t < close.length; t++)
    if (!(close[t] > 0) || !Number.isFinite(close[t]))
      throw new RangeError(`close at bar ${t} must be a positive finite price, got ${close[t]}`);
  const n = Math.max(0, close.length - volWindow);
  const obs = new Float64Array(n * REGIME_OBS_DIM);
  for (let r = 0; r < n; r++) observationAt(close, r + volWindow, volWindow, obs, r * REGIME_OBS_DIM);
  return { obs, first: volWindow };
}

/** Names of the states of a k-state model, lowest volatility first. */
export function regimeLabelsFor(k: number): HmmRegimeLabel[] {
  if (k === 2) return ['calm', 'turbulent'];
  if (k === 3) return [...HMM_REGIME_LABELS];
  throw new RangeError(`a regime model has 2 or 3 states, got ${k}`);
}

/** One named state of a fitted model, in annualised units. */
export interface RegimeStateSummary {
  label: HmmRegimeLabel;
  /** Mean log return × periods per year. */
  annualisedMean: number;
  /** Standard deviation of the log return × √(periods per year). */
  annualisedVol: number;
  /** Expected stay 1 / (1 − P[i][i]), bars. */
  expectedDurationBars: number;
}

/** A fitted, named regime model: everything needed to filter new bars and to describe the states. */
export interface RegimeModel {
  /** 2 or 3 states (chosen by BIC). */
  k: number;
  /** `labels[i]` names state i. States are ordered by volatility at the first fit and matched to the previous fit after. */
  labels: HmmRegimeLabel[];
  /** HMM parameters in label order; `startProb` is the chain's stationary distribution (the prior of a new filter). */
  params: GaussianHmmParams;
  /** Bars in the realised-volatility window of the observations. */
  volWindow: number;
  /** Periods per year used to annualise (252 for daily equity bars). */
  periodsPerYear: number;
  /** Observations fitted (bars after the first `volWindow`). */
  fittedObservations: number;
  logLik: number;
  bic: number;
  /** BIC of every candidate state count tried. */
  bicByK: Record<string, number>;
  /**
   * Mean and standard deviation of the in-sample one-step predictive log density per bar, under the served filter;
   * the baseline of {@link refitSignal}.
   */
  predictive: { mean: number; sd: number };
  /** Bars of the rolling window of predictive log densities kept in the filter state. */
  predictiveWindow: number;
  /**
   * Filtered probability a calmer state needs before the served label moves to it (hysteresis; a move to a more
   * volatile state needs only to be the most probable). 0 with `minStayBars` 1 gives the plain most probable state.
   */
  switchProbability: number;
  /**
   * Minimum stay: bars the served label holds before it may move to a CALMER state (a move to a more volatile state is
   * never delayed). 1 disables it.
   */
  minStayBars: number;
  states: RegimeStateSummary[];
}

/**
 * Defaults of {@link fitRegimeModel}: the settings `eval:regime` measures (volWindow, switchProbability and minStayBars
 * were chosen there, see docs/regime.md).
 */
export const REGIME_MODEL_DEFAULTS = {
  volWindow: 12,
  ks: [2, 3] as readonly number[],
  periodsPerYear: 252,
  predictiveWindow: 63,
  switchProbability: 0.8,
  minStayBars: 10,
} as const;

/** Options of {@link fitRegimeModel}. */
export interface RegimeFitOptions extends HmmFitOptions {
  /** Realised-volatility window, 10 to 20 bars. Default 12. */
  volWindow?: number;
  /** Candidate state counts. Default [2, 3]. */
  ks?: readonly number[];
  /** Periods per year for the annualised summaries. Default 252. */
  periodsPerYear?: number;
  /** Bars of the rolling predictive log density window (refit trigger). Default 63. */
  predictiveWindow?: number;
  /** See {@link RegimeModel.switchProbability}. Default 0.8. */
  switchProbability?: number;
  /** See {@link RegimeModel.minStayBars}. Default 10. */
  minStayBars?: number;
}

const PERMUTATIONS: Record<number, number[][]> = {
  2: [
    [0, 1],
    [1, 0],
  ],
  3: [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ],
};

/** Per-dimension standard deviation of the stationary mixture of a model's states. */
function mixtureSd(p: GaussianHmmParams): Float64Array {
  const pi = stationaryDistribution(p.transition, p.k);
  const sd = new Float64Array(p.d);
  for (let j = 0; j < p.d; j++) {
    let m = 0;
    let m2 = 0;
    for (let i = 0; i < p.k; i++) {
      const mu = p.means[i * p.d + j];
      m += pi[i] * mu;
      m2 += pi[i] * (p.covariances[i * p.d * p.d + j * p.d + j] + mu * mu);
    }
    sd[j] = Math.sqrt(Math.max(m2 - m * m, 1e-300));
  }
  return sd;
}

/**
 * The order of a fit's states under the names: `order[i]` is the fitted state named `labels[i]`.
 * Without a previous model (or with a different state count): ascending volatility of the log return. With one: the
 * permutation minimising the summed distance between each named state and the previous model's state of that name
 * (means scaled by the previous model's mixture standard deviation, plus the log standard deviations), enumerating
 * every permutation (k ≤ 3); ties keep the volatility order. So a refit never swaps `calm` and `turbulent`.
 */
export function matchStates(fitted: GaussianHmmParams, previous?: GaussianHmmParams): number[] {
  const { k, d } = fitted;
  const volOrder = Array.from({ length: k }, (_, i) => i).sort(
    (a, b) => fitted.covariances[a * d * d] - fitted.covariances[b * d * d],
  );
  if (!previous || previous.k !== k || previous.d !== d) return volOrder;
  const scale = mixtureSd(previous);
  const dist = (i: number, prevState: number): number => {
    let s = 0;
    for (let j = 0; j < d; j++) {
      const dm = (fitted.means[i * d + j] - previous.means[prevState * d + j]) / scale[j];
      const ds =
        0.5 * Math.log(fitted.covariances[i * d * d + j * d + j] / previous.covariances[prevState * d * d + j * d + j]);
      s += dm * dm + ds * ds;
    }
    return s;
  };
  let best = volOrder;
  let bestCost = Infinity;
  // Candidates in the order volOrder∘perm, identity first, so a tie keeps the volatility order.
  for (const perm of PERMUTATIONS[k]) {
    const order = perm.map((p) => volOrder[p]);
    let cost = 0;
    for (let i = 0; i < k; i++) cost += dist(order[i], i);
    if (cost < bestCost - 1e-12) {
      bestCost = cost;
      best = order;
    }
  }
  return best;
}

/** `p` with its states reordered: new state i is old state `order[i]`. */
export function permuteStates(p: GaussianHmmParams, order: number[]): GaussianHmmParams {
  const { k, d } = p;
  const q: GaussianHmmParams = {
    k,
    d,
    startProb: new Float64Array(k),
    transition: new Float64Array(k * k),
    means: new Float64Array(k * d),
    covariances: new Float64Array(k * d * d),
  };
  for (let i = 0; i < k; i++) {
    q.startProb[i] = p.startProb[order[i]];
    for (let j = 0; j < k; j++) q.transition[i * k + j] = p.transition[order[i] * k + order[j]];
    q.means.set(p.means.subarray(order[i] * d, order[i] * d + d), i * d);
    q.covariances.set(p.covariances.subarray(order[i] * d * d, (order[i] + 1) * d * d), i * d * d);
  }
  return q;
}

/**
 * Fits the regime HMM on a close series (past bars only: the caller passes the bars up to the fit's as-of bar):
 * observations from {@link regimeObservations}, 2 or 3 states by BIC ({@link selectHmmByBic}), states named by
 * {@link matchStates} against `previous` (whose parameters are also tried as a warm start). The served prior
 * (`params.startProb`) is the stationary distribution, so a filter started at any bar does not depend on where the fit
 * sample began. Deterministic for the same closes and options.
 */
export function fitRegimeModel(
  close: ArrayLike<number>,
  opts: RegimeFitOptions = {},
  previous?: RegimeModel,
): RegimeModel {
  const volWindow = opts.volWindow ?? REGIME_MODEL_DEFAULTS.volWindow;
  if (!Number.isInteger(volWindow) || volWindow < 10 || volWindow > 20)
    throw new RangeError(`volWindow must be an integer from 10 to 20 bars, got ${volWindow}`);
  const periodsPerYear = opts.periodsPerYear ?? REGIME_MODEL_DEFAULTS.periodsPerYear;
  const { obs } = regimeObservations(close, volWindow);
  const n = obs.length / REGIME_OBS_DIM;
  const ks = opts.ks ?? REGIME_MODEL_DEFAULTS.ks;
  const minBars = 20 * Math.max(...ks);
  if (n < minBars) throw new RangeError(`a regime fit needs at least ${minBars + volWindow} bars, got ${close.length}`);
  const selection = selectHmmByBic(obs, n, REGIME_OBS_DIM, ks, {
    ...opts,
    warmStarts: previous ? [previous.params, ...(opts.warmStarts ?? [])] : opts.warmStarts,
  });
  const fit = selection.chosen;
  const params = permuteStates(fit.params, matchStates(fit.params, previous?.params));
  params.startProb = stationaryDistribution(params.transition, params.k);
  const k = params.k;
  const labels = regimeLabelsFor(k);
  const fwd = forwardFilter(params, obs, n);
  let mean = 0;
  for (let t = 0; t < n; t++) mean += fwd.predictiveLogLik[t] / n;
  let v = 0;
  for (let t = 0; t < n; t++) v += (fwd.predictiveLogLik[t] - mean) ** 2 / Math.max(1, n - 1);
  const d = REGIME_OBS_DIM;
  return {
    k,
    labels,
    params,
    volWindow,
    periodsPerYear,
    fittedObservations: n,
    logLik: fit.logLik,
    bic: fit.bic,
    bicByK: Object.fromEntries(selection.candidates.map((c) => [String(c.params.k), c.bic])),
    predictive: { mean, sd: Math.sqrt(v) },
    predictiveWindow: opts.predictiveWindow ?? REGIME_MODEL_DEFAULTS.predictiveWindow,
    switchProbability: opts.switchProbability ?? REGIME_MODEL_DEFAULTS.switchProbability,
    minStayBars: opts.minStayBars ?? REGIME_MODEL_DEFAULTS.minStayBars,
    states: labels.map((label, i) => ({
      label,
      annualisedMean: params.means[i * d] * periodsPerYear,
      annualisedVol: Math.sqrt(params.covariances[i * d * d] * periodsPerYear),
      expectedDurationBars: 1 / Math.max(1 - params.transition[i * k + i], 1e-12),
    })),
  };
}

/** Filter state of one series under one model: plain JSON, so the service can cache it per as-of bar. */
export interface RegimeFilterState {
  /** Time of the last bar taken in (epoch ms UTC), null before the first. */
  lastBarTime: number | null;
  /** The last `volWindow + 1` closes (oldest first): what the next bar's observation needs. */
  closes: number[];
  /** Filtered probabilities of the last observation, in label order; null while warming up. */
  probabilities: number[] | null;
  /** Served label of the last observation (the most probable state, with the switch hysteresis); null while warming up. */
  label: HmmRegimeLabel | null;
  /** Bar time since which `label` has held. */
  labelSince: number | null;
  /**
   * Observations for which `label` has held (1 on the bar it started); the minimum stay reads it. Absent in a state
   * cached without it: taken as 0 (the stay starts over).
   */
  labelBars?: number;
  /** One-step predictive log densities of the last `predictiveWindow` observations, oldest first. */
  recentPredictiveLogLik: number[];
  /** Observations filtered so far. */
  observations: number;
}

/** One served regime point: filtered, so it depends on bars up to `time` only. */
export interface RegimePoint {
  /** Bar time (epoch ms UTC). */
  time: number;
  label: HmmRegimeLabel;
  /** P(state | bars up to `time`), in label order. */
  probabilities: number[];
  /** Bar time since which `label` has held. */
  labelSince: number;
  /** log p(observation at `time` | earlier observations). */
  predictiveLogLik: number;
}

/** Outcome of one {@link regimeFilterStep}. */
export interface RegimeStepResult {
  state: RegimeFilterState;
  /** The point of this bar when `status` is `applied`. */
  point: RegimePoint | null;
  /**
   * `applied`: a new bar, filtered. `warming_up`: a new bar taken in, but fewer than `volWindow + 1` closes so far.
   * `duplicate`: the last bar again with the same close (idempotent: the state is returned unchanged).
   * `out_of_order`: an earlier bar, or the last bar with a different close (a correction): unchanged; recompute from
   * a checkpoint before the bar with {@link refilterWindow}.
   */
  status: 'applied' | 'warming_up' | 'duplicate' | 'out_of_order';
}

/** The empty filter state of a series (nothing seen). */
export function initialFilterState(): RegimeFilterState {
  return {
    lastBarTime: null,
    closes: [],
    probabilities: null,
    label: null,
    labelSince: null,
    labelBars: 0,
    recentPredictiveLogLik: [],
    observations: 0,
  };
}

/** Compiled emissions of a model, cached per model object (the step is then O(k² + k d²)). */
const compiledCache = new WeakMap<RegimeModel, CompiledEmissions>();
function compiled(model: RegimeModel): CompiledEmissions {
  let e = compiledCache.get(model);
  if (!e) {
    e = compileEmissions(model.params);
    compiledCache.set(model, e);
  }
  return e;
}

/**
 * One forward-filter step for a new bar from the cached state: O(k² + k·d² + volWindow), no history needed.
 * Idempotent per bar time (the same bar again returns the state unchanged); never modifies `state`. Throws RangeError
 * on a non-positive or non-finite close.
 */
export function regimeFilterStep(
  model: RegimeModel,
  state: RegimeFilterState,
  bar: { time: number; close: number },
): RegimeStepResult {
  if (!(bar.close > 0) || !Number.isFinite(bar.close))
    throw new RangeError(`close at ${bar.time} must be a positive finite price, got ${bar.close}`);
  if (state.lastBarTime !== null && bar.time <= state.lastBarTime) {
    const same = bar.time === state.lastBarTime && state.closes[state.closes.length - 1] === bar.close;
    return { state, point: null, status: same ? 'duplicate' : 'out_of_order' };
  }
  const w = model.volWindow;
  const closes = state.closes.length > w ? state.closes.slice(1) : state.closes.slice();
  closes.push(bar.close);
  if (closes.length <= w)
    return { state: { ...state, lastBarTime: bar.time, closes }, point: null, status: 'warming_up' };
  const { k, d } = model.params;
  const x = new Float64Array(d);
  observationAt(closes, w, w, x, 0);
  const logB = new Float64Array(k);
  emissionLogDensities(compiled(model), x, 0, logB, 0, new Float64Array(d));
  const prev = state.probabilities ? Float64Array.from(state.probabilities) : null;
  const out = new Float64Array(k);
  const lp = forwardStep(model.params, prev, 0, logB, 0, out, 0, null);
  let arg = 0;
  for (let j = 1; j < k; j++) if (out[j] > out[arg]) arg = j;
  // Hysteresis on the filtered probabilities, one-sided: a move to a more volatile state is taken at once (the most
  // probable state), so turbulence is reported as soon as the filter sees it; a move to a calmer state waits until
  // that state's filtered probability reaches `switchProbability` and the current label has held `minStayBars` bars.
  // Past-only: it reads this bar's filtered probabilities and the previous label.
  const held = state.labelBars ?? 0;
  const current = state.label === null ? -1 : model.labels.indexOf(state.label);
  const calmerAllowed = held >= model.minStayBars && out[arg] >= model.switchProbability;
  const label = current < 0 || arg > current || calmerAllowed ? model.labels[arg] : model.labels[current];
  const kept = label === state.label && state.labelSince !== null;
  const labelSince = kept ? state.labelSince! : bar.time;
  const recent = state.recentPredictiveLogLik.slice(
    Math.max(0, state.recentPredictiveLogLik.length + 1 - model.predictiveWindow),
  );
  recent.push(lp);
  const probabilities = Array.from(out);
  return {
    state: {
      lastBarTime: bar.time,
      closes,
      probabilities,
      label,
      labelSince,
      labelBars: kept ? held + 1 : 1,
      recentPredictiveLogLik: recent,
      observations: state.observations + 1,
    },
    point: { time: bar.time, label, probabilities, labelSince, predictiveLogLik: lp },
    status: 'applied',
  };
}

/**
 * Filters a run of bars (ascending times) from `from` (default: nothing seen), one {@link regimeFilterStep} per bar,
 * so a history and the online path give identical points. Bars already seen are skipped as duplicates; an
 * out-of-order bar throws RangeError.
 */
export function filterRegimeHistory(
  model: RegimeModel,
  times: ArrayLike<number>,
  close: ArrayLike<number>,
  from: RegimeFilterState = initialFilterState(),
): { points: RegimePoint[]; state: RegimeFilterState } {
  let state = from;
  const points: RegimePoint[] = [];
  for (let t = 0; t < times.length; t++) {
    const r = regimeFilterStep(model, state, { time: times[t], close: close[t] });
    if (r.status === 'out_of_order')
      throw new RangeError(`bar ${t} (${times[t]}) is out of order after ${state.lastBarTime}`);
    state = r.state;
    if (r.point) points.push(r.point);
  }
  return { points, state };
}

/**
 * Bounded recompute after a late or corrected bar: re-filters `times`/`close` (the corrected bars from the first
 * changed one up to the latest) starting from `checkpoint`, the cached state of the bar just before the first changed
 * one. Throws RangeError when more than `maxBars` bars would be recomputed (the caller refits instead).
 */
export function refilterWindow(
  model: RegimeModel,
  checkpoint: RegimeFilterState,
  times: ArrayLike<number>,
  close: ArrayLike<number>,
  maxBars: number,
): { points: RegimePoint[]; state: RegimeFilterState } {
  if (times.length > maxBars)
    throw new RangeError(`recompute of ${times.length} bars exceeds the bound of ${maxBars}; refit instead`);
  if (checkpoint.lastBarTime !== null && times.length > 0 && times[0] <= checkpoint.lastBarTime)
    throw new RangeError(
      `the checkpoint (${checkpoint.lastBarTime}) must precede the first recomputed bar (${times[0]})`,
    );
  return filterRegimeHistory(model, times, close, checkpoint);
}

/** Whether a model's recent one-step predictive log density has fallen enough to refit. */
export interface RefitSignal {
  due: boolean;
  /** Mean predictive log density over the state's window (NaN while the window is not full). */
  rollingMean: number;
  /** In-sample mean of the model. */
  baseline: number;
  /** `baseline − z · sd / √window`: `due` when the rolling mean is below it. */
  threshold: number;
}

/**
 * Refit trigger: the rolling mean of the last `predictiveWindow` one-step predictive log densities against the fit's
 * in-sample mean, due when lower by more than `z` standard errors (default 3). Not due until the window is full.
 */
export function refitSignal(model: RegimeModel, state: RegimeFilterState, z = 3): RefitSignal {
  const w = model.predictiveWindow;
  const recent = state.recentPredictiveLogLik;
  const rollingMean = recent.length >= w ? recent.reduce((a, b) => a + b, 0) / recent.length : Number.NaN;
  const threshold = model.predictive.mean - (z * model.predictive.sd) / Math.sqrt(w);
  return { due: rollingMean < threshold, rollingMean, baseline: model.predictive.mean, threshold };
}

/**
 * The SMOOTHED analysis view of a close series under a model: state probabilities given the whole series
 * (forward-backward) and the Viterbi path, as labels. Both use bars after each bar, so they are never served, cached
 * or used by a backtest as history; this is the only function that computes them. Row r is bar `r + volWindow`.
 */
export function smoothedRegimes(
  model: RegimeModel,
  close: ArrayLike<number>,
): { first: number; probabilities: Float64Array; viterbi: HmmRegimeLabel[] } {
  const { obs, first } = regimeObservations(close, model.volWindow);
  const n = obs.length / REGIME_OBS_DIM;
  const r = forwardBackward(model.params, obs, n);
  return { first, probabilities: r.smoothed, viterbi: Array.from(r.viterbi, (s) => model.labels[s]) };
}
