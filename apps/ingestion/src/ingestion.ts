import { Module } from '@nestjs/common';
import { DocumentStore, EventBus } from '@strata/platform-contracts';
import { type StandaloneBusService, startStandaloneBusService } from '@strata/platform-service-kit';
import { DocumentIngestionLog, IngestionModule } from '@strata/marketdata-feature';
import { createLogger } from '@strata/platform-http';
import { BusModule, BusTransport, createEventBus } from '@strata/platform-bus';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { AlphaVantageClient, AlphaVantageConfigSchema, AlphaVantageIngestSource } from '@strata/marketdata-infra-alphavantage';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { TelemetryHandle } from '@strata/platform-telemetry';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { onShutdownSignal } from '@strata/shared-util';

/**
 * File of the standalone ingestion service's embedded document store when `MONGODB_URI` is unset: its own file, so
 * it never contends for the lock of the platform's `strata.duckdb` or of another service sharing the data directory.
 */
export const INGESTION_DUCKDB_FILE = 'strata-ingestion.duckdb';

/** A running standalone ingestion service: its bus-side context, `/health` app, bus and store. */
export type IngestionService = StandaloneBusService;

/**
 * Builds the standalone ingestion service: serves `marketdata.cmd.ingest.v1` over the bus (NATS JetStream when
 * `NATS_URL` is set; replicas share the work), records every ingest in the document store (MongoDB when
 * `MONGODB_URI` is set; replicas then share one duplicate check) and serves `GET /health` for probes.
 */
export async function startIngestion(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<IngestionService> {
  const { config, logger } = opts;
  const dataDir = resolve(config.STRATA_DATA_DIR);
  let store: DocumentStore;
  if (config.MONGODB_URI) {
    store = await MongoDocumentStore.connect({ uri: config.MONGODB_URI });
  } else {
    const path = join(dataDir, INGESTION_DUCKDB_FILE);
    logger.warn(
      { duckdb: path },
      'MONGODB_URI is not set: the ingestion log lives in this process\'s own embedded file (duplicates are recognised per replica, and the gateway cannot show these ingestions); in a split deployment set MONGODB_URI',
    );
    store = await DuckDbDocumentStore.open(path);
  }
  let bus: EventBus | undefined;
  try {
    bus = opts.bus ?? (await createEventBus({ natsUrl: config.NATS_URL, dataDir, service: 'ingestion' }));
    const ingestionLog = new DocumentIngestionLog(store);
    await store.ready();

    @Module({
      imports: [
        BusModule.forRoot(bus, { closeOnShutdown: false }),
        IngestionModule.register({
          ingestionLog,
          allowedFileRoots: [join(dataDir, 'uploads'), resolve('data')],
          // Alpha Vantage when ALPHAVANTAGE_API_KEY is set; otherwise the source answers "not configured" (503).
          alphaVantage: config.ALPHAVANTAGE_API_KEY
            ? new AlphaVantageIngestSource(
                AlphaVantageClient.fromConfig(
                  AlphaVantageConfigSchema.parse({ ALPHAVANTAGE_API_KEY: config.ALPHAVANTAGE_API_KEY, ALPHAVANTAGE_BASE_URL: config.ALPHAVANTAGE_BASE_URL }),
                ),
              )
            : undefined,
        }),
      ],
    })
    class IngestionServiceModule {}

    return await startStandaloneBusService({ name: 'ingestion', module: IngestionServiceModule, strategy: new BusTransport(bus, { service: 'ingestion' }), bus, ownsBus: !opts.bus, store, logger });
  } catch (err) {
    if (bus && !opts.bus) await bus.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Starts the standalone ingestion service with `/health` on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runIngestion(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'ingestion', level: config.LOG_LEVEL });
  const ingestion = await startIngestion({ config, logger });
  await ingestion.health.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info({ port: config.PORT, bus: ingestion.bus.health(), store: await ingestion.store.health(), telemetry: telemetry.describe }, 'ingestion service running');
  onShutdownSignal(logger, async () => {
    await ingestion.close();
    await telemetry.shutdown();
  });
}
