import { mulberry32 } from '@strata/shared-random';
import type { BacktestData, SymbolBars } from './backtest-data';
import { signalSourceOf, simulationConfigOf, type BacktestRequest } from './backtest';
import { PortfolioSimulation, type DecisionRecord } from './engine';
import type { SymbolSignals } from './signals';

/** One decision that changed when only data AFTER its decision point was perturbed. */
export interface LookAheadFinding {
  /** Decision point (timeline instant, epoch ms UTC). */
  decisionTs: number;
  symbol: string;
  /** `entry_long`, `exit_long`, `entry_short`, `exit_short` (a signal), `decision` (an order target) or `equity`. */
  what: string;
  /** Bar (≤ decisionTs) where the first difference appeared. */
  atTs: number;
  baseline: string;
  perturbed: string;
}

/** Outcome of {@link checkLookAhead}. */
export interface LookAheadReport {
  passed: boolean;
  decisionPointsChecked: number;
  perturbationsPerPoint: number;
  changedDecisionPoints: number;
  /** At most `maxFindings`, in decision-point order. */
  findings: LookAheadFinding[];
}

/** Options of {@link checkLookAhead}. */
export interface LookAheadOptions {
  /** Decision points to check (default 24): the strategy's own decisions first, then evenly spaced bars. */
  samples?: number;
  /** Seed of the perturbations (default 1). */
  seed?: number;
  maxFindings?: number;
  /** Called after each decision point (progress). */
  onPoint?: (done: number, total: number) => void;
}

const SIGNALS = ['entryLong', 'exitLong', 'entryShort', 'exitShort'] as const;
const SIGNAL_NAMES: Record<(typeof SIGNALS)[number], string> = {
  entryLong: 'entry_long',
  exitLong: 'exit_long',
  entryShort: 'entry_short',
  exitShort: 'exit_short',
};

/**
 * Empirical look-ahead check in the spirit of freqtrade's lookahead-analysis: for sampled decision points t, re-run
 * with every bar AFTER t perturbed (all prices of a bar scaled by one random factor around ×1.3, and around ×0.7, in two
 * re-runs; volumes and external series randomised) and compare everything that may only depend on data up to t:
 * every signal at bars ≤ t, every decision (order target) made at instants ≤ t, and the equity curve up to t.
 * Any difference means the strategy (or a signal source) read the future; it is reported with the first bar where
 * it shows. Deterministic for a given seed.
 */
export function checkLookAhead(req: BacktestRequest, opts: LookAheadOptions = {}): LookAheadReport {
  const samples = opts.samples ?? 24;
  const maxFindings = opts.maxFindings ?? 50;
  const source = signalSourceOf(req);
  const config = simulationConfigOf(req);
  const base = source(req.data);
  const sim = new PortfolioSimulation(req.data, base, config);
  sim.advance();
  const T = sim.timeline.length;
  const points = pickDecisionPoints(baseDecisions(sim), T, samples);
  const findings: LookAheadFinding[] = [];
  let changed = 0;
  const factors = [1.3, 0.7];
  points.forEach((t, pIdx) => {
    const ts = sim.timeline[t];
    let pointChanged = false;
    for (let k = 0; k < factors.length; k++) {
      const data = perturbAfter(req.data, ts, factors[k], mix(opts.seed ?? 1, t, k));
      const sigs = source(data);
      const f = compareSignals(req.data, base, sigs, ts) ?? compareRun(req, data, sigs, sim, t);
      if (f) {
        pointChanged = true;
        if (findings.length < maxFindings) findings.push({ decisionTs: ts, ...f });
        break;
      }
    }
    if (pointChanged) changed++;
    opts.onPoint?.(pIdx + 1, points.length);
  });
  return {
    passed: changed === 0,
    decisionPointsChecked: points.length,
    perturbationsPerPoint: factors.length,
    changedDecisionPoints: changed,
    findings,
  };
}

const decisionCache = new WeakMap<PortfolioSimulation, DecisionRecord[]>();
function baseDecisions(sim: PortfolioSimulation): DecisionRecord[] {
  let d = decisionCache.get(sim);
  if (!d) decisionCache.set(sim, (d = sim.decisions));
  return d;
}

/** Steps with decisions (evenly sampled) topped up with evenly spaced steps; never the last step (nothing after it). */
function pickDecisionPoints(decisions: DecisionRecord[], T: number, samples: number): number[] {
  const last = T - 1;
  const steps = [...new Set(decisions.map((d) => d.step))].filter((s) => s < last);
  const chosen = new Set<number>();
  const take = Math.min(samples, steps.length);
  for (let k = 0; k < take; k++) chosen.add(steps[Math.floor((k * steps.length) / take)]);
  for (let k = 0; chosen.size < samples && k < samples && last > 0; k++)
    chosen.add(Math.floor(((k + 0.5) * last) / samples));
  return [...chosen].sort((a, b) => a - b);
}

function compareSignals(
  data: BacktestData,
  a: SymbolSignals[],
  b: SymbolSignals[],
  ts: number,
): Omit<LookAheadFinding, 'decisionTs'> | null {
  for (let s = 0; s < data.symbols.length; s++) {
    const bars = data.symbols[s];
    const upto = lastIndexAtOrBefore(bars.ts, ts);
    for (const k of SIGNALS) {
      const x = a[s][k];
      const y = b[s][k];
      if (x === null && y === null) continue;
      if (x === null || y === null)
        return {
          symbol: bars.symbol,
          what: SIGNAL_NAMES[k],
          atTs: bars.ts[0],
          baseline: String(x !== null),
          perturbed: String(y !== null),
        };
      for (let j = 0; j <= upto; j++) {
        if (x[j] !== y[j])
          return {
            symbol: bars.symbol,
            what: SIGNAL_NAMES[k],
            atTs: bars.ts[j],
            baseline: String(x[j]),
            perturbed: String(y[j]),
          };
      }
    }
  }
  return null;
}

function compareRun(
  req: BacktestRequest,
  data: BacktestData,
  sigs: SymbolSignals[],
  base: PortfolioSimulation,
  t: number,
): Omit<LookAheadFinding, 'decisionTs'> | null {
  const sim = new PortfolioSimulation(data, sigs, simulationConfigOf(req));
  sim.runTo(t + 1);
  const a = baseDecisions(base).filter((d) => d.step <= t);
  const b = sim.decisions;
  for (let k = 0; k < Math.max(a.length, b.length); k++) {
    const x = a[k];
    const y = b[k];
    if (!x || !y || x.step !== y.step || x.symbol !== y.symbol || x.target !== y.target || x.reason !== y.reason) {
      const d = x ?? y;
      return {
        symbol: base.symbols[d.symbol],
        what: 'decision',
        atTs: d.ts,
        baseline: x ? `${x.reason} ${x.target}` : 'none',
        perturbed: y ? `${y.reason} ${y.target}` : 'none',
      };
    }
  }
  for (let i = 0; i <= t; i++) {
    if (!Object.is(base.curve.equity[i], sim.curve.equity[i])) {
      return {
        symbol: '*',
        what: 'equity',
        atTs: base.timeline[i],
        baseline: String(base.curve.equity[i]),
        perturbed: String(sim.curve.equity[i]),
      };
    }
  }
  return null;
}

function lastIndexAtOrBefore(ts: Float64Array, t: number): number {
  let l = 0;
  let h = ts.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (ts[m] <= t) l = m + 1;
    else h = m;
  }
  return l - 1;
}

/** A copy of the data where every bar after `ts` is perturbed (bars at or before it are shared, untouched). */
export function perturbAfter(data: BacktestData, ts: number, factor: number, seed: number): BacktestData {
  const rnd = mulberry32(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  return {
    timeframe: data.timeframe,
    symbols: data.symbols.map((b): SymbolBars => {
      const from = lastIndexAtOrBefore(b.ts, ts) + 1;
      const copy = (x: Float64Array): Float64Array => x.slice();
      const open = copy(b.open);
      const high = copy(b.high);
      const low = copy(b.low);
      const close = copy(b.close);
      const volume = copy(b.volume);
      for (let j = from; j < b.ts.length; j++) {
        // One factor per bar keeps low ≤ open, close ≤ high.
        const f = factor * Math.exp(0.1 * gauss());
        open[j] *= f;
        high[j] *= f;
        low[j] *= f;
        close[j] *= f;
        volume[j] *= 0.3 + 1.4 * rnd();
      }
      let external: Record<string, Float64Array> | undefined;
      if (b.external) {
        external = {};
        for (const [k, col] of Object.entries(b.external)) {
          const c = col.slice();
          for (let j = from; j < c.length; j++) c[j] = c[j] + (Math.abs(c[j]) * 0.5 + 1) * gauss();
          external[k] = c;
        }
      }
      return { symbol: b.symbol, ts: b.ts, open, high, low, close, volume, external };
    }),
  };
}

function mix(seed: number, t: number, k: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(t + 1, 0xc2b2ae35) ^ Math.imul(k + 7, 0x27d4eb2f);
  h ^= h >>> 15;
  return h >>> 0;
}
