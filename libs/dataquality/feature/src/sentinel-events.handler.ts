import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { AnomalyDetectedV1 } from '@strata/dataquality-contracts';
import { BarsCorrectedV1, BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { BusContext, OnEvent } from '@strata/platform-messaging';
import { SentinelScoringService, type ScoringOutcome } from './sentinel-scoring.service';
import {
  WEBHOOK_DISPATCHER_OPTIONS,
  resolveDispatcherOptions,
  type WebhookDispatcherOptions,
} from './webhook-dispatcher';
import { WebhooksService } from './webhooks.service';

/** Service name in the sentinel's durable consumer names (`sentinel__marketdata_evt_bars_ingested__v1`, …). */
export const SENTINEL_SERVICE = 'sentinel';

/**
 * Scores every committed batch: `@OnEvent` handlers of `marketdata.evt.bars.ingested.v1` (score the bars from
 * `changedFrom` to `to`) and of `marketdata.evt.bars.corrected.v1` (one `correction` event per corrected bar), bound
 * by the bus transport (durable consumers `sentinel__…__v1`; at-least-once; a throw means redelivery with backoff,
 * then the DLQ). A long backfill holds its message up to 10 minutes before the bus redelivers it.
 */
@Controller()
export class SentinelEventsHandler {
  private readonly logger = new Logger('sentinel');

  constructor(private readonly scoring: SentinelScoringService) {}

  /** Scores the new or corrected bars of a committed batch (nothing when the commit changed nothing). */
  @OnEvent(BarsIngestedV1, { prefetch: 4, ackWaitMs: 600_000 })
  async onBarsIngested(
    @Payload() d: PayloadOf<typeof BarsIngestedV1>,
    @Ctx() ctx?: BusContext,
  ): Promise<ScoringOutcome | null> {
    if (d.inserted === 0 && d.updated === 0) return null;
    const from = Date.parse(d.changedFrom ?? d.from);
    const out = await this.scoring.scoreRange(d.symbol, d.timeframe, from, Date.parse(d.to), {
      ingestionId: d.ingestionId,
      correlationId: ctx?.getEnvelope().correlationId,
      causationId: ctx?.getEnvelope().id ?? null,
    });
    if (out.anomalies)
      this.logger.log({
        msg: 'bars scored',
        symbol: d.symbol,
        timeframe: d.timeframe,
        ingestionId: d.ingestionId,
        ...out,
      });
    return out;
  }

  /** One `correction` DataQualityEvent per bar the ingestion corrected. */
  @OnEvent(BarsCorrectedV1)
  async onBarsCorrected(
    @Payload() d: PayloadOf<typeof BarsCorrectedV1>,
    @Ctx() ctx?: BusContext,
  ): Promise<ScoringOutcome> {
    return this.scoring.recordCorrections(d.symbol, d.timeframe, Date.parse(d.from), Date.parse(d.to), d.corrected, {
      ingestionId: d.ingestionId,
      correlationId: ctx?.getEnvelope().correlationId,
      causationId: ctx?.getEnvelope().id ?? null,
    });
  }
}

/**
 * Queues webhook deliveries for every detected anomaly: the `@OnEvent` handler of
 * `dataquality.evt.anomaly.detected.v1` persists one delivery per matching subscription ({@link WebhooksService.fanOut});
 * the dispatcher sends them. Queuing is a few document writes, so scoring never waits for a receiver.
 */
@Controller()
export class WebhookFanOutHandler {
  private readonly maxAttempts: number;

  constructor(
    private readonly webhooks: WebhooksService,
    @Inject(WEBHOOK_DISPATCHER_OPTIONS) options: WebhookDispatcherOptions,
  ) {
    this.maxAttempts = resolveDispatcherOptions(options).maxAttempts;
  }

  /** Queues one delivery per matching subscription (idempotent by event id and subscription). */
  @OnEvent(AnomalyDetectedV1, { prefetch: 32 })
  async onAnomalyDetected(@Payload() data: PayloadOf<typeof AnomalyDetectedV1>, @Ctx() ctx: BusContext): Promise<void> {
    const { id, occurredAt } = ctx.getEnvelope();
    await this.webhooks.fanOut({ id, occurredAt, data }, this.maxAttempts);
  }
}
