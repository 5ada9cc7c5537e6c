import { streamDomains } from '@strata/catalog-contracts';
import { Module, type DynamicModule } from '@nestjs/common';
import { sentinelService } from '@strata/dataquality-feature';
import { HttpWebhookTransport } from '@strata/dataquality-infra-webhooks';
import { BARS_REPOSITORY, type BarsRepository } from '@strata/marketdata-contracts';
import { MarketDataReaderModule } from '@strata/marketdata-feature';
import { openRemoteMarketData } from '@strata/marketdata-infra-nats';
import { type EventBus } from '@strata/platform-contracts';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { webhookDeliveryOptions } from '@strata/shared-util';
import type { Logger } from 'pino';
import type { Config } from './config';

/** File of the standalone sentinel's embedded document store when `MONGODB_URI` is unset. */
export const SENTINEL_DUCKDB_FILE = 'strata-sentinel.duckdb';

/** A running sentinel service. */
export type SentinelService = ServiceApp;

/** `BARS_REPOSITORY` (global) for the scoring part: raw bars and correction audits read over the bus. */
@Module({})
class BusBarsModule {
  static register(bars: BarsRepository): DynamicModule {
    return {
      module: BusBarsModule,
      global: true,
      providers: [{ provide: BARS_REPOSITORY, useValue: bars }],
      exports: [BARS_REPOSITORY],
    };
  }
}

/**
 * Builds the sentinel service: scores every committed batch (`marketdata.evt.bars.ingested.v1`; raw bars read from the
 * marketdata service over NATS), keeps DataQualityEvents in the document store, sends bar-quality flags to the
 * marketdata service as commands (it never writes the DuckDB file), fans out and delivers signed webhooks, and serves
 * `/data-quality`, `/dashboard/data-quality` and `/webhooks` through the gateway. Replicas share the work. Needs
 * NATS_URL.
 */
export async function startSentinel(opts: {
  config: Config;
  logger: Logger;
  bus?: EventBus;
}): Promise<SentinelService> {
  const webhooks = webhookDeliveryOptions(opts.config);
  return startServiceApp({
    name: 'sentinel',
    busDomains: streamDomains(),
    config: opts.config,
    logger: opts.logger,
    bus: opts.bus,
    embeddedStore: {
      file: SENTINEL_DUCKDB_FILE,
      warning:
        "MONGODB_URI is not set: data-quality events and webhook subscriptions live in this process's own embedded file; in a split deployment set MONGODB_URI",
    },
    // REST through the gateway only (HTTP over the bus); the port answers /health.
    http: { name: 'sentinel', kind: 'service' },
    open: async ({ bus, dataDir }) => ({ remote: await openRemoteMarketData({ service: 'sentinel', bus, dataDir }) }),
    services: (_env, { remote }) => [
      serviceRun(sentinelService, {
        api: true,
        workers: 'all',
        adapters: { flags: remote.qualityFlags, transport: new HttpWebhookTransport(), webhooks },
        imports: [MarketDataReaderModule.register(remote.reader), BusBarsModule.register(remote.bars)],
      }),
    ],
    staging: (_env, { remote }) => remote.stores.staging,
  });
}

/** Starts the sentinel on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runSentinel(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startSentinel({ config: c, logger }), {
    name: 'sentinel',
    message: () => 'sentinel service running (scoring, data-quality events, webhooks)',
  });
}
