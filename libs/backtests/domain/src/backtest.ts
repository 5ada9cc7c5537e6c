import {
  type ExecutionSettings,
  type StrategyDefinition,
  type EquityCurve,
  type OrderRecord,
  type TradeRecord,
  type SignalModel,
} from '@strata/backtests-contracts';
import { timelinePeriodsPerYear, validateBacktestData, type BacktestData } from './backtest-data';
import { PortfolioSimulation, type DecisionRecord, type OpenPosition, type SimulationConfig } from './engine';
import { Fingerprint } from './fingerprint';
import { alignBenchmark, computeKpis, type Kpis } from './kpis';
import { strategySignalSource, type SeriesCache, type SignalSource, type SymbolSignals } from './signals';
import type { StrategyCatalog } from './strategy-validation';

/** Version of the engine's semantics; recorded in every result (a change of any output is a new version). */
export const ENGINE_VERSION = 'domain-backtest@1.0.0';

/** Benchmark series for beta and alpha (its close is aligned as of each timeline instant). */
export interface BenchmarkSeries {
  symbol: string;
  ts: Float64Array;
  close: Float64Array;
}

/** Everything one backtest needs. */
export interface BacktestRequest {
  definition: StrategyDefinition;
  data: BacktestData;
  initialCapital: number;
  execution: ExecutionSettings;
  /** Overrides of `definition.params`. */
  params?: Readonly<Record<string, number>>;
  /** Trading window, epoch ms UTC inclusive; earlier bars only warm indicators up. */
  from?: number | null;
  to?: number | null;
  /** Annual risk-free rate for Sharpe, Sortino, alpha (fraction, default 0). */
  riskFreeRate?: number;
  benchmark?: BenchmarkSeries | null;
  /** Replaces the compiled definition as the source of entry/exit signals (tests, ML signals). */
  signalSource?: SignalSource;
  catalog?: StrategyCatalog;
  /** Memo shared by runs over the same data (sweeps). */
  cache?: SeriesCache;
  /** Models behind the definition's `{ signal: name }` references (see {@link SignalModel}). */
  signalModels?: Readonly<Record<string, SignalModel>>;
  /** Skip input validation (the caller validated the same data already, e.g. in a sweep). */
  trustedData?: boolean;
}

/** Everything a backtest produced. Money in account currency, times epoch ms UTC. */
export interface BacktestOutcome {
  symbols: string[];
  curve: EquityCurve;
  orders: OrderRecord[];
  trades: TradeRecord[];
  /** The strategy's decisions (built on first read). */
  readonly decisions: DecisionRecord[];
  openPositions: OpenPosition[];
  costs: { commission: number; slippage: number; borrow: number };
  tradedNotional: number;
  barsProcessed: number;
  periodsPerYear: number;
  kpis: Kpis;
  /** {@link fingerprintOutcome}: equal for bit-identical runs (computed on first read). */
  readonly fingerprint: string;
  initialCapital: number;
  finalEquity: number;
}

/** The simulation settings of a definition plus execution settings. */
export function simulationConfigOf(
  req: Pick<BacktestRequest, 'definition' | 'initialCapital' | 'execution' | 'from' | 'to'>,
): SimulationConfig {
  const d = req.definition;
  return {
    initialCapital: req.initialCapital,
    execution: req.execution,
    direction: d.direction,
    sizing: d.sizing,
    risk: d.risk,
    maxPositions: d.maxPositions,
    rebalance: d.rebalance,
    from: req.from ?? null,
    to: req.to ?? null,
  };
}

/** The signal source of a request: its own, or the compiled definition. */
export function signalSourceOf(req: BacktestRequest): SignalSource {
  return (
    req.signalSource ??
    strategySignalSource(req.definition, {
      params: req.params,
      catalog: req.catalog,
      cache: req.cache,
      signalModels: req.signalModels,
    })
  );
}

/**
 * A backtest in phases, so that a worker can report progress and keep its lease between slices:
 * `signals()` (vectorised rule evaluation), `advance(steps)` until it returns true, then `outcome()`.
 */
export class BacktestRun {
  private sim: PortfolioSimulation | null = null;
  private sigs: SymbolSignals[] | null = null;

  constructor(readonly request: BacktestRequest) {
    if (!request.trustedData) validateBacktestData(request.data);
    if (request.data.symbols.length === 0) throw new RangeError('a backtest needs at least one symbol');
  }

  /** Evaluates the entry/exit rules over every symbol (idempotent). */
  signals(): SymbolSignals[] {
    if (!this.sigs) this.sigs = signalSourceOf(this.request)(this.request.data);
    return this.sigs;
  }

  /** The simulation (created on first use). */
  get simulation(): PortfolioSimulation {
    if (!this.sim)
      this.sim = new PortfolioSimulation(this.request.data, this.signals(), simulationConfigOf(this.request));
    return this.sim;
  }

  /** Runs up to `maxSteps` timeline steps; true when done. */
  advance(maxSteps = Infinity): boolean {
    return this.simulation.advance(maxSteps);
  }

  /** Results; runs whatever is left first. */
  outcome(): BacktestOutcome {
    const sim = this.simulation;
    sim.advance();
    const req = this.request;
    const curve = sim.curve;
    const periodsPerYear = timelinePeriodsPerYear(req.data);
    const kpis = computeKpis({
      equity: curve.equity,
      ts: curve.ts,
      exposedSteps: sim.exposedSteps,
      grossExposureSum: sim.grossExposureSum,
      tradePnl: sim.trades.map((t) => t.pnl),
      tradeReturn: sim.trades.map((t) => t.return),
      tradedNotional: sim.tradedNotional,
      benchmark: req.benchmark ? alignBenchmark(curve.ts, req.benchmark.ts, req.benchmark.close) : null,
      periodsPerYear,
      riskFreeRate: req.riskFreeRate ?? 0,
    });
    let fingerprint: string | undefined;
    return {
      symbols: sim.symbols,
      curve,
      orders: sim.orders,
      trades: sim.trades,
      get decisions(): DecisionRecord[] {
        return sim.decisions;
      },
      openPositions: sim.openPositions(),
      costs: { ...sim.costs },
      tradedNotional: sim.tradedNotional,
      barsProcessed: sim.barsProcessed,
      periodsPerYear,
      kpis,
      initialCapital: req.initialCapital,
      finalEquity: sim.equity,
      // Hashing every number costs ~10 ns per equity point: computed on first read only.
      get fingerprint(): string {
        return (fingerprint ??= fingerprintOutcome(this));
      },
    };
  }
}

/** Runs a backtest to the end. */
export function runBacktest(req: BacktestRequest): BacktestOutcome {
  return new BacktestRun(req).outcome();
}

/** Hash of the equity curve and every order and trade, bit for bit. */
export function fingerprintOutcome(o: Pick<BacktestOutcome, 'curve' | 'orders' | 'trades'>): string {
  const f = new Fingerprint();
  const c = o.curve;
  f.array(c.ts).array(c.equity).array(c.cash).array(c.gross).array(c.net).array(c.positions);
  f.word(o.orders.length);
  for (const x of o.orders) {
    f.string(x.symbol)
      .string(x.reason)
      .number(x.decidedTs)
      .number(x.filledTs ?? NaN)
      .number(x.requestedQty)
      .number(x.filledQty);
    f.number(x.fillPrice ?? NaN)
      .number(x.commission)
      .number(x.slippageCost)
      .string(x.unfilledReason ?? '');
  }
  f.word(o.trades.length);
  for (const t of o.trades) {
    f.string(t.symbol)
      .string(t.direction)
      .number(t.entryTs)
      .number(t.exitTs)
      .number(t.quantity)
      .number(t.entryPrice)
      .number(t.exitPrice);
    f.number(t.pnl).number(t.borrow).number(t.commission).string(t.exitReason);
  }
  return f.hex();
}
