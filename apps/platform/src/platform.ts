import type { INestMicroservice } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type DocumentStore, type EventBus } from '@strata/platform-contracts';
import type { ApiKeyService } from '@strata/platform-auth';
import { serviceRun, startServiceApp, runServiceApp } from '@strata/platform-service-kit';
import { buildAsyncApiDocument, streamDomains } from '@strata/catalog-contracts';
import { ArtifactBacktestSeriesStore, backtestsService } from '@strata/backtests-feature';
import { FeaturesModule, featuresService, type FeatureSetImplementation } from '@strata/features-feature';
import {
  sentinelService,
  type SentinelScoringOptions,
  type WebhookDispatcherOptions,
} from '@strata/dataquality-feature';
import {
  DocumentIngestionLog,
  IngestBarsUseCase,
  ingestionService,
  loadSampleDataIfEmpty,
  MarketDataModule,
  MarketDataService,
} from '@strata/marketdata-feature';
import type { IngestionLog } from '@strata/marketdata-contracts';
import { registrySignalModels, SignalScoringService, signalsService } from '@strata/signals-feature';
import { regimeService, type RegimeSettings } from '@strata/regime-feature';
import { openArtifactStores } from '@strata/platform-artifacts';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import type { ApiKeyResolver } from '@strata/platform-http';
import { DuckDbBarQualityFlagsStore } from '@strata/dataquality-infra-duckdb';
import {
  DuckDbBarsRepository,
  DuckDbCorporateActionsRepository,
  DuckDbParquetBarsReader,
  DuckDbSyntheticGroundTruthStore,
} from '@strata/marketdata-infra-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { DUCKDB_FILE_NAME, duckDbPathFor, openDuckDb, type DuckDb } from '@strata/platform-duckdb';
import {
  AlphaVantageClient,
  AlphaVantageConfigSchema,
  AlphaVantageIngestSource,
} from '@strata/marketdata-infra-alphavantage';
import { HttpWebhookTransport } from '@strata/dataquality-infra-webhooks';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { webhookDeliveryOptions } from '@strata/shared-util';

/** A running all-in-one platform. */
export interface Platform {
  /** The gateway HTTP app (initialised; listening only when started with `listen`). */
  gateway: NestFastifyApplication;
  /** The one bus every service shares. */
  bus: EventBus;
  /** Each service's Nest microservice context, by name. */
  services: Record<string, INestMicroservice>;
  /** The ingestion log (documents: ingestion batches with their content hashes, counts and rejects). */
  ingestionLog: IngestionLog;
  /**
   * The one document store of the process: MongoDB when `MONGODB_URI` is set, else embedded in {@link duckdb}
   * (schema `docstore`). Ingestion log, API keys, strategies and backtests all use it.
   */
  store: DocumentStore;
  /** The process's DuckDB database, `<STRATA_DATA_DIR>/strata.duckdb`: bars, features, quality flags (and documents when embedded); backtest series are blobs under `<STRATA_DATA_DIR>/artifacts`. */
  duckdb: DuckDb;
  /** Issued API keys (`/admin/api-keys`). */
  apiKeys: ApiKeyService;
  /** Closes the gateway, then the services, then the bus, then the document store and DuckDB. */
  close(): Promise<void>;
}

/** What {@link startPlatform} needs. */
export interface PlatformOptions {
  config: Config;
  logger: Logger;
  /** Use this bus (tests); otherwise JetStream when `NATS_URL` is set, else the in-process bus journaled under the data dir. */
  bus?: EventBus;
  /**
   * Configured keys as a resolver (tests), consulted after the issued keys of the store; otherwise the
   * `STRATA_API_KEYS` entries or, when there are none, the bootstrap admin key under the data dir.
   */
  apiKeys?: ApiKeyResolver;
  /** Directory of the bundled sample loaded when the bars table is empty (`npm start`: `data/sample`); unset: none. */
  sampleDataDir?: string;
  /** Data-quality sentinel settings: scoring (batch size, detector config) and webhook delivery (attempts, delays). */
  sentinel?: { scoring?: SentinelScoringOptions; webhooks?: WebhookDispatcherOptions };
  /** Regime service settings overriding the environment's (tests: a short refit schedule). */
  regime?: Partial<RegimeSettings>;
  /** Feature sets to materialise and train on (tests: e.g. a deliberately leaky one); default `core` v1 and v2. */
  featureSets?: readonly FeatureSetImplementation[];
}

/**
 * Starts every Strata service in one process on one bus: each service's worker parts in a Nest microservice context
 * of its own (each handler bound exactly once), every service's REST routes in the gateway HTTP app. Everything
 * embedded lives in one DuckDB file, `<STRATA_DATA_DIR>/strata.duckdb` (the document store too, without MONGODB_URI).
 */
export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  const { config, logger } = opts;
  let duckdb: DuckDb | undefined;
  let ingestionLog: IngestionLog | undefined;
  let bars: DuckDbBarsRepository | undefined;
  const app = await startServiceApp({
    name: 'platform',
    busDomains: streamDomains(),
    config,
    logger,
    bus: opts.bus,
    embeddedStore: { file: DUCKDB_FILE_NAME },
    http: { name: 'gateway', kind: 'api', gateway: { asyncApi: () => buildAsyncApiDocument() }, apiKeys: opts.apiKeys },
    // One DuckDB file for everything embedded: openDuckDb caches by path, so this is the document store's handle
    // (one connection, one write queue), not a second one on the file.
    open: async ({ store, dataDir }) => {
      const db = await openDuckDb(duckDbPathFor(dataDir));
      if (store instanceof DuckDbDocumentStore && store.db !== db) {
        await db.close();
        throw new Error(`the document store opened a second handle on ${duckDbPathFor(dataDir)}`);
      }
      const runtime = new OnnxModelRuntime();
      // One process: artifacts, snapshots and staged uploads are directories under the data dir, whatever the bus.
      const stores = await openArtifactStores({ dataDir });
      return {
        db,
        runtime,
        stores,
        close: async () => {
          await runtime.close();
          await db.close();
        },
      };
    },
    services: ({ store, services }, { db, runtime, stores }) => {
      duckdb = db;
      ingestionLog = new DocumentIngestionLog(store);
      bars = new DuckDbBarsRepository(db);
      const marketData = { bars, corporateActions: new DuckDbCorporateActionsRepository(db) };
      const marketDataReader = () => MarketDataModule.register({ ...marketData, http: false });
      const featureStore = new DuckDbFeatureStore(db);
      // Bars the data-quality sentinel flagged, next to the bars and features (training can exclude them).
      const qualityFlags = new DuckDbBarQualityFlagsStore(db);
      // Signals: ONNX artifacts under <data dir>/artifacts; one onnxruntime session cache shared by every context.
      const artifacts = stores.artifacts;
      return [
        // Ingest sources: Parquet through DuckDB's read_parquet, synthetic ground truth in DuckDB, Alpha Vantage when a
        // key is configured; reported splits and dividends go through the `features` context's market-data service.
        serviceRun(ingestionService, {
          api: true,
          workers: 'all',
          adapters: {
            ingestionLog,
            marketData,
            // Uploads above STRATA_INLINE_MAX_BYTES (and Parquet) go through <data dir>/staging, as in the split deployment.
            staging: stores.staging,
            ingest: {
              bars: marketData.bars,
              fileReader: new DuckDbParquetBarsReader(db),
              groundTruth: new DuckDbSyntheticGroundTruthStore(db),
              alphaVantage: alphaVantageSource(config),
              corporateActions: {
                recordCorporateActions: (actions) =>
                  services.features.get(MarketDataService).recordCorporateActions(actions),
              },
            },
          },
        }),
        serviceRun(featuresService, {
          api: true,
          workers: 'all',
          adapters: { store: featureStore, qualityFlags, sets: opts.featureSets },
          imports: [marketDataReader()],
        }),
        // The sentinel scores where the bars are (this process's DuckDB): scoring, webhook fan-out and delivery.
        serviceRun(sentinelService, {
          api: true,
          workers: 'all',
          adapters: {
            flags: qualityFlags,
            transport: new HttpWebhookTransport(),
            scoring: opts.sentinel?.scoring,
            webhooks: opts.sentinel?.webhooks,
          },
          imports: [marketDataReader()],
        }),
        // The regime cache, kept fresh from bar events (bars read through the in-process market-data reader).
        serviceRun(regimeService, {
          api: true,
          workers: 'all',
          adapters: { settings: opts.regime },
          imports: [marketDataReader()],
        }),
        serviceRun(backtestsService, {
          api: true,
          workers: 'all',
          adapters: {
            seriesStore: new ArtifactBacktestSeriesStore(stores.artifacts, store),
            qualityFlags,
            signalModels: registrySignalModels(() => services.signals.get(SignalScoringService)),
          },
          imports: [marketDataReader()],
        }),
        serviceRun(signalsService, {
          api: true,
          workers: 'all',
          adapters: {
            features: FeaturesModule.register({
              store: featureStore,
              http: false,
              refresh: false,
              qualityFlags,
              sets: opts.featureSets,
            }),
            artifacts,
            runtime,
          },
          imports: [marketDataReader()],
        }),
      ];
    },
  });

  try {
    if (opts.sampleDataDir) {
      const ingest = app.services.ingestion.get(IngestBarsUseCase);
      const md = app.services.features.get(MarketDataService);
      const report = await loadSampleDataIfEmpty({
        dir: opts.sampleDataDir,
        countBars: () => bars!.count(),
        ingest: (cmd) => ingest.execute(cmd, { requestedBy: 'sample-loader' }),
        recordCorporateActions: (actions) => md.recordCorporateActions(actions),
      });
      if (report.loaded)
        logger.info(
          { files: report.results, corporateActions: report.corporateActions },
          `loaded the bundled sample from ${opts.sampleDataDir}`,
        );
    }
  } catch (err) {
    await app.close();
    throw err;
  }
  return {
    gateway: app.http,
    bus: app.bus,
    services: app.services,
    ingestionLog: ingestionLog!,
    store: app.store,
    duckdb: duckdb!,
    apiKeys: app.apiKeys!,
    close: app.close,
  };
}

/** The Alpha Vantage ingest source when `ALPHAVANTAGE_API_KEY` is set (rate limits and retries at their defaults), else undefined. */
export function alphaVantageSource(
  config: Pick<Config, 'ALPHAVANTAGE_API_KEY' | 'ALPHAVANTAGE_BASE_URL'>,
): AlphaVantageIngestSource | undefined {
  if (!config.ALPHAVANTAGE_API_KEY) return undefined;
  const av = AlphaVantageConfigSchema.parse({
    ALPHAVANTAGE_API_KEY: config.ALPHAVANTAGE_API_KEY,
    ALPHAVANTAGE_BASE_URL: config.ALPHAVANTAGE_BASE_URL,
  });
  return new AlphaVantageIngestSource(AlphaVantageClient.fromConfig(av));
}

/** `npm start`: the platform on `PORT` (default 3000). */
export async function runPlatform(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(
    config,
    telemetry,
    async (c, logger) => {
      const p = await startPlatform({
        config: c,
        logger,
        sampleDataDir: resolve('data/sample'),
        sentinel: { webhooks: webhookDeliveryOptions(c) },
      });
      return { http: p.gateway, bus: p.bus, store: p.store, services: p.services, apiKeys: p.apiKeys, close: p.close };
    },
    {
      name: 'platform',
      message: (c) =>
        `Strata platform listening on http://localhost:${c.PORT} (docs /docs, health /health, events /asyncapi.json)`,
    },
  );
}
