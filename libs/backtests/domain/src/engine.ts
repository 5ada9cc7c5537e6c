import {
  type ExecutionSettings,
  type PositionSizing,
  type RiskRules,
  type StrategyDefinition,
  type EquityCurve,
  type OrderReason,
  type OrderRecord,
  type TradeRecord,
  type UnfilledReason,
} from '@strata/backtests-contracts';
import { realizedVolatility } from '@strata/shared-indicators';
import { civilFromDays } from '@strata/shared-timeseries';
import { barsPerYearOf, type BacktestData } from './backtest-data';
import type { SymbolSignals } from './signals';

const REASONS: readonly OrderReason[] = [
  'entry',
  'exit',
  'reverse',
  'resize',
  'stop_loss',
  'take_profit',
  'trailing_stop',
];
const ENTRY = 0;
const EXIT = 1;
const REVERSE = 2;
const RESIZE = 3;
const STOP_LOSS = 4;
const TAKE_PROFIT = 5;
const TRAILING = 6;

/** One decision of the strategy: at the close of `ts`, `symbol` should hold `target` (signed quantity). */
export interface DecisionRecord {
  step: number;
  ts: number;
  symbol: number;
  target: number;
  reason: OrderReason;
}

/** A position open at the end, marked at the last close. */
export interface OpenPosition {
  symbol: string;
  quantity: number;
  averagePrice: number;
  lastPrice: number;
  marketValue: number;
  unrealisedPnl: number;
}

/**
 * The curve of a one-symbol run. The loop stores only equity and the held quantity per step (two columns instead of
 * five: on a million bars the page faults of fresh output arrays cost more than the loop itself); net, gross and
 * positions are derived on first read with the loop's own arithmetic (`quantity × close`, bit-identical), and cash as
 * `equity − net` (equal to the loop's cash up to the last unit in the last place of the equity). Derived columns are
 * cached once the run is complete.
 */
class SingleSymbolCurve implements EquityCurve {
  private cached: Partial<Record<'cash' | 'gross' | 'net' | 'positions', Float64Array>> = {};
  constructor(
    readonly ts: Float64Array,
    readonly equity: Float64Array,
    /** Quantity held at each close. */
    readonly quantity: Float64Array,
    private readonly close: Float64Array,
    private readonly firstBar: number,
    private readonly complete: () => boolean,
  ) {}
  get cash(): Float64Array {
    return this.derive('cash');
  }
  get gross(): Float64Array {
    return this.derive('gross');
  }
  get net(): Float64Array {
    return this.derive('net');
  }
  get positions(): Float64Array {
    return this.derive('positions');
  }
  private derive(k: 'cash' | 'gross' | 'net' | 'positions'): Float64Array {
    const hit = this.cached[k];
    if (hit) return hit;
    const { equity, quantity, close, firstBar } = this;
    const out = new Float64Array(equity.length);
    for (let i = 0; i < out.length; i++) {
      const q = quantity[i];
      const v = q !== 0 ? q * close[firstBar + i] : 0;
      out[i] = k === 'cash' ? equity[i] - v : k === 'net' ? v : k === 'gross' ? (v < 0 ? -v : v) : q !== 0 ? 1 : 0;
    }
    if (this.complete()) this.cached[k] = out;
    return out;
  }
}

/** A shared all-zero column standing in for absent rules (read only). */
let ZEROS = new Uint8Array(0);
function zeros(n: number): Uint8Array {
  if (ZEROS.length < n) ZEROS = new Uint8Array(Math.max(n, 2 * ZEROS.length));
  return ZEROS;
}

/** What the simulation needs besides data and signals. */
export interface SimulationConfig {
  initialCapital: number;
  execution: ExecutionSettings;
  direction: StrategyDefinition['direction'];
  sizing: PositionSizing;
  risk: RiskRules;
  /** Default: one per symbol. */
  maxPositions?: number;
  rebalance: StrategyDefinition['rebalance'];
  /** Trading window, epoch ms UTC inclusive (bars before `from` only warm indicators up). */
  from?: number | null;
  to?: number | null;
}

/** Signed lot rounding toward zero: whole lots, with a 1e-9 lot tolerance against binary fractions (0.3 / 0.1). */
function floorLots(x: number, lot: number): number {
  return x > 0 ? Math.floor(x / lot + 1e-9) * lot : 0;
}

/**
 * The event loop of a backtest over a multi-symbol portfolio with shared cash. Deterministic: the same data, signals
 * and config give bit-identical records (no randomness, no clock, fixed iteration order: timeline, then universe order).
 *
 * Per timeline instant T (the union of the symbols' bar times in the window), for each symbol with a bar at T:
 * 1. its pending order (decided at its previous bar's close) fills at this bar's open (`fillAt: 'open'`) — or, with
 *    `fillAt: 'close'`, resting stops are checked first and the order fills at this bar's close;
 * 2. resting stops (stop-loss, trailing stop, take-profit) are checked against the bar's low/high and fill inside the
 *    bar at their level, or at the open when the bar gaps through it;
 * 3. the position is marked at the close.
 * Then the equity is recorded, and the strategy decides at the close of T for each symbol with a bar at T (exits and
 * stops every bar; entries and resizes on rebalancing instants); the orders fill at the symbol's next bar.
 * Short borrow fees accrue on the short market value at each instant for the calendar days since the previous one.
 *
 * Decisions read signals and prices at indices ≤ the decision bar only; fills read the fill bar. Fill price =
 * reference × (1 ± slippage); commission = bps × notional + fixed; max fill = `maxParticipation` × bar volume;
 * exposure-adding fills are capped at `maxGrossLeverage` × equity. Unfilled remainders are recorded, never dropped.
 */
export class PortfolioSimulation {
  readonly symbols: string[];
  readonly timeline: Float64Array;
  readonly orders: OrderRecord[] = [];
  readonly trades: TradeRecord[] = [];
  // Decisions as columns (no object per decision in the loop); `decisions` builds the records on demand.
  private readonly decStep: number[] = [];
  private readonly decTs: number[] = [];
  private readonly decSym: number[] = [];
  private readonly decTarget: number[] = [];
  private readonly decReason: number[] = [];
  readonly curve: EquityCurve;
  /** Totals, account currency. */
  readonly costs = { commission: 0, slippage: 0, borrow: 0 };
  /** Σ |filled notional| of every fill (turnover numerator). */
  tradedNotional = 0;
  /** Symbol-bars processed so far. */
  barsProcessed = 0;
  /** Steps with at least one open position at the close, and Σ gross exposure / equity over steps (exposure KPIs). */
  exposedSteps = 0;
  grossExposureSum = 0;
  private lastEquity = 0;
  /** Next timeline step to run. */
  step = 0;

  private readonly S: number;
  private readonly stepStart: Int32Array;
  private readonly entrySym: Int32Array;
  private readonly entryBar: Int32Array;
  private readonly rebalanceAt: Uint8Array | null;
  private readonly data: BacktestData;
  private readonly sizeVol: (Float64Array | null)[];
  /** Single-symbol runs: bar index of timeline step 0. */
  private readonly firstBar: number;
  private readonly cols: { enL: Uint8Array; exL: Uint8Array; enS: Uint8Array; exS: Uint8Array }[];
  private readonly slipVol: (Float64Array | null)[];

  // Portfolio state.
  private cash: number;
  private openCount = 0;
  private pendingEntries = 0;
  private shortCount = 0;
  private readonly qty: Float64Array;
  private readonly avgPx: Float64Array;
  private readonly last: Float64Array;
  private readonly lastTs: Float64Array;
  private readonly extreme: Float64Array;
  private readonly hasPend: Uint8Array;
  private readonly pendTarget: Float64Array;
  private readonly pendReason: Uint8Array;
  private readonly pendTs: Float64Array;
  private readonly pendSigma: Float64Array;
  // Open trade per symbol.
  private readonly trEntryTs: Float64Array;
  private readonly trEntryNotional: Float64Array;
  private readonly trEntryQty: Float64Array;
  private readonly trExitNotional: Float64Array;
  private readonly trExitQty: Float64Array;
  private readonly trMaxQty: Float64Array;
  private readonly trPnl: Float64Array;
  private readonly trComm: Float64Array;
  private readonly trBorrow: Float64Array;
  private readonly trBars: Float64Array;

  // Settings, unpacked.
  private readonly fillAtOpen: boolean;
  private readonly commBps: number;
  private readonly commFixed: number;
  private readonly slipBps: number;
  private readonly impact: number;
  private readonly maxPart: number;
  private readonly lot: number;
  private readonly leverage: number;
  private readonly borrowRate: number;
  private readonly allowLong: boolean;
  private readonly allowShort: boolean;
  private readonly maxPositions: number;
  private readonly hasStops: boolean;
  private readonly resize: boolean;
  private readonly resizeThreshold: number;

  constructor(
    data: BacktestData,
    signals: readonly SymbolSignals[],
    private readonly config: SimulationConfig,
  ) {
    if (signals.length !== data.symbols.length)
      throw new RangeError(`${signals.length} signal sets for ${data.symbols.length} symbols`);
    if (!(config.initialCapital > 0)) throw new RangeError('initialCapital must be > 0');
    this.data = data;
    const S = (this.S = data.symbols.length);
    this.symbols = data.symbols.map((s) => s.symbol);
    const ex = config.execution;
    this.fillAtOpen = ex.fillAt === 'open';
    this.commBps = ex.commission.bps / 1e4;
    this.commFixed = ex.commission.fixed;
    this.slipBps = ex.slippage.bps / 1e4;
    this.impact = ex.slippage.model === 'volume_impact' ? ex.slippage.impact : 0;
    this.maxPart = ex.maxParticipation ?? Infinity;
    this.lot = ex.lotSize;
    this.leverage = ex.maxGrossLeverage;
    this.borrowRate = ex.borrow.annualBps / 1e4;
    this.allowLong = config.direction !== 'short';
    this.allowShort = config.direction !== 'long';
    this.maxPositions = config.maxPositions ?? S;
    this.hasStops =
      config.risk.stopLoss !== undefined ||
      config.risk.takeProfit !== undefined ||
      config.risk.trailingStop !== undefined;
    this.resize = config.rebalance.resize;
    this.resizeThreshold = config.rebalance.resizeThreshold;
    this.cash = config.initialCapital;

    const f64 = () => new Float64Array(S);
    this.qty = f64();
    this.avgPx = f64();
    this.last = f64().fill(NaN);
    this.lastTs = f64().fill(NaN);
    this.extreme = f64();
    this.hasPend = new Uint8Array(S);
    this.pendTarget = f64();
    this.pendReason = new Uint8Array(S);
    this.pendTs = f64();
    this.pendSigma = f64();
    this.trEntryTs = f64();
    this.trEntryNotional = f64();
    this.trEntryQty = f64();
    this.trExitNotional = f64();
    this.trExitQty = f64();
    this.trMaxQty = f64();
    this.trPnl = f64();
    this.trComm = f64();
    this.trBorrow = f64();
    this.trBars = f64();

    // Per-symbol volatility inputs, computed from closes up to each bar (point-in-time).
    this.sizeVol = data.symbols.map((b) =>
      config.sizing.kind === 'volatility_target' && b.close.length > config.sizing.lookback
        ? realizedVolatility(b.close, config.sizing.lookback, barsPerYearOf(data.timeframe, b.ts))
        : null,
    );
    this.slipVol = data.symbols.map((b) =>
      ex.slippage.model === 'volume_impact' && b.close.length > ex.slippage.volLookback
        ? realizedVolatility(b.close, ex.slippage.volLookback, 1)
        : null,
    );

    const tl = buildTimeline(data, config.from ?? -Infinity, config.to ?? Infinity);
    this.timeline = tl.timeline;
    this.stepStart = tl.stepStart;
    this.entrySym = tl.entrySym;
    this.entryBar = tl.entryBar;
    this.firstBar = tl.firstBar;
    const zero = zeros(Math.max(0, ...data.symbols.map((b) => b.ts.length)));
    // Absent rules become all-zero columns (and entries of a disabled direction too): no null checks per bar.
    this.cols = signals.map((sg) => ({
      enL: this.allowLong && sg.entryLong ? sg.entryLong : zero,
      exL: sg.exitLong ?? zero,
      enS: this.allowShort && sg.entryShort ? sg.entryShort : zero,
      exS: sg.exitShort ?? zero,
    }));
    this.rebalanceAt = config.rebalance.every === 'bar' ? null : rebalanceMask(this.timeline, config.rebalance.every);
    const T = this.timeline.length;
    this.curve =
      S === 1
        ? new SingleSymbolCurve(
            this.timeline,
            new Float64Array(T),
            new Float64Array(T),
            data.symbols[0].close,
            this.firstBar,
            () => this.done,
          )
        : {
            ts: this.timeline,
            equity: new Float64Array(T),
            cash: new Float64Array(T),
            gross: new Float64Array(T),
            net: new Float64Array(T),
            positions: new Float64Array(T),
          };
  }

  /** Every decision so far, in order (built on each call). */
  get decisions(): DecisionRecord[] {
    return this.decStep.map((step, k) => ({
      step,
      ts: this.decTs[k],
      symbol: this.decSym[k],
      target: this.decTarget[k],
      reason: REASONS[this.decReason[k]],
    }));
  }

  /** Number of timeline steps. */
  get steps(): number {
    return this.timeline.length;
  }

  /** True once every step ran. */
  get done(): boolean {
    return this.step >= this.timeline.length;
  }

  /** Equity at the last simulated step (initial capital before the first). */
  get equity(): number {
    return this.step === 0 ? this.config.initialCapital : this.lastEquity;
  }

  /** Runs up to `maxSteps` timeline steps (default all); returns true when the simulation is complete. */
  advance(maxSteps = Infinity): boolean {
    return this.runTo(this.step + maxSteps);
  }

  /** Runs up to (excluding) step `end`. */
  runTo(end: number): boolean {
    end = Math.min(end, this.timeline.length);
    if (this.S === 1) this.runSingle(end);
    else this.runMulti(end);
    if (this.step >= this.timeline.length) this.finish();
    return this.done;
  }

  /** The general loop: union timeline, several symbols per step. */
  private runMulti(end: number): void {
    const { timeline, stepStart, entrySym, entryBar, cols, qty, last, lastTs, hasPend, extreme, trBars, curve, S } =
      this;
    const symbols = this.data.symbols;
    const { fillAtOpen, hasStops, rebalanceAt } = this;
    const borrow = this.borrowRate > 0;
    let i = this.step;
    for (; i < end; i++) {
      const T = timeline[i];
      if (borrow && this.shortCount > 0 && i > 0) this.accrueBorrow((T - timeline[i - 1]) / 86_400_000);
      const e0 = stepStart[i];
      const e1 = stepStart[i + 1];
      // 1-3: fills, stops, marks.
      for (let e = e0; e < e1; e++) {
        const s = entrySym[e];
        const j = entryBar[e];
        const b = symbols[s];
        if (fillAtOpen) {
          if (hasPend[s] === 1) this.fillPending(s, j, b.open[j], T);
          if (hasStops && qty[s] !== 0) this.checkStops(s, j, T);
        } else {
          if (hasStops && qty[s] !== 0) this.checkStops(s, j, T);
          if (hasPend[s] === 1) this.fillPending(s, j, b.close[j], T);
        }
        const q = qty[s];
        if (q !== 0) {
          trBars[s]++;
          if (q > 0) {
            if (b.high[j] > extreme[s]) extreme[s] = b.high[j];
          } else if (b.low[j] < extreme[s]) extreme[s] = b.low[j];
        }
        last[s] = b.close[j];
        lastTs[s] = T;
      }
      this.barsProcessed += e1 - e0;
      // Equity at the close of T.
      let gross = 0;
      let net = 0;
      if (this.openCount > 0) {
        for (let s = 0; s < S; s++) {
          const q = qty[s];
          if (q !== 0) {
            const v = q * last[s];
            net += v;
            gross += v < 0 ? -v : v;
          }
        }
      }
      const eq = this.cash + net;
      curve.equity[i] = eq;
      curve.cash[i] = this.cash;
      curve.gross[i] = gross;
      curve.net[i] = net;
      curve.positions[i] = this.openCount;
      if (this.openCount > 0) {
        this.exposedSteps++;
        this.grossExposureSum += gross / eq;
      }
      this.lastEquity = eq;
      // Decisions at the close of T.
      const rebalance = rebalanceAt === null || rebalanceAt[i] === 1;
      for (let e = e0; e < e1; e++) {
        const s = entrySym[e];
        const j = entryBar[e];
        const c = cols[s];
        const q = qty[s];
        const exit = q > 0 ? c.exL[j] | c.enS[j] : q < 0 ? c.exS[j] | c.enL[j] : 0;
        if (exit === 1 || (rebalance && (q === 0 ? c.enL[j] | c.enS[j] : this.resize ? 1 : 0) === 1))
          this.decideAt(s, j, T, i, eq, exit === 1, rebalance);
      }
    }
    this.step = i;
  }

  /**
   * The loop specialised for one symbol (timeline = its bars): same semantics as {@link runMulti}, per-symbol state in
   * locals. The common bar (no order, no signal) costs a few loads and five stores.
   */
  private runSingle(end: number): void {
    const b = this.data.symbols[0];
    const { open, high, low, close } = b;
    const { timeline, qty, hasPend, extreme, trBars, fillAtOpen, hasStops, rebalanceAt, firstBar, last, lastTs } = this;
    const { enL, exL, enS, exS } = this.cols[0];
    const curve = this.curve as SingleSymbolCurve;
    const eqA = curve.equity;
    const qtyA = curve.quantity;
    // Running sums continue across slices (same addition order as one uninterrupted run: bit-identical KPIs).
    let exposed = this.exposedSteps;
    let grossSum = this.grossExposureSum;
    let eq = this.lastEquity;
    const borrow = this.borrowRate > 0;
    const resize = this.resize;
    let i = this.step;
    for (; i < end; i++) {
      const j = firstBar + i;
      const T = timeline[i];
      if (borrow && i > 0 && qty[0] < 0) this.accrueBorrow((T - timeline[i - 1]) / 86_400_000);
      if (fillAtOpen) {
        if (hasPend[0] === 1) this.fillPending(0, j, open[j], T);
        if (hasStops && qty[0] !== 0) this.checkStops(0, j, T);
      } else {
        if (hasStops && qty[0] !== 0) this.checkStops(0, j, T);
        if (hasPend[0] === 1) this.fillPending(0, j, close[j], T);
      }
      const q = qty[0];
      const c = close[j];
      let v = 0;
      if (q !== 0) {
        trBars[0]++;
        if (q > 0) {
          if (high[j] > extreme[0]) extreme[0] = high[j];
        } else if (low[j] < extreme[0]) extreme[0] = low[j];
        v = q * c;
        // Marks of a held position feed borrow fees and stop timestamps at the next bar.
        last[0] = c;
        lastTs[0] = T;
      }
      const cash = this.cash;
      eq = cash + v;
      eqA[i] = eq;
      qtyA[i] = q;
      if (q !== 0) {
        exposed++;
        grossSum += (v < 0 ? -v : v) / eq;
      }
      const rebalance = rebalanceAt === null || rebalanceAt[i] === 1;
      const exit = q > 0 ? exL[j] | enS[j] : q < 0 ? exS[j] | enL[j] : 0;
      if (exit === 1 || (rebalance && (q === 0 ? enL[j] | enS[j] : resize ? 1 : 0) === 1)) {
        // While flat the mark is only needed here and at the end of the slice.
        last[0] = c;
        lastTs[0] = T;
        this.decideAt(0, j, T, i, eq, exit === 1, rebalance);
      }
    }
    if (i > this.step) {
      last[0] = close[firstBar + i - 1];
      lastTs[0] = timeline[i - 1];
      this.lastEquity = eq;
      this.exposedSteps = exposed;
      this.grossExposureSum = grossSum;
    }
    this.barsProcessed += i - this.step;
    this.step = i;
  }

  /**
   * The strategy's decision for symbol s at the close of bar j (equity `eq`): exit when `exit`, enter (or reverse) on
   * an entry signal at a rebalancing instant within the position limit, or resize a held position.
   */
  private decideAt(s: number, j: number, T: number, step: number, eq: number, exit: boolean, rebalance: boolean): void {
    const q = this.qty[s];
    const c = this.cols[s];
    let target = exit ? 0 : q;
    let reason = EXIT;
    if (rebalance) {
      if (target === 0) {
        const el = c.enL[j] === 1;
        const es = c.enS[j] === 1;
        // Conflicting entry signals cancel out; a reversal keeps its position slot.
        if (el !== es && (q !== 0 || this.openCount + this.pendingEntries < this.maxPositions)) {
          const size = this.targetSize(s, j, eq);
          if (size > 0) {
            const t = el ? size : -size;
            // An entry on the side already held is no reversal: keep the position.
            if (q === 0 || t > 0 !== q > 0) {
              target = t;
              reason = q === 0 ? ENTRY : REVERSE;
            } else target = q;
          }
        }
      } else if (this.resize && q !== 0 && target === q) {
        const size = this.targetSize(s, j, eq);
        const want = q > 0 ? size : -size;
        if (size > 0 && Math.abs(want - q) > this.resizeThreshold * size) {
          target = want;
          reason = RESIZE;
        }
      }
    }
    if (target !== q) this.decide(s, j, T, step, target, reason);
  }

  /** Positions open after the last step, marked at their last close. */
  openPositions(): OpenPosition[] {
    const out: OpenPosition[] = [];
    for (let s = 0; s < this.S; s++) {
      const q = this.qty[s];
      if (q === 0) continue;
      const lp = this.last[s];
      out.push({
        symbol: this.symbols[s],
        quantity: q,
        averagePrice: this.avgPx[s],
        lastPrice: lp,
        marketValue: q * lp,
        unrealisedPnl: (lp - this.avgPx[s]) * q,
      });
    }
    return out;
  }

  /** Realised pnl (net of costs) of the trades still open, by symbol index. */
  openTradePnl(s: number): number {
    return this.qty[s] === 0 ? 0 : this.trPnl[s];
  }

  private finished = false;

  /** Records orders still pending at the end as unfilled (`end_of_data`). */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (let s = 0; s < this.S; s++) {
      if (this.hasPend[s] !== 1) continue;
      this.hasPend[s] = 0;
      if (this.pendReason[s] === ENTRY) this.pendingEntries--;
      const delta = this.pendTarget[s] - this.qty[s];
      if (delta !== 0) this.record(s, this.pendTs[s], null, this.pendReason[s], delta, 0, null, 0, 0, 'end_of_data');
    }
  }

  private decide(s: number, j: number, T: number, step: number, target: number, reason: number): void {
    this.hasPend[s] = 1;
    this.pendTarget[s] = target;
    this.pendReason[s] = reason;
    this.pendTs[s] = T;
    const sv = this.slipVol[s];
    this.pendSigma[s] = sv === null ? 0 : sv[j] === sv[j] ? sv[j] : 0;
    if (reason === ENTRY) this.pendingEntries++;
    this.decStep.push(step);
    this.decTs.push(T);
    this.decSym.push(s);
    this.decTarget.push(target);
    this.decReason.push(reason);
  }

  /** Target absolute quantity for a new or resized position, decided at bar j's close with equity `eq`. */
  private targetSize(s: number, j: number, eq: number): number {
    const sz = this.config.sizing;
    let notional: number;
    if (sz.kind === 'fixed_fraction') notional = sz.fraction * eq;
    else if (sz.kind === 'fixed_notional') notional = sz.notional;
    else {
      const v = this.sizeVol[s];
      const sigma = v === null ? NaN : v[j];
      if (!(sigma > 0)) return 0;
      notional = (eq * Math.min(sz.maxWeight, sz.annualVol / sigma)) / this.maxPositions;
    }
    if (!(notional > 0)) return 0;
    return floorLots(notional / this.data.symbols[s].close[j], this.lot);
  }

  private fillPending(s: number, j: number, refPx: number, T: number): void {
    this.hasPend[s] = 0;
    const reason = this.pendReason[s];
    if (reason === ENTRY) this.pendingEntries--;
    const delta = this.pendTarget[s] - this.qty[s];
    if (delta !== 0) this.execute(s, j, delta, refPx, T, reason, this.pendTs[s], this.pendSigma[s]);
  }

  private checkStops(s: number, j: number, T: number): void {
    const { stopLoss, takeProfit, trailingStop } = this.config.risk;
    const b = this.data.symbols[s];
    const q = this.qty[s];
    const avg = this.avgPx[s];
    const open = b.open[j];
    const sv = this.slipVol[s];
    const sigma = sv === null || j === 0 || sv[j - 1] !== sv[j - 1] ? 0 : sv[j - 1];
    const placed = this.lastTs[s] === this.lastTs[s] ? this.lastTs[s] : T;
    if (q > 0) {
      let level = -Infinity;
      let kind = STOP_LOSS;
      if (stopLoss !== undefined) level = avg * (1 - stopLoss);
      if (trailingStop !== undefined) {
        const l2 = this.extreme[s] * (1 - trailingStop);
        if (l2 > level) {
          level = l2;
          kind = TRAILING;
        }
      }
      if (b.low[j] <= level) return void this.execute(s, j, -q, open <= level ? open : level, T, kind, placed, sigma);
      if (takeProfit !== undefined) {
        const tp = avg * (1 + takeProfit);
        if (b.high[j] >= tp) this.execute(s, j, -q, open >= tp ? open : tp, T, TAKE_PROFIT, placed, sigma);
      }
    } else {
      let level = Infinity;
      let kind = STOP_LOSS;
      if (stopLoss !== undefined) level = avg * (1 + stopLoss);
      if (trailingStop !== undefined) {
        const l2 = this.extreme[s] * (1 + trailingStop);
        if (l2 < level) {
          level = l2;
          kind = TRAILING;
        }
      }
      if (b.high[j] >= level) return void this.execute(s, j, -q, open >= level ? open : level, T, kind, placed, sigma);
      if (takeProfit !== undefined) {
        const tp = avg * (1 - takeProfit);
        if (b.low[j] <= tp) this.execute(s, j, -q, open <= tp ? open : tp, T, TAKE_PROFIT, placed, sigma);
      }
    }
  }

  /** Fills (as far as volume and leverage allow) a signed quantity at bar j around `refPx`, and books it. */
  private execute(
    s: number,
    j: number,
    delta: number,
    refPx: number,
    T: number,
    reason: number,
    decidedTs: number,
    sigma: number,
  ): void {
    const b = this.data.symbols[s];
    const sign = delta > 0 ? 1 : -1;
    const want = delta * sign;
    let fillQ = want;
    let unfilledReason: UnfilledReason | null = null;
    const vol = b.volume[j];
    if (this.maxPart !== Infinity) {
      const cap = floorLots(this.maxPart * vol, this.lot);
      if (fillQ > cap) {
        fillQ = cap;
        unfilledReason = 'volume';
      }
    }
    let slip = this.slipBps;
    if (this.impact > 0 && fillQ > 0) slip += this.impact * sigma * Math.sqrt(vol > 0 ? Math.min(1, fillQ / vol) : 1);
    const px = refPx * (1 + sign * slip);
    const q0 = this.qty[s];
    const closing = q0 !== 0 && q0 > 0 !== sign > 0 ? Math.min(fillQ, Math.abs(q0)) : 0;
    let opening = fillQ - closing;
    if (opening > 0) {
      // Equity and other gross exposure at the fill, this symbol marked at the reference price.
      let eq = this.cash;
      let grossOther = 0;
      for (let k = 0; k < this.S; k++) {
        const qk = this.qty[k];
        if (qk === 0) continue;
        const v = qk * (k === s ? refPx : this.last[k]);
        eq += v;
        if (k !== s) grossOther += v < 0 ? -v : v;
      }
      const keep = Math.abs(q0) - closing;
      const L = this.leverage;
      const maxOpen = floorLots(
        (L * (eq - this.commFixed) - grossOther - keep * px) / (px * (1 + L * this.commBps)),
        this.lot,
      );
      if (opening > maxOpen) {
        opening = Math.max(0, maxOpen);
        fillQ = closing + opening;
        unfilledReason = 'leverage';
      }
    }
    if (!(fillQ > 0)) {
      this.record(s, decidedTs, null, reason, delta, 0, null, 0, 0, unfilledReason ?? 'volume');
      return;
    }
    const notional = fillQ * px;
    const comm = notional * this.commBps + this.commFixed;
    const slipCost = fillQ * Math.abs(px - refPx);
    this.cash -= sign * notional + comm;
    this.costs.commission += comm;
    this.costs.slippage += slipCost;
    this.tradedNotional += notional;

    // Trade bookkeeping: close (part of) the position first, then open / add.
    let cur = Math.abs(q0);
    if (closing > 0) {
      const commClose = (comm * closing) / fillQ;
      const dir = q0 > 0 ? 1 : -1;
      this.trPnl[s] += (px - this.avgPx[s]) * closing * dir - commClose;
      this.trComm[s] += commClose;
      this.trExitNotional[s] += closing * px;
      this.trExitQty[s] += closing;
      cur -= closing;
      this.qty[s] = dir * cur;
      if (cur === 0) {
        this.closeTrade(s, T, reason, dir);
        this.openCount--;
        if (dir < 0) this.shortCount--;
      }
    }
    if (opening > 0) {
      const commOpen = comm - (closing > 0 ? (comm * closing) / fillQ : 0);
      if (cur === 0) {
        this.trEntryTs[s] = T;
        this.trEntryNotional[s] = 0;
        this.trEntryQty[s] = 0;
        this.trExitNotional[s] = 0;
        this.trExitQty[s] = 0;
        this.trMaxQty[s] = 0;
        this.trPnl[s] = 0;
        this.trComm[s] = 0;
        this.trBorrow[s] = 0;
        this.trBars[s] = 0;
        this.avgPx[s] = 0;
        this.extreme[s] = px;
        this.openCount++;
        if (sign < 0) this.shortCount++;
      }
      this.avgPx[s] = (this.avgPx[s] * cur + px * opening) / (cur + opening);
      cur += opening;
      this.trEntryNotional[s] += opening * px;
      this.trEntryQty[s] += opening;
      this.trPnl[s] -= commOpen;
      this.trComm[s] += commOpen;
      if (cur > this.trMaxQty[s]) this.trMaxQty[s] = cur;
      this.qty[s] = sign * cur;
    }
    this.record(s, decidedTs, T, reason, delta, sign * fillQ, px, comm, slipCost, fillQ < want ? unfilledReason : null);
  }

  private closeTrade(s: number, T: number, reason: number, dir: number): void {
    const entryNotional = this.trEntryNotional[s];
    this.trades.push({
      seq: this.trades.length,
      symbol: this.symbols[s],
      direction: dir > 0 ? 'long' : 'short',
      entryTs: this.trEntryTs[s],
      exitTs: T,
      quantity: this.trMaxQty[s],
      entryPrice: entryNotional / this.trEntryQty[s],
      exitPrice: this.trExitNotional[s] / this.trExitQty[s],
      pnl: this.trPnl[s],
      return: this.trPnl[s] / entryNotional,
      bars: this.trBars[s],
      exitReason: REASONS[reason],
      commission: this.trComm[s],
      borrow: this.trBorrow[s],
    });
    this.avgPx[s] = 0;
  }

  private accrueBorrow(days: number): void {
    const k = this.borrowRate * (days / 365);
    for (let s = 0; s < this.S; s++) {
      const q = this.qty[s];
      if (q >= 0) continue;
      // Fee on the short market value at the previous close, for the calendar days elapsed.
      const fee = -q * this.last[s] * k;
      this.cash -= fee;
      this.costs.borrow += fee;
      this.trBorrow[s] += fee;
      this.trPnl[s] -= fee;
    }
  }

  private record(
    s: number,
    decidedTs: number,
    filledTs: number | null,
    reason: number,
    requested: number,
    filled: number,
    price: number | null,
    comm: number,
    slipCost: number,
    unfilledReason: UnfilledReason | null,
  ): void {
    this.orders.push({
      seq: this.orders.length,
      symbol: this.symbols[s],
      decidedTs,
      filledTs,
      reason: REASONS[reason],
      requestedQty: requested,
      filledQty: filled,
      fillPrice: price,
      commission: comm,
      slippageCost: slipCost,
      unfilledQty: requested - filled,
      unfilledReason: requested === filled ? null : unfilledReason,
    });
  }
}

/** The union timeline of the symbols' bars inside [from, to], with (symbol, bar) entries per step in universe order. */
export function buildTimeline(
  data: BacktestData,
  from: number,
  to: number,
): { timeline: Float64Array; stepStart: Int32Array; entrySym: Int32Array; entryBar: Int32Array; firstBar: number } {
  const S = data.symbols.length;
  const lo = new Int32Array(S);
  const hi = new Int32Array(S);
  let total = 0;
  for (let s = 0; s < S; s++) {
    const ts = data.symbols[s].ts;
    lo[s] = lowerBound(ts, from);
    hi[s] = upperBound(ts, to);
    total += Math.max(0, hi[s] - lo[s]);
  }
  let timeline: Float64Array;
  // One symbol: the timeline is its bars (a view, no copy) and no step index is needed.
  if (S === 1)
    return {
      timeline: data.symbols[0].ts.subarray(lo[0], hi[0]),
      stepStart: new Int32Array(0),
      entrySym: new Int32Array(0),
      entryBar: new Int32Array(0),
      firstBar: lo[0],
    };
  else {
    const all = new Float64Array(total);
    let k = 0;
    for (let s = 0; s < S; s++) {
      all.set(data.symbols[s].ts.subarray(lo[s], hi[s]), k);
      k += hi[s] - lo[s];
    }
    all.sort();
    let u = 0;
    for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[u - 1]) all[u++] = all[i];
    timeline = all.slice(0, u);
  }
  const T = timeline.length;
  const stepStart = new Int32Array(T + 1);
  const entrySym = new Int32Array(total);
  const entryBar = new Int32Array(total);
  const ptr = lo.slice();
  let e = 0;
  for (let i = 0; i < T; i++) {
    stepStart[i] = e;
    const t = timeline[i];
    for (let s = 0; s < S; s++) {
      const p = ptr[s];
      if (p < hi[s] && data.symbols[s].ts[p] === t) {
        entrySym[e] = s;
        entryBar[e] = p;
        e++;
        ptr[s] = p + 1;
      }
    }
  }
  stepStart[T] = e;
  return { timeline, stepStart, entrySym, entryBar, firstBar: 0 };
}

function lowerBound(a: Float64Array, x: number): number {
  let l = 0;
  let h = a.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (a[m] < x) l = m + 1;
    else h = m;
  }
  return l;
}

function upperBound(a: Float64Array, x: number): number {
  let l = 0;
  let h = a.length;
  while (l < h) {
    const m = (l + h) >>> 1;
    if (a[m] <= x) l = m + 1;
    else h = m;
  }
  return l;
}

const DAY = 86_400_000;

/** Days since 1970-01-01 → (year × 12 + month). */
function monthKey(days: number): number {
  const [y, m] = civilFromDays(days);
  return y * 12 + m;
}

/**
 * 1 at the first timeline instant of each ISO week (Monday-based, UTC) or calendar month (UTC): a rebalancing bar is
 * known to be one from its own date and the previous bar's, without looking at later bars.
 */
export function rebalanceMask(timeline: Float64Array, every: 'week' | 'month'): Uint8Array {
  const out = new Uint8Array(timeline.length);
  let prev = NaN;
  for (let i = 0; i < timeline.length; i++) {
    const days = Math.floor(timeline[i] / DAY);
    // 1970-01-01 was a Thursday: (days + 3) / 7 counts Monday-based weeks.
    const key = every === 'week' ? Math.floor((days + 3) / 7) : monthKey(days);
    out[i] = key !== prev ? 1 : 0;
    prev = key;
  }
  return out;
}
