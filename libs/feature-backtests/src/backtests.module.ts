import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { RunBacktestCommandV1 } from '@strata/contracts';
import { OnCommand, type BusContext } from '@strata/infra-bus';
import { BACKTEST_MARKET_DATA, BACKTEST_SERIES_STORE, type BacktestMarketData, type BacktestSeriesStore } from './backtests.ports';
import { BacktestRunsRepository } from './backtest-runs.repository';
import { BacktestWorker, resolveWorkerOptions, type BacktestWorkerOptions, type RunBacktestCommand } from './backtest-worker';
import { BacktestsController } from './backtests.controller';
import { BacktestsService } from './backtests.service';
import { BACKTEST_WORKER_OPTIONS } from './backtests.tokens';
import { MarketDataBacktestData } from './market-data.backtest-data';

/**
 * What {@link BacktestsModule} needs. `DOCUMENT_STORE` and `EVENT_BUS` must be global; the HTTP side needs
 * `StrategiesModule`; the default market data needs `MarketDataModule`.
 */
export interface BacktestsModuleOptions {
  /** Where equity curves, trades and orders go (`DuckDbBacktestSeriesStore`). */
  seriesStore: BacktestSeriesStore;
  /** Bars of the runs (default: the market-data capability, adjusted as each strategy asks). */
  marketData?: BacktestMarketData;
  /** Serve `/backtests` (default true). */
  http?: boolean;
  /**
   * Run backtests here: subscribe the `backtest.cmd.run.v1` work queue (the process must listen with `BusTransport`)
   * and run the recovery sweep. False (default) for processes that only serve the API.
   */
  worker?: boolean | BacktestWorkerOptions;
}

/** Starts and stops the worker's recovery sweep. */
@Injectable()
class BacktestSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private readonly logger = new Logger('backtest-worker');
  constructor(private readonly worker: BacktestWorker) {}
  onApplicationBootstrap(): void {
    const every = this.worker.options.sweepIntervalMs;
    if (every <= 0) return;
    this.timer = setInterval(() => {
      this.worker.sweep().catch((e: unknown) => this.logger.warn({ msg: 'recovery sweep failed', err: (e as Error).message }));
    }, every);
    this.timer.unref();
  }
  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}

/** The bus handler class, made per registration so that the consumer options (ack wait, deliveries) are the module's. */
function runHandlerClass(opts: ReturnType<typeof resolveWorkerOptions>): Type<unknown> {
  @Injectable()
  class RunBacktestHandler {
    constructor(@Inject(BacktestWorker) private readonly worker: BacktestWorker) {}

    /** `backtest.cmd.run.v1` (work queue shared by every worker; one run at a time per worker). */
    @OnCommand(RunBacktestCommandV1, { ackWaitMs: opts.ackWaitMs, maxDeliver: opts.maxDeliver, backoffMs: opts.backoffMs, prefetch: 1 })
    handle(cmd: RunBacktestCommand, ctx: BusContext): Promise<void> {
      return this.worker.handle(cmd, { deliveryCount: ctx.getDeliveryCount() });
    }
  }
  return RunBacktestHandler;
}

/**
 * Backtests over the bus: the REST API ({@link BacktestsService}, `/backtests`) and/or the worker
 * ({@link BacktestWorker} behind an `@OnCommand(backtest.cmd.run.v1)` handler). In the all-in-one process the API
 * goes into the HTTP app and the worker into the `backtests` service context.
 */
@Module({})
export class BacktestsModule {
  static register(opts: BacktestsModuleOptions): DynamicModule {
    const providers: Provider[] = [BacktestRunsRepository, { provide: BACKTEST_SERIES_STORE, useValue: opts.seriesStore }];
    const controllers: Type<unknown>[] = [];
    if (opts.http !== false) {
      providers.push(BacktestsService);
      controllers.push(BacktestsController);
    }
    if (opts.worker) {
      const workerOptions = opts.worker === true ? {} : opts.worker;
      providers.push(
        { provide: BACKTEST_WORKER_OPTIONS, useValue: workerOptions },
        opts.marketData ? { provide: BACKTEST_MARKET_DATA, useValue: opts.marketData } : { provide: BACKTEST_MARKET_DATA, useClass: MarketDataBacktestData },
        BacktestWorker,
        BacktestSweeper,
      );
      controllers.push(runHandlerClass(resolveWorkerOptions(workerOptions)));
    }
    return {
      module: BacktestsModule,
      controllers,
      providers,
      exports: opts.http !== false ? [BacktestsService, BacktestRunsRepository] : [BacktestRunsRepository],
    };
  }
}
