import { ForecastKpiBandsCommandV1, RunBacktestCommandV1 } from '@strata/backtests-contracts';
import { durableConsumerName } from '@strata/platform-contracts';
import type { ServiceDefinition } from '@strata/platform-messaging';
import { z } from 'zod';
import { BACKTEST_SERIES_COLLECTION } from './artifact-backtest-series.store';
import type { BacktestWorkerOptions } from './backtest-worker';
import { BACKTESTS_SERVICE, BacktestsModule, type BacktestsModuleOptions } from './backtests.module';
import { StrategiesModule } from './strategies.module';

/** Adapters of the backtests service's ports, supplied by the app. */
export type BacktestsServiceAdapters = Pick<
  BacktestsModuleOptions,
  'seriesStore' | 'marketData' | 'signalModels' | 'qualityFlags'
> & {
  /** Tuning of the worker (lease, heartbeat, ack wait, backoff, sweep); default the worker's defaults. */
  worker?: BacktestWorkerOptions;
};

/**
 * The backtests service: `/strategies`, `/backtests` and `/portfolios` on the HTTP side, and the `run` worker consuming the
 * `backtest.cmd.run.v1` and `backtest.cmd.forecast.v1` (large KPI-band forecasts) work queues (one run at a time per worker, leases and a recovery sweep). Its bus context needs
 * the market-data reader (`MarketDataModule`, added by the app) unless `marketData` is given.
 */
export const backtestsService: ServiceDefinition<BacktestsServiceAdapters> = {
  name: BACKTESTS_SERVICE,
  description: 'Strategy definitions with versions, and backtests run by workers on a shared queue',
  config: z.object({}),
  owns: {
    duckdbTables: [],
    collections: [
      'strategies',
      'strategy_versions',
      'backtest_runs',
      BACKTEST_SERIES_COLLECTION,
      'backtest_kpi_bands',
      'backtest_forecast_jobs',
      'portfolios',
      'portfolio_kpi_bands',
    ],
    streams: ['backtest'],
    consumers: [
      durableConsumerName(BACKTESTS_SERVICE, RunBacktestCommandV1),
      durableConsumerName(BACKTESTS_SERVICE, ForecastKpiBandsCommandV1),
    ],
  },
  api: ({ adapters }) => [StrategiesModule.register(), BacktestsModule.register({ seriesStore: adapters.seriesStore })],
  workers: {
    parts: ['run'],
    modules: ({ adapters }) => {
      const { worker, ...ports } = adapters;
      return [BacktestsModule.register({ ...ports, http: false, worker: worker ?? true })];
    },
  },
};
