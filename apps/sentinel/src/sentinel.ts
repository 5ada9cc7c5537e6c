import type { INestMicroservice } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sentinelService } from '@strata/dataquality-feature';
import { HttpWebhookTransport } from '@strata/dataquality-infra-webhooks';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { webhookDeliveryOptions } from '@strata/shared-util';
import type { Logger } from 'pino';
import type { Config } from './config';

/** File of the standalone sentinel's embedded document store when `MONGODB_URI` is unset. */
export const SENTINEL_DUCKDB_FILE = 'strata-sentinel.duckdb';

/** A running standalone sentinel service: its bus context (`service`), `/health` app, bus and store. */
export type SentinelService = ServiceApp & { service: INestMicroservice; health: NestFastifyApplication };

/**
 * Builds the standalone sentinel: the `webhooks` part of the data-quality sentinel. It consumes
 * `dataquality.evt.anomaly.detected.v1` (NATS JetStream when `NATS_URL` is set; replicas share the work), queues one
 * signed delivery per matching subscription in the document store (MongoDB when `MONGODB_URI` is set, shared with the
 * gateway that manages `/webhooks`) and delivers them with retries. Scoring itself runs where the bars are: DuckDB
 * is single-process, so the platform's `sentinel` context scores (docs/sentinel.md).
 */
export async function startSentinel(opts: {
  config: Config;
  logger: Logger;
  bus?: EventBus;
}): Promise<SentinelService> {
  const app = await startServiceApp({
    name: 'sentinel',
    config: opts.config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: {
      file: SENTINEL_DUCKDB_FILE,
      warning:
        "MONGODB_URI is not set: webhook subscriptions and deliveries live in this process's own embedded file; in a split deployment set MONGODB_URI",
    },
    http: { name: 'sentinel', kind: 'health' },
    services: () => [
      serviceRun(sentinelService, {
        workers: ['webhooks'],
        adapters: { transport: new HttpWebhookTransport(), webhooks: webhookDeliveryOptions(opts.config) },
      }),
    ],
  });
  return { ...app, service: app.services.sentinel, health: app.http };
}

/** Starts the standalone sentinel with `/health` on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runSentinel(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startSentinel({ config: c, logger }), {
    name: 'sentinel',
    message: () => 'sentinel service running (webhook delivery)',
  });
}
