import { AnomalyDetectedV1, type WebhookTransport } from '@strata/dataquality-contracts';
import { BarsCorrectedV1, BarsIngestedV1 } from '@strata/marketdata-contracts';
import { durableConsumerName } from '@strata/platform-contracts';
import type { ServiceDefinition } from '@strata/platform-messaging';
import { webhookDeliveryConfigShape } from '@strata/shared-util';
import { z } from 'zod';
import { SENTINEL_SERVICE } from './sentinel-events.handler';
import { SentinelModule, type SentinelModuleOptions } from './sentinel.module';
import type { SentinelScoringOptions } from './sentinel-scoring.service';
import type { WebhookDispatcherOptions } from './webhook-dispatcher';

/** Adapters of the sentinel's ports and its settings, supplied by the app. */
export interface SentinelServiceAdapters {
  /** The bar-quality flags table (marked by scoring, kept in step by ack / resolve). */
  flags?: SentinelModuleOptions['flags'];
  /** How webhooks are sent (`HttpWebhookTransport`); needed by the `webhooks` part. */
  transport?: WebhookTransport;
  /** Scoring settings (batch size, detector config); default the sentinel's defaults. */
  scoring?: SentinelScoringOptions;
  /** Webhook delivery settings (attempts, delays, timeout, concurrency), for delivery and for redeliveries through the API. */
  webhooks?: WebhookDispatcherOptions;
}

/** Environment variables of the sentinel (beyond the common ones). */
export const SentinelConfigSchema = z.object(webhookDeliveryConfigShape);

/**
 * The data-quality sentinel: `/data-quality/events…`, `/dashboard/data-quality` and `/webhooks…` on the HTTP side;
 * two worker parts: `scoring` (scores every committed batch; runs where the bars are, it needs the market-data reader
 * added by the app) and `webhooks` (queues one delivery per matching subscription and delivers them, signed, with
 * retries).
 */
export const sentinelService: ServiceDefinition<SentinelServiceAdapters, typeof SentinelConfigSchema> = {
  name: SENTINEL_SERVICE,
  description: 'Scores committed bars for anomalies, keeps DataQualityEvents, delivers signed webhooks',
  config: SentinelConfigSchema,
  owns: {
    duckdbTables: ['bar_quality_flags'],
    collections: ['dataquality_events', 'webhook_subscriptions', 'webhook_deliveries'],
    streams: ['dataquality'],
    consumers: [
      durableConsumerName(SENTINEL_SERVICE, BarsIngestedV1),
      durableConsumerName(SENTINEL_SERVICE, BarsCorrectedV1),
      durableConsumerName(SENTINEL_SERVICE, AnomalyDetectedV1),
    ],
  },
  api: ({ adapters }) => [SentinelModule.register({ flags: adapters.flags, webhooks: { options: adapters.webhooks } })],
  workers: {
    parts: ['scoring', 'webhooks'],
    modules: ({ adapters }, parts) => [
      SentinelModule.register({
        http: false,
        scoring: parts.has('scoring') ? (adapters.scoring ?? true) : false,
        flags: adapters.flags,
        webhooks: {
          fanOut: parts.has('webhooks'),
          dispatch: parts.has('webhooks'),
          transport: adapters.transport,
          options: adapters.webhooks,
        },
      }),
    ],
  },
};
