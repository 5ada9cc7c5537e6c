import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentStore, EventBus } from '@strata/platform-contracts';
import { AuthModule, createApiKeyAuth, type ApiKeyService } from '@strata/platform-auth';
import { createGatewayApp } from '@strata/platform-service-kit';
import { SentinelModule } from '@strata/dataquality-feature';
import { DocumentIngestionLog } from '@strata/marketdata-feature';
import { apiKeyEntriesFromConfig, createLogger, parseApiKeys } from '@strata/platform-http';
import { createEventBus } from '@strata/platform-bus';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { TelemetryHandle } from '@strata/platform-telemetry';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';
import { onShutdownSignal } from '@strata/shared-util';

/**
 * File of the standalone gateway's embedded document store when `MONGODB_URI` is unset: its own file, so it never
 * contends for the lock of the platform's `strata.duckdb` or of another service sharing the data directory.
 */
export const GATEWAY_DUCKDB_FILE = 'strata-gateway.duckdb';

/** A running standalone gateway. */
export interface Gateway {
  /** The HTTP app (initialised; listening only after `app.listen`). */
  app: NestFastifyApplication;
  bus: EventBus;
  /** MongoDB when `MONGODB_URI` is set, else `<STRATA_DATA_DIR>/strata-gateway.duckdb`. */
  store: DocumentStore;
  /** Issued API keys (`/admin/api-keys`). */
  apiKeys: ApiKeyService;
  /** Closes the HTTP app, then the bus (unless given), then the store. */
  close(): Promise<void>;
}

/**
 * Builds the standalone gateway: REST, commands and events over NATS when `NATS_URL` is set, documents (ingestion
 * log, API keys) in MongoDB when `MONGODB_URI` is set. In a split deployment every service must share MongoDB:
 * without it the gateway's embedded file holds only its own keys and sees no ingestion recorded by the ingestion
 * service (`GET /market-data/ingestions/{id}` answers 404).
 */
export async function startGateway(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<Gateway> {
  const { config, logger } = opts;
  const dataDir = resolve(config.STRATA_DATA_DIR);
  let store: DocumentStore;
  if (config.MONGODB_URI) {
    store = await MongoDocumentStore.connect({ uri: config.MONGODB_URI });
  } else {
    const path = join(dataDir, GATEWAY_DUCKDB_FILE);
    logger.warn(
      { duckdb: path },
      'MONGODB_URI is not set: API keys and the ingestion log live in this gateway\'s own embedded file; in a split deployment set MONGODB_URI so the services share them',
    );
    store = await DuckDbDocumentStore.open(path);
  }
  let bus: EventBus | undefined;
  try {
    bus = opts.bus ?? (await createEventBus({ natsUrl: config.NATS_URL, dataDir, service: 'gateway' }));
    const configKeys = apiKeyEntriesFromConfig(parseApiKeys(config.STRATA_API_KEYS), dataDir, (msg, created) => (created ? process.stdout.write(`${msg}\n`) : logger.info(msg)));
    const auth = createApiKeyAuth(store, configKeys);
    const ingestionLog = new DocumentIngestionLog(store);
    await store.ready();
    const app = await createGatewayApp({
      bus,
      apiKeys: auth.resolver,
      logger,
      ingestionLog,
      documentStore: store,
      uploadDir: join(dataDir, 'uploads'),
      // Data-quality events, the dashboard and webhook subscriptions are documents: served here from the shared store.
      modules: [AuthModule.register({ service: auth.service }), SentinelModule.register({})],
    });
    const ownBus = opts.bus ? undefined : bus;
    let closed: Promise<void> | undefined;
    return {
      app,
      bus,
      store,
      apiKeys: auth.service,
      close: () =>
        (closed ??= (async () => {
          await app.close();
          await ownBus?.close();
          await store.close();
        })()),
    };
  } catch (err) {
    if (bus && !opts.bus) await bus.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Starts the standalone gateway on `PORT` and closes it on SIGINT/SIGTERM. */
export async function runGateway(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const gateway = await startGateway({ config, logger });
  await gateway.app.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info({ port: config.PORT, bus: gateway.bus.health(), store: await gateway.store.health(), telemetry: telemetry.describe }, 'gateway listening');
  onShutdownSignal(logger, async () => {
    await gateway.close();
    await telemetry.shutdown();
  });
}
