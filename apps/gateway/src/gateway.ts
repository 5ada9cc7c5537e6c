import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { openArtifactStores } from '@strata/platform-artifacts';
import { buildAsyncApiDocument } from '@strata/catalog-contracts';
import { sentinelService } from '@strata/dataquality-feature';
import { DocumentIngestionLog, ingestionService } from '@strata/marketdata-feature';
import type { ApiKeyService } from '@strata/platform-auth';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * File of the standalone gateway's embedded document store when `MONGODB_URI` is unset: its own file, so it never
 * contends for the lock of the platform's `strata.duckdb` or of another service sharing the data directory.
 */
export const GATEWAY_DUCKDB_FILE = 'strata-gateway.duckdb';

/** A running standalone gateway. */
export type Gateway = ServiceApp & {
  /** The HTTP app (initialised; listening only after `app.listen`). */
  app: NestFastifyApplication;
  /** Issued API keys (`/admin/api-keys`). */
  apiKeys: ApiKeyService;
};

/**
 * Builds the standalone gateway: REST (ingest, ingestion lookup, data quality and webhooks, API keys, AsyncAPI),
 * commands and events over NATS when `NATS_URL` is set, documents in MongoDB when `MONGODB_URI` is set. In a split
 * deployment every service must share MongoDB: without it the gateway's embedded file holds only its own keys and
 * sees no ingestion recorded by the ingestion service (`GET /market-data/ingestions/{id}` answers 404).
 */
export async function startGateway(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<Gateway> {
  const app = await startServiceApp({
    name: 'gateway',
    config: opts.config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: {
      file: GATEWAY_DUCKDB_FILE,
      warning:
        "MONGODB_URI is not set: API keys and the ingestion log live in this gateway's own embedded file; in a split deployment set MONGODB_URI so the services share them",
    },
    http: { name: 'gateway', kind: 'api', gateway: { asyncApi: () => buildAsyncApiDocument() } },
    // Data-quality events, the dashboard and webhook subscriptions are documents: served here from the shared store.
    // Uploads above STRATA_INLINE_MAX_BYTES are staged in the strata-staging bucket (JetStream) for the ingest worker.
    open: async ({ bus, dataDir }) => ({ stores: await openArtifactStores({ bus, dataDir }) }),
    services: ({ store }, { stores }) => [
      serviceRun(ingestionService, {
        api: true,
        adapters: { ingestionLog: new DocumentIngestionLog(store), staging: stores.staging },
      }),
      serviceRun(sentinelService, { api: true, adapters: {} }),
    ],
  });
  return { ...app, app: app.http, apiKeys: app.apiKeys! };
}

/** Starts the standalone gateway on `PORT` and closes it on SIGINT/SIGTERM. */
export async function runGateway(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startGateway({ config: c, logger }), {
    name: 'gateway',
    message: () => 'gateway listening',
  });
}
