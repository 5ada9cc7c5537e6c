import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentStore, EventBus } from '@strata/platform-contracts';
import { createApiKeyAuth } from '@strata/platform-auth';
import { CORE_V1, type FeatureSetImplementation } from '@strata/features-feature';
import { busHealthIndicator, DocumentStoreProviderModule, EventBusProviderModule, HealthModule, setupApiDocs, storeHealthIndicator } from '@strata/platform-service-kit';
import { MarketDataModule } from '@strata/marketdata-feature';
import { SignalsModule } from '@strata/signals-feature';
import { apiKeyEntriesFromConfig, configureStrataHttp, createLogger, createStrataFastifyAdapter, parseApiKeys, PinoNestLogger, StrataHttpModule } from '@strata/platform-http';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { createEventBus } from '@strata/platform-bus';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { openDuckDb, type DuckDb } from '@strata/platform-duckdb';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import { TelemetryHandle } from '@strata/platform-telemetry';
import { onShutdownSignal } from '@strata/shared-util';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';

/** This service's own DuckDB file (registered feature-set definitions; documents too when `MONGODB_URI` is unset). */
export const SIGNALS_DUCKDB_FILE = 'strata-signals.duckdb';

/** A running standalone signals service. */
export interface SignalsService {
  /** The HTTP app: `/signals`, `/health`, `/docs` (initialised; listening only after `http.listen`). */
  http: NestFastifyApplication;
  bus: EventBus;
  store: DocumentStore;
  runtime: OnnxModelRuntime;
  /** Closes the HTTP app, the onnxruntime sessions, the bus (unless given), the store and DuckDB. */
  close(): Promise<void>;
}

/**
 * Builds the standalone signals service: the `/signals` REST API (model registry and aliases in the document store,
 * MongoDB when `MONGODB_URI` is set; raw-row scoring with cached onnxruntime sessions, scaled by replicas; training
 * requests queued on `signals.cmd.train.v1`). Training and series scoring read the feature store, which lives in the
 * all-in-one platform's DuckDB (single-process), so they run in the platform's `signals` context; this service's own
 * DuckDB only holds the registered feature-set definitions (to resolve and check them) and, without MongoDB, documents.
 */
export async function startSignals(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<SignalsService> {
  const { config, logger } = opts;
  const dataDir = resolve(config.STRATA_DATA_DIR);
  const duckdb: DuckDb = await openDuckDb(join(dataDir, SIGNALS_DUCKDB_FILE));
  let store: DocumentStore | undefined;
  let bus: EventBus | undefined;
  const runtime = new OnnxModelRuntime({ intraOpNumThreads: config.SIGNALS_ORT_THREADS, batchThreads: config.SIGNALS_BATCH_THREADS });
  try {
    store = config.MONGODB_URI ? await MongoDocumentStore.connect({ uri: config.MONGODB_URI }) : await DuckDbDocumentStore.open(join(dataDir, SIGNALS_DUCKDB_FILE));
    bus = opts.bus ?? (await createEventBus({ natsUrl: config.NATS_URL, dataDir, service: 'signals' }));
    await store.ready();
    const featureStore = new DuckDbFeatureStore(duckdb);
    const sets: readonly FeatureSetImplementation[] = [CORE_V1];
    for (const s of sets) await featureStore.register(s.registration);
    const auth = createApiKeyAuth(store, apiKeyEntriesFromConfig(parseApiKeys(config.STRATA_API_KEYS), dataDir, (msg) => logger.info(msg)));
    const artifacts = new LocalDirectoryArtifactStore(config.SIGNALS_ARTIFACTS_DIR ?? join(dataDir, 'artifacts'));
    const theBus = bus;
    const theStore = store;

    @Module({
      imports: [
        EventBusProviderModule.forRoot(theBus),
        DocumentStoreProviderModule.forRoot(theStore),
        StrataHttpModule.forRoot({ apiKeys: auth.resolver }),
        HealthModule.register({ service: 'signals', indicators: [busHealthIndicator(theBus), storeHealthIndicator(theStore)] }),
        MarketDataModule.register({ bars: new DuckDbBarsRepository(duckdb), corporateActions: new DuckDbCorporateActionsRepository(duckdb), http: false }),
        SignalsModule.register({ featureStore, artifacts, runtime }),
      ],
    })
    class SignalsAppModule {}

    const http = await NestFactory.create<NestFastifyApplication>(SignalsAppModule, createStrataFastifyAdapter({ logger }), { logger: new PinoNestLogger(logger.child({ component: 'nest' })) });
    configureStrataHttp(http);
    setupApiDocs(http);
    await http.init();
    const ownBus = opts.bus ? undefined : bus;
    let closed: Promise<void> | undefined;
    return {
      http,
      bus,
      store,
      runtime,
      close: () =>
        (closed ??= (async () => {
          await http.close();
          await runtime.close();
          await ownBus?.close();
          await theStore.close();
          await duckdb.close();
        })()),
    };
  } catch (err) {
    await runtime.close();
    if (bus && !opts.bus) await bus.close().catch(() => undefined);
    await store?.close().catch(() => undefined);
    await duckdb.close().catch(() => undefined);
    throw err;
  }
}

/** Starts the standalone signals service on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runSignals(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'signals', level: config.LOG_LEVEL });
  const signals = await startSignals({ config, logger });
  await signals.http.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info({ port: config.PORT, bus: signals.bus.health(), store: await signals.store.health(), telemetry: telemetry.describe }, 'signals service running (REST /signals)');
  onShutdownSignal(logger, async () => {
    await signals.close();
    await telemetry.shutdown();
  });
}
