import { BAR_QUALITY_FLAGS, type BarQualityFlagsStore } from '@strata/dataquality-contracts';
import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { BACKTEST_MARKET_DATA, type BacktestMarketData } from './backtests.ports';
import {
  BACKTEST_SERIES_STORE,
  BACKTEST_SIGNAL_MODELS,
  type BacktestSeriesStore,
  type BacktestSignalModels,
} from '@strata/backtests-contracts';
import { BacktestRunsRepository } from './backtest-runs.repository';
import { BacktestWorker, BacktestWorkerController, type BacktestWorkerOptions } from './backtest-worker';
import { BacktestsController } from './backtests.controller';
import { BacktestForecastController, BacktestForecastJobController } from './backtest-forecast.controller';
import { BacktestForecastService } from './backtest-forecast.service';
import { BacktestsService } from './backtests.service';
import { PortfoliosController } from './portfolios.controller';
import { PortfoliosService } from './portfolios.service';
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
   * Run backtests here: subscribe the `backtest.cmd.run.v1` work queue and run the recovery sweep. False (default)
   * for processes that only serve the API.
   */
  worker?: boolean | BacktestWorkerOptions;
  /** Models behind `{ signal: alias }` (the signals service's registry); absent: such strategies fail as invalid. */
  signalModels?: BacktestSignalModels;
  /** Bars the data-quality sentinel flagged, for runs with `qualityFilter: 'exclude'` (absent: such runs fail). */
  qualityFlags?: BarQualityFlagsStore;
}

/** Service name in the durable consumer name of the worker queue (`backtests__backtest_cmd_run__v1`). */
export const BACKTESTS_SERVICE = 'backtests';

/**
 * Backtests over the bus: the REST API ({@link BacktestsService}, `/backtests`) and/or the worker
 * ({@link BacktestWorker} on the `backtest.cmd.run.v1` work queue, see {@link BacktestWorkerController}). In the
 * all-in-one process the API goes into the HTTP app and the worker into the `backtests` service context.
 */
@Module({})
export class BacktestsModule {
  static register(opts: BacktestsModuleOptions): DynamicModule {
    const providers: Provider[] = [
      BacktestRunsRepository,
      { provide: BACKTEST_SERIES_STORE, useValue: opts.seriesStore },
    ];
    const controllers: Type<unknown>[] = [];
    if (opts.http !== false) {
      providers.push(BacktestsService, BacktestForecastService, PortfoliosService);
      controllers.push(BacktestsController, BacktestForecastController, PortfoliosController);
    }
    if (opts.worker) {
      const workerOptions = opts.worker === true ? {} : opts.worker;
      providers.push(
        { provide: BACKTEST_WORKER_OPTIONS, useValue: workerOptions },
        opts.marketData
          ? { provide: BACKTEST_MARKET_DATA, useValue: opts.marketData }
          : { provide: BACKTEST_MARKET_DATA, useClass: MarketDataBacktestData },
        BacktestWorker,
      );
      if (opts.http === false) providers.push(BacktestForecastService);
      controllers.push(BacktestWorkerController, BacktestForecastJobController);
      if (opts.signalModels) providers.push({ provide: BACKTEST_SIGNAL_MODELS, useValue: opts.signalModels });
      if (opts.qualityFlags) providers.push({ provide: BAR_QUALITY_FLAGS, useValue: opts.qualityFlags });
    }
    return {
      module: BacktestsModule,
      controllers,
      providers,
      exports: [
        BacktestRunsRepository,
        ...(opts.http !== false ? [BacktestsService] : []),
        ...(opts.worker ? [BacktestWorker] : []),
      ],
    };
  }
}
