import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { EventBus } from '@strata/contracts';
import { createGatewayApp } from '@strata/feature-gateway';
import { FeaturesModule } from '@strata/feature-features';
import { IngestBarsUseCase, IngestionModule, InMemoryIngestionLog, type IngestionLog } from '@strata/feature-ingestion';
import { loadSampleDataIfEmpty, MarketDataModule, MarketDataService } from '@strata/feature-marketdata';
import { apiKeysFromConfig, createLogger, parseApiKeys, PinoNestLogger, type ApiKeyResolver } from '@strata/http';
import { BusModule, BusTransport, createEventBus, InProcessEventBus } from '@strata/infra-bus';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository, DuckDbFeatureStore, duckDbPathFor, openDuckDb } from '@strata/infra-duckdb';
import type { TelemetryHandle } from '@strata/infra-telemetry';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { onShutdownSignal } from './shutdown';

/** A running all-in-one platform. */
export interface Platform {
  /** The gateway HTTP app (initialised; listening only when started with `listen`). */
  gateway: NestFastifyApplication;
  /** The one bus every service shares. */
  bus: EventBus;
  /** Each service's Nest microservice context, by name. */
  services: Record<string, INestMicroservice>;
  ingestionLog: IngestionLog;
  /** Closes the gateway, then the services, then the bus. */
  close(): Promise<void>;
}

/** What {@link startPlatform} needs. */
export interface PlatformOptions {
  config: Config;
  logger: Logger;
  /** Use this bus (tests); otherwise JetStream when `NATS_URL` is set, else the in-process bus journaled under the data dir. */
  bus?: EventBus;
  /** Key resolver (tests); otherwise from `STRATA_API_KEYS` or the bootstrap admin key. */
  apiKeys?: ApiKeyResolver;
  /** Directory of the bundled sample loaded when the bars table is empty (`npm start`: `data/sample`); unset: none. */
  sampleDataDir?: string;
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
  const ingestionLog = new InMemoryIngestionLog();
  const nestLogger = new PinoNestLogger(logger.child({ component: 'nest' }));

  // Embedded market data and feature store: one DuckDB file under the data dir, shared by every context.
  const duckdb = await openDuckDb(duckDbPathFor(dataDir));
  const marketData = { bars: new DuckDbBarsRepository(duckdb), corporateActions: new DuckDbCorporateActionsRepository(duckdb) };
  const featureStore = new DuckDbFeatureStore(duckdb);

  const services: Record<string, INestMicroservice> = {};
  const startService = async (name: string, imports: NonNullable<Parameters<typeof Module>[0]>['imports']): Promise<void> => {
    const serviceBus = view(name);
    @Module({ imports: [BusModule.forRoot(serviceBus, { closeOnShutdown: serviceBus !== bus }), ...(imports ?? [])] })
    class ServiceModule {}
    const ctx = await NestFactory.createMicroservice(ServiceModule, { strategy: new BusTransport(serviceBus, { service: name }), logger: nestLogger });
    await ctx.listen();
    services[name] = ctx;
  };
  await startService('ingestion', [IngestionModule.register({ ingestionLog, bars: marketData.bars, allowedFileRoots: [join(dataDir, 'uploads'), resolve('data')] })]);
  await startService('features', [MarketDataModule.register({ ...marketData, http: false }), FeaturesModule.register({ store: featureStore, http: false })]);

  const apiKeys =
    opts.apiKeys ?? apiKeysFromConfig(parseApiKeys(config.STRATA_API_KEYS), dataDir, (msg, created) => (created ? process.stdout.write(`${msg}\n`) : logger.info(msg)));
  const gateway = await createGatewayApp({
    bus: view('gateway'),
    apiKeys,
    logger,
    ingestionLog,
    uploadDir: join(dataDir, 'uploads'),
    // One process: the CSV never leaves memory, so it always travels inline.
    inlineMaxBytes: Number.POSITIVE_INFINITY,
    modules: [MarketDataModule.register(marketData), FeaturesModule.register({ store: featureStore, refresh: false })],
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
    close: () =>
      (closed ??= (async () => {
        await gateway.close();
        for (const s of Object.values(services).reverse()) await s.close();
        if (!opts.bus) await bus.close();
        await duckdb.close();
      })()),
  };
}

/** `npm start`: the platform on `PORT` (default 3000). */
export async function runPlatform(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'platform', level: config.LOG_LEVEL });
  const platform = await startPlatform({ config, logger, sampleDataDir: resolve('data/sample') });
  await platform.gateway.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info(
    { port: config.PORT, bus: platform.bus.health(), services: Object.keys(platform.services), telemetry: telemetry.describe },
    `Strata platform listening on http://localhost:${config.PORT} (docs /docs, health /health, events /asyncapi.json)`,
  );
  onShutdownSignal(logger, async () => {
    await platform.close();
    await telemetry.shutdown();
  });
}
