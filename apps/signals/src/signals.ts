import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { signalsService } from '@strata/signals-feature';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import type { Logger } from 'pino';
import type { Config } from './config';
import { openRemoteMarketData } from './remote-market-data';

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
    services: (_env, { remote, runtime: ort }) => [
      serviceRun(signalsService, {
        api: true,
        workers: 'all',
        adapters: { features: remote.features, artifacts: remote.artifacts, runtime: ort },
        imports: [remote.module],
        apiImports: [remote.module],
      }),
    ],
    staging: (_env, { remote }) => remote.staging,
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
