import { streamDomains } from '@strata/catalog-contracts';
import { FeaturesModule } from '@strata/features-feature';
import { MarketDataReaderModule } from '@strata/marketdata-feature';
import { openRemoteMarketData } from '@strata/marketdata-infra-nats';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { signalsService } from '@strata/signals-feature';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import type { Logger } from 'pino';
import type { Config } from './config';

/** File of the embedded document store when `MONGODB_URI` is unset (never the marketdata service's file). */
export const SIGNALS_DUCKDB_FILE = 'strata-signals.duckdb';

/** A running signals service. */
export type SignalsService = ServiceApp & { runtime: OnnxModelRuntime };

/**
 * Builds the signals service: `/signals` REST (model registry and aliases in the document store, raw-row scoring with
 * cached onnxruntime sessions), the training worker on the `signals.cmd.train.v1` work queue (replicas share it) and
 * champion scoring of refreshed feature sets. Features and bars come from the marketdata service over NATS (a
 * read-only feature store over the bus reader); ONNX artifacts go to the JetStream Object Store (`strata-artifacts`),
 * which every replica and the backtests service read. Needs NATS_URL.
 */
export async function startSignals(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<SignalsService> {
  const { config } = opts;
  let runtime: OnnxModelRuntime | undefined;
  const app = await startServiceApp({
    name: 'signals',
    busDomains: streamDomains(),
    config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: { file: SIGNALS_DUCKDB_FILE },
    // REST through the gateway only (HTTP over the bus); the port answers /health.
    http: { name: 'signals', kind: 'service' },
    open: async ({ bus, dataDir }) => {
      const remote = await openRemoteMarketData({ service: 'signals', bus, dataDir });
      const ort = (runtime = new OnnxModelRuntime({
        intraOpNumThreads: config.SIGNALS_ORT_THREADS,
        batchThreads: config.SIGNALS_BATCH_THREADS,
      }));
      return { remote, runtime: ort, close: () => ort.close() };
    },
    services: (_env, { remote, runtime: ort }) => {
      const reader = MarketDataReaderModule.register(remote.reader);
      // Training datasets, as-of joins and series scoring read the feature tables over the bus (read-only).
      const features = FeaturesModule.register({
        store: remote.featureStore,
        http: false,
        refresh: false,
        qualityFlags: remote.qualityFlags,
      });
      return [
        serviceRun(signalsService, {
          api: true,
          workers: 'all',
          adapters: { features, artifacts: remote.stores.artifacts, runtime: ort },
          imports: [reader],
          apiImports: [reader],
        }),
      ];
    },
    staging: (_env, { remote }) => remote.stores.staging,
  });
  return { ...app, runtime: runtime! };
}

/** Starts the signals service on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runSignals(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startSignals({ config: c, logger }), {
    name: 'signals',
    message: () => 'signals service running (REST /signals over the bus, training worker, champion scoring)',
  });
}
