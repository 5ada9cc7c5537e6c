import { Module } from '@nestjs/common';
import { DocumentStore, EventBus } from '@strata/platform-contracts';
import { DocumentStoreProviderModule, type StandaloneBusService, startStandaloneBusService } from '@strata/platform-service-kit';
import { SentinelModule } from '@strata/dataquality-feature';
import { createLogger } from '@strata/platform-http';
import { BusModule, BusTransport, createEventBus } from '@strata/platform-bus';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { TelemetryHandle } from '@strata/platform-telemetry';
import { HttpWebhookTransport } from '@strata/dataquality-infra-webhooks';
import { onShutdownSignal, webhookDeliveryOptions } from '@strata/shared-util';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';

/** File of the standalone sentinel's embedded document store when `MONGODB_URI` is unset. */
export const SENTINEL_DUCKDB_FILE = 'strata-sentinel.duckdb';

/** A running standalone sentinel service: its bus-side context, `/health` app, bus and store. */
export type SentinelService = StandaloneBusService;

/**
 * Builds the standalone sentinel: the webhook side of the data-quality sentinel. It consumes
 * `dataquality.evt.anomaly.detected.v1` (NATS JetStream when `NATS_URL` is set; replicas share the work), queues one
 * signed delivery per matching subscription in the document store (MongoDB when `MONGODB_URI` is set, shared with the
 * gateway that manages `/webhooks`) and delivers them with retries. Scoring itself runs where the bars are: DuckDB
 * is single-process, so the platform's `sentinel` context scores (docs/sentinel.md).
 */
export async function startSentinel(opts: { config: Config; logger: Logger; bus?: EventBus }): Promise<SentinelService> {
  const { config, logger } = opts;
  const dataDir = resolve(config.STRATA_DATA_DIR);
  let store: DocumentStore;
  if (config.MONGODB_URI) {
    store = await MongoDocumentStore.connect({ uri: config.MONGODB_URI });
  } else {
    const path = join(dataDir, SENTINEL_DUCKDB_FILE);
    logger.warn({ duckdb: path }, 'MONGODB_URI is not set: webhook subscriptions and deliveries live in this process\'s own embedded file; in a split deployment set MONGODB_URI');
    store = await DuckDbDocumentStore.open(path);
  }
  let bus: EventBus | undefined;
  try {
    bus = opts.bus ?? (await createEventBus({ natsUrl: config.NATS_URL, dataDir, service: 'sentinel' }));
    @Module({
      imports: [
        BusModule.forRoot(bus, { closeOnShutdown: false }),
        DocumentStoreProviderModule.forRoot(store),
        SentinelModule.register({ http: false, webhooks: { fanOut: true, dispatch: true, transport: new HttpWebhookTransport(), options: webhookDeliveryOptions(config) } }),
      ],
    })
    class SentinelServiceModule {}
    await store.ready();
    return await startStandaloneBusService({ name: 'sentinel', module: SentinelServiceModule, strategy: new BusTransport(bus, { service: 'sentinel' }), bus, ownsBus: !opts.bus, store, logger });
  } catch (err) {
    if (bus && !opts.bus) await bus.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}

/** Starts the standalone sentinel with `/health` on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runSentinel(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'sentinel', level: config.LOG_LEVEL });
  const sentinel = await startSentinel({ config, logger });
  await sentinel.health.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info({ port: config.PORT, bus: sentinel.bus.health(), store: await sentinel.store.health(), telemetry: telemetry.describe }, 'sentinel service running (webhook delivery)');
  onShutdownSignal(logger, async () => {
    await sentinel.close();
    await telemetry.shutdown();
  });
}
