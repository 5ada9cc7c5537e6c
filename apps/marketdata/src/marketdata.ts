import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentIngestionLog, ingestionService } from '@strata/marketdata-feature';
import {
  AlphaVantageClient,
  AlphaVantageConfigSchema,
  AlphaVantageIngestSource,
} from '@strata/marketdata-infra-alphavantage';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * File of the standalone ingestion service's embedded document store when `MONGODB_URI` is unset: its own file, so
 * it never contends for the lock of the platform's `strata.duckdb` or of another service sharing the data directory.
 */
export const INGESTION_DUCKDB_FILE = 'strata-ingestion.duckdb';

/** A running standalone ingestion service: its bus context, `/health` app, bus and store. */
export type IngestionService = ServiceApp & { health: NestFastifyApplication };

/**
 * Builds the standalone ingestion service: serves `marketdata.cmd.ingest.v1` over the bus (NATS JetStream when
 * `NATS_URL` is set; replicas share the work), records every ingest in the document store (MongoDB when
 * `MONGODB_URI` is set; replicas then share one duplicate check) and serves `GET /health` for probes.
 */
export async function startIngestion(opts: {
  config: Config;
  logger: Logger;
  bus?: EventBus;
}): Promise<IngestionService> {
  const { config } = opts;
  const app = await startServiceApp({
    name: 'ingestion',
    config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: {
      file: INGESTION_DUCKDB_FILE,
      warning:
        "MONGODB_URI is not set: the ingestion log lives in this process's own embedded file (duplicates are recognised per replica, and the gateway cannot show these ingestions); in a split deployment set MONGODB_URI",
    },
    http: { name: 'ingestion', kind: 'health' },
    services: ({ store }) => [
      serviceRun(ingestionService, {
        workers: 'all',
        adapters: {
          ingestionLog: new DocumentIngestionLog(store),
          // Alpha Vantage when ALPHAVANTAGE_API_KEY is set; otherwise the source answers "not configured" (503).
          ingest: {
            alphaVantage: config.ALPHAVANTAGE_API_KEY
              ? new AlphaVantageIngestSource(
                  AlphaVantageClient.fromConfig(
                    AlphaVantageConfigSchema.parse({
                      ALPHAVANTAGE_API_KEY: config.ALPHAVANTAGE_API_KEY,
                      ALPHAVANTAGE_BASE_URL: config.ALPHAVANTAGE_BASE_URL,
                    }),
                  ),
                )
              : undefined,
          },
        },
      }),
    ],
  });
  return { ...app, health: app.http };
}

/** Starts the standalone ingestion service with `/health` on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runIngestion(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startIngestion({ config: c, logger }), {
    name: 'ingestion',
    message: () => 'ingestion service running',
  });
}
