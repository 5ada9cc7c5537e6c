import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import {
  BAR_QUALITY_FLAGS,
  type BarQualityFlagsStore,
  WEBHOOK_TRANSPORT,
  type WebhookTransport,
} from '@strata/dataquality-contracts';
import { DataQualityEventsRepository } from './data-quality-events.repository';
import { DataQualityController, DataQualityDashboardController } from './data-quality.controller';
import { DataQualityService } from './data-quality.service';
import { SentinelEventsHandler, WebhookFanOutHandler } from './sentinel-events.handler';
import {
  SENTINEL_SCORING_OPTIONS,
  SentinelScoringService,
  type SentinelScoringOptions,
} from './sentinel-scoring.service';
import { WEBHOOK_DISPATCHER_OPTIONS, WebhookDispatcher, type WebhookDispatcherOptions } from './webhook-dispatcher';
import { WebhooksController } from './webhooks.controller';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/**
 * What {@link SentinelModule} needs. `DOCUMENT_STORE` and `EVENT_BUS` must be global; scoring also needs
 * `MarketDataModule` (the bars, read raw) in the same context.
 */
export interface SentinelModuleOptions {
  /** Serve `/data-quality/events…`, `/dashboard/data-quality` and `/webhooks…` (default true). */
  http?: boolean;
  /**
   * Score bars here: subscribe `marketdata.evt.bars.ingested.v1` / `bars.corrected.v1` (default false). Enable it in
   * exactly the process whose DuckDB holds the bars (the platform's `sentinel` context).
   */
  scoring?: boolean | SentinelScoringOptions;
  /** The bar-quality flags table (marked by scoring, status kept in step by ack / resolve). */
  flags?: BarQualityFlagsStore;
  /**
   * Webhooks: `fanOut` subscribes `dataquality.evt.anomaly.detected.v1` and queues deliveries (default false);
   * `dispatch` runs the delivery loop with `transport` (default false). Settings (attempts, delays, timeout,
   * concurrency) apply to both and to redeliveries through the API.
   */
  webhooks?: { fanOut?: boolean; dispatch?: boolean; transport?: WebhookTransport; options?: WebhookDispatcherOptions };
}

/**
 * The data-quality sentinel: scoring on ingest ({@link SentinelScoringService}), DataQualityEvents and their
 * lifecycle ({@link DataQualityService}), the DataQualitySummary panel, and signed webhooks
 * ({@link WebhooksService}, {@link WebhookDispatcher}). In the all-in-one process the REST side goes into the gateway
 * and scoring, fan-out and delivery into the `sentinel` service context; the standalone `apps/sentinel` runs fan-out
 * and delivery only (bars live in the platform's DuckDB).
 */
@Module({})
export class SentinelModule {
  static register(opts: SentinelModuleOptions = {}): DynamicModule {
    const wh = opts.webhooks ?? {};
    const providers: Provider[] = [
      DataQualityEventsRepository,
      WebhooksRepository,
      DataQualityService,
      WebhooksService,
      { provide: WEBHOOK_DISPATCHER_OPTIONS, useValue: { ...(wh.options ?? {}), run: wh.dispatch === true } },
    ];
    if (opts.flags) providers.push({ provide: BAR_QUALITY_FLAGS, useValue: opts.flags });
    const controllers: Type<unknown>[] =
      opts.http === false ? [] : [DataQualityController, DataQualityDashboardController, WebhooksController];
    if (opts.scoring) {
      providers.push(
        { provide: SENTINEL_SCORING_OPTIONS, useValue: opts.scoring === true ? {} : opts.scoring },
        SentinelScoringService,
      );
      controllers.push(SentinelEventsHandler);
    }
    if (wh.dispatch) {
      if (!wh.transport)
        throw new Error(
          'SentinelModule: webhooks.dispatch needs webhooks.transport (HttpWebhookTransport of @strata/dataquality-infra-webhooks)',
        );
      providers.push({ provide: WEBHOOK_TRANSPORT, useValue: wh.transport }, WebhookDispatcher);
    }
    if (wh.fanOut) controllers.push(WebhookFanOutHandler);
    return {
      module: SentinelModule,
      controllers,
      providers,
      exports: [
        DataQualityEventsRepository,
        WebhooksRepository,
        DataQualityService,
        WebhooksService,
        ...(opts.scoring ? [SentinelScoringService] : []),
        ...(wh.dispatch ? [WebhookDispatcher] : []),
      ],
    };
  }
}
