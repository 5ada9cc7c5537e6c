import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentStore, EventBus } from '@strata/platform-contracts';
import { AuthModule, createApiKeyAuth, type ApiKeyService } from '@strata/platform-auth';
import { createGatewayApp, DocumentStoreProviderModule } from '@strata/platform-service-kit';
import { BacktestsModule } from '@strata/backtests-feature';
import { FeaturesModule } from '@strata/features-feature';
import { SentinelModule, type SentinelScoringOptions, type WebhookDispatcherOptions } from '@strata/dataquality-feature';
import { DocumentIngestionLog, IngestBarsUseCase, IngestionModule, type IngestionLog } from '@strata/marketdata-feature';
import { loadSampleDataIfEmpty, MarketDataModule, MarketDataService } from '@strata/marketdata-feature';
import { StrategiesModule } from '@strata/backtests-feature';
import { registrySignalModels, SignalScoringService, SignalsModule } from '@strata/signals-feature';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import { apiKeyEntriesFromConfig, createLogger, parseApiKeys, PinoNestLogger, type ApiKeyResolver } from '@strata/platform-http';
import { BusModule, BusTransport, createEventBus, InProcessEventBus } from '@strata/platform-bus';
import { DuckDbBacktestSeriesStore } from '@strata/backtests-infra-duckdb';
import { DuckDbBarQualityFlagsStore } from '@strata/dataquality-infra-duckdb';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository, DuckDbParquetBarsReader, DuckDbSyntheticGroundTruthStore } from '@strata/marketdata-infra-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { duckDbPathFor, openDuckDb, type DuckDb } from '@strata/platform-duckdb';
import { AlphaVantageClient, AlphaVantageConfigSchema, AlphaVantageIngestSource } from '@strata/marketdata-infra-alphavantage';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { HttpWebhookTransport } from '@strata/dataquality-infra-webhooks';
import { TelemetryHandle } from '@strata/platform-telemetry';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { onShutdownSignal, webhookDeliveryOptions } from '@strata/shared-util';

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
  /** The process's DuckDB database, `<STRATA_DATA_DIR>/strata.duckdb`: bars, features, backtest series (and documents when embedded). */
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
}

/**
 * Starts every Strata service in one process: one bus shared by all; the gateway HTTP app; and each service as its
 * own Nest microservice context on {@link BusTransport} (with its own view of the bus), so each handler is
 * subscribed exactly once.
 */
export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  const { config, logger } = opts;
  const dataDir = resolve(config.STRATA_DATA_DIR);
  const bus: EventBus = opts.bus ?? (config.NATS_URL ? await createEventBus({ natsUrl: config.NATS_URL, service: 'platform' }) : new InProcessEventBus({ service: 'platform', dataDir }));
  const view = (service: string): EventBus => (bus instanceof InProcessEventBus ? bus.forService(service) : bus);
  const nestLogger = new PinoNestLogger(logger.child({ component: 'nest' }));

  // One DuckDB file under the data dir for everything embedded (bars, features, backtest series and, without
  // MONGODB_URI, the documents): openDuckDb caches by path, so the document store below gets this same instance
  // (one connection, one write queue) rather than a second handle on the file.
  const duckDbPath = duckDbPathFor(dataDir);
  const duckdb = await openDuckDb(duckDbPath);
  let store: DocumentStore;
  try {
    store = config.MONGODB_URI ? await MongoDocumentStore.connect({ uri: config.MONGODB_URI }) : await DuckDbDocumentStore.open(duckDbPath);
  } catch (err) {
    await duckdb.close();
    throw err;
  }
  if (store instanceof DuckDbDocumentStore && store.db !== duckdb) throw new Error(`the document store opened a second handle on ${duckDbPath}`);
  const ingestionLog = new DocumentIngestionLog(store);
  const configKeys = opts.apiKeys
    ? []
    : apiKeyEntriesFromConfig(parseApiKeys(config.STRATA_API_KEYS), dataDir, (msg, created) => (created ? process.stdout.write(`${msg}\n`) : logger.info(msg)));
  const auth = createApiKeyAuth(store, configKeys);
  const testKeys = opts.apiKeys;
  const apiKeys: ApiKeyResolver = testKeys ? { resolve: async (key) => (await auth.resolver.resolve(key)) ?? testKeys.resolve(key) } : auth.resolver;
  try {
    // The collections' tables / indexes exist before anything is served (a failure here stops the start).
    await store.ready();
  } catch (err) {
    await store.close();
    await duckdb.close();
    throw err;
  }
  logger.info({ store: config.MONGODB_URI ? 'mongodb' : 'duckdb (embedded)', duckdb: duckDbPath }, 'document store open');

  const marketData = { bars: new DuckDbBarsRepository(duckdb), corporateActions: new DuckDbCorporateActionsRepository(duckdb) };
  const featureStore = new DuckDbFeatureStore(duckdb);
  // Bars the data-quality sentinel flagged, next to the bars and features (training can exclude them).
  const qualityFlags = new DuckDbBarQualityFlagsStore(duckdb);
  // Strategies and backtests: documents in the one store above (MongoDB or embedded); the large backtest series
  // (equity curves, trades, orders) always in DuckDB. Every context gets the same instance under DOCUMENT_STORE.
  const documentStore = () => DocumentStoreProviderModule.forRoot(store);
  const backtestSeries = new DuckDbBacktestSeriesStore(duckdb);
  // Signals: ONNX artifacts under <data dir>/artifacts; one onnxruntime session cache shared by every context.
  const signalArtifacts = new LocalDirectoryArtifactStore(join(dataDir, 'artifacts'));
  const signalRuntime = new OnnxModelRuntime();

  const services: Record<string, INestMicroservice> = {};
  const startService = async (name: string, imports: NonNullable<Parameters<typeof Module>[0]>['imports']): Promise<void> => {
    const serviceBus = view(name);
    @Module({ imports: [BusModule.forRoot(serviceBus, { closeOnShutdown: serviceBus !== bus }), ...(imports ?? [])] })
    class ServiceModule {}
    const ctx = await NestFactory.createMicroservice(ServiceModule, { strategy: new BusTransport(serviceBus, { service: name }), logger: nestLogger });
    await ctx.listen();
    services[name] = ctx;
  };
  // Ingest sources: Parquet through DuckDB's read_parquet, synthetic ground truth in DuckDB, Alpha Vantage when a key
  // is configured; the splits and dividends it reports go through the market-data service of the `features` context
  // (started below, before any request is served).
  await startService('ingestion', [
    IngestionModule.register({
      ingestionLog,
      bars: marketData.bars,
      allowedFileRoots: [join(dataDir, 'uploads'), resolve('data')],
      fileReader: new DuckDbParquetBarsReader(duckdb),
      groundTruth: new DuckDbSyntheticGroundTruthStore(duckdb),
      alphaVantage: alphaVantageSource(config),
      corporateActions: { recordCorporateActions: (actions) => services.features.get(MarketDataService).recordCorporateActions(actions) },
    }),
  ]);
  await startService('features', [MarketDataModule.register({ ...marketData, http: false }), FeaturesModule.register({ store: featureStore, http: false, qualityFlags })]);
  // The sentinel scores where the bars are (this process's DuckDB): scoring, webhook fan-out and delivery.
  await startService('sentinel', [
    documentStore(),
    MarketDataModule.register({ ...marketData, http: false }),
    SentinelModule.register({
      http: false,
      scoring: opts.sentinel?.scoring ?? true,
      flags: qualityFlags,
      webhooks: { fanOut: true, dispatch: true, transport: new HttpWebhookTransport(), options: opts.sentinel?.webhooks },
    }),
  ]);
  await startService('backtests', [
    documentStore(),
    MarketDataModule.register({ ...marketData, http: false }),
    BacktestsModule.register({
      seriesStore: backtestSeries,
      http: false,
      worker: true,
      signalModels: registrySignalModels(() => services.signals.get(SignalScoringService)),
      qualityFlags,
    }),
  ]);
  await startService('signals', [
    documentStore(),
    MarketDataModule.register({ ...marketData, http: false }),
    SignalsModule.register({ featureStore, artifacts: signalArtifacts, runtime: signalRuntime, http: false, worker: true, scoreOnRefresh: true, qualityFlags }),
  ]);

  const gateway = await createGatewayApp({
    bus: view('gateway'),
    apiKeys,
    logger,
    ingestionLog,
    // Provided as DOCUMENT_STORE to every gateway module and reported as `store` by /health.
    documentStore: store,
    uploadDir: join(dataDir, 'uploads'),
    // One process: the CSV never leaves memory, so it always travels inline.
    inlineMaxBytes: Number.POSITIVE_INFINITY,
    modules: [
      MarketDataModule.register(marketData),
      FeaturesModule.register({ store: featureStore, refresh: false, qualityFlags }),
      AuthModule.register({ service: auth.service }),
      StrategiesModule.register(),
      BacktestsModule.register({ seriesStore: backtestSeries }),
      SignalsModule.register({ featureStore, artifacts: signalArtifacts, runtime: signalRuntime }),
      SentinelModule.register({ flags: qualityFlags, webhooks: { options: opts.sentinel?.webhooks } }),
    ],
  });

  if (opts.sampleDataDir) {
    const ingest = services.ingestion.get(IngestBarsUseCase);
    const md = services.features.get(MarketDataService);
    const report = await loadSampleDataIfEmpty({
      dir: opts.sampleDataDir,
      countBars: () => marketData.bars.count(),
      ingest: (cmd) => ingest.execute(cmd, { requestedBy: 'sample-loader' }),
      recordCorporateActions: (actions) => md.recordCorporateActions(actions),
    });
    if (report.loaded) logger.info({ files: report.results, corporateActions: report.corporateActions }, `loaded the bundled sample from ${opts.sampleDataDir}`);
  }

  let closed: Promise<void> | undefined;
  return {
    gateway,
    bus,
    services,
    ingestionLog,
    store,
    duckdb,
    apiKeys: auth.service,
    close: () =>
      (closed ??= (async () => {
        await gateway.close();
        for (const s of Object.values(services).reverse()) await s.close();
        await signalRuntime.close();
        if (!opts.bus) await bus.close();
        await store.close();
        await duckdb.close();
      })()),
  };
}

/** The Alpha Vantage ingest source when `ALPHAVANTAGE_API_KEY` is set (rate limits and retries at their defaults), else undefined. */
export function alphaVantageSource(config: Pick<Config, 'ALPHAVANTAGE_API_KEY' | 'ALPHAVANTAGE_BASE_URL'>): AlphaVantageIngestSource | undefined {
  if (!config.ALPHAVANTAGE_API_KEY) return undefined;
  const av = AlphaVantageConfigSchema.parse({ ALPHAVANTAGE_API_KEY: config.ALPHAVANTAGE_API_KEY, ALPHAVANTAGE_BASE_URL: config.ALPHAVANTAGE_BASE_URL });
  return new AlphaVantageIngestSource(AlphaVantageClient.fromConfig(av));
}

/** `npm start`: the platform on `PORT` (default 3000). */
export async function runPlatform(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'platform', level: config.LOG_LEVEL });
  const platform = await startPlatform({ config, logger, sampleDataDir: resolve('data/sample'), sentinel: { webhooks: webhookDeliveryOptions(config) } });
  await platform.gateway.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info(
    { port: config.PORT, bus: platform.bus.health(), store: await platform.store.health(), services: Object.keys(platform.services), telemetry: telemetry.describe },
    `Strata platform listening on http://localhost:${config.PORT} (docs /docs, health /health, events /asyncapi.json)`,
  );
  onShutdownSignal(logger, async () => {
    await platform.close();
    await telemetry.shutdown();
  });
}
