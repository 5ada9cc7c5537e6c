import { CORE_V1, FeaturesModule } from '@strata/features-feature';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { MarketDataModule } from '@strata/marketdata-feature';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { type EventBus } from '@strata/platform-contracts';
import { openDuckDb } from '@strata/platform-duckdb';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { signalsService } from '@strata/signals-feature';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';

/** This service's own DuckDB file (registered feature-set definitions; documents too when `MONGODB_URI` is unset). */
export const SIGNALS_DUCKDB_FILE = 'strata-signals.duckdb';

/** A running standalone signals service. */
export type SignalsService = ServiceApp & { runtime: OnnxModelRuntime };

/**
 * Builds the standalone signals service: the `/signals` REST API (model registry and aliases in the document store,
 * MongoDB when `MONGODB_URI` is set; raw-row scoring with cached onnxruntime sessions, scaled by replicas; training
 * requests queued on `signals.cmd.train.v1`). Training and series scoring read the feature store, which lives in the
 * all-in-one platform's DuckDB (single-process), so they run in the platform's `signals` context; this service's own
 * DuckDB only holds the registered feature-set definitions (to resolve and check them) and, without MongoDB, documents.
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
    http: { name: 'signals', kind: 'api' },
    // The same file as the embedded document store (one cached handle): feature-set definitions, bars for labels.
    open: async ({ dataDir }) => {
      const duckdb = await openDuckDb(join(dataDir, SIGNALS_DUCKDB_FILE));
      const ort = (runtime = new OnnxModelRuntime({
        intraOpNumThreads: config.SIGNALS_ORT_THREADS,
        batchThreads: config.SIGNALS_BATCH_THREADS,
      }));
      const close = async (): Promise<void> => {
        await ort.close();
        await duckdb.close();
      };
      try {
        const featureStore = new DuckDbFeatureStore(duckdb);
        for (const s of [CORE_V1]) await featureStore.register(s.registration);
        return { duckdb, featureStore, runtime: ort, close };
      } catch (err) {
        await close();
        throw err;
      }
    },
    services: ({ dataDir }, { duckdb, featureStore, runtime: ort }) => [
      serviceRun(signalsService, {
        api: true,
        adapters: {
          features: FeaturesModule.register({ store: featureStore, http: false, refresh: false }),
          artifacts: new LocalDirectoryArtifactStore(config.SIGNALS_ARTIFACTS_DIR ?? join(dataDir, 'artifacts')),
          runtime: ort,
        },
        apiImports: [
          MarketDataModule.register({
            bars: new DuckDbBarsRepository(duckdb),
            corporateActions: new DuckDbCorporateActionsRepository(duckdb),
            http: false,
          }),
        ],
      }),
    ],
  });
  return { ...app, runtime: runtime! };
}

/** Starts the standalone signals service on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runSignals(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startSignals({ config: c, logger }), {
    name: 'signals',
    message: () => 'signals service running (REST /signals)',
  });
}
