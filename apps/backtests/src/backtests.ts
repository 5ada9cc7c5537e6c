import { streamDomains } from '@strata/catalog-contracts';
import { ArtifactBacktestSeriesStore, backtestsService } from '@strata/backtests-feature';
import { FeaturesModule } from '@strata/features-feature';
import { MarketDataReaderModule } from '@strata/marketdata-feature';
import { openRemoteMarketData } from '@strata/marketdata-infra-nats';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { registrySignalModels, SignalScoringService, SignalsModule } from '@strata/signals-feature';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import type { Logger } from 'pino';
import type { Config } from './config';

/** File of the embedded document store when `MONGODB_URI` is unset (never the marketdata service's file). */
export const BACKTESTS_DUCKDB_FILE = 'strata-backtests.duckdb';

/** A running backtests service. */
export type BacktestsApp = ServiceApp;

/**
 * Builds the backtests service: `/strategies` and `/backtests` REST, and the backtest worker on the
 * `backtest.cmd.run.v1` work queue (replicas share it; a run whose worker died is taken over once its lease,
 * `BACKTESTS_WORKER_LEASE_MS`, expired, and completes exactly once). Bars and quality flags are read from the
 * marketdata service over NATS (`NatsMarketDataReader`); `{ signal: alias }` strategies resolve the model registry
 * (documents) and its ONNX artifacts (JetStream Object Store). Needs NATS_URL.
 */
export async function startBacktests(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<BacktestsApp> {
  const { config } = opts;
  return startServiceApp({
    name: 'backtests',
    busDomains: streamDomains(),
    config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: { file: BACKTESTS_DUCKDB_FILE },
    // REST through the gateway only (HTTP over the bus); the port answers /health.
    http: { name: 'backtests', kind: 'service' },
    open: async ({ bus, dataDir }) => {
      const remote = await openRemoteMarketData({ service: 'backtests', bus, dataDir });
      const runtime = new OnnxModelRuntime({ intraOpNumThreads: 1 });
      return {
        remote,
        runtime,
        close: async () => {
          await runtime.close();
        },
      };
    },
    services: ({ services, store }, { remote, runtime }) => [
      serviceRun(backtestsService, {
        api: true,
        workers: 'all',
        adapters: {
          // Series in the shared stores (artifact blob + document): any replica pages any run.
          seriesStore: new ArtifactBacktestSeriesStore(remote.stores.artifacts, store),
          qualityFlags: remote.qualityFlags,
          signalModels: registrySignalModels(() => services.backtests.get(SignalScoringService)),
          worker: { leaseMs: config.BACKTESTS_WORKER_LEASE_MS },
        },
        imports: [
          MarketDataReaderModule.register(remote.reader),
          // The registry side of signals (no REST, no worker): resolves `{ signal: alias }` to the champion's model.
          SignalsModule.register({
            features: FeaturesModule.register({
              store: remote.featureStore,
              http: false,
              refresh: false,
              qualityFlags: remote.qualityFlags,
            }),
            artifacts: remote.stores.artifacts,
            runtime,
            http: false,
          }),
        ],
      }),
    ],
    staging: (_env, { remote }) => remote.stores.staging,
  });
}

/** Starts the backtests service on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runBacktests(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startBacktests({ config: c, logger }), {
    name: 'backtests',
    message: () => 'backtests service running (REST /strategies, /backtests; backtest worker)',
  });
}
