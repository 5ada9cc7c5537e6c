import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AnomalyDetectedV1 } from '@strata/dataquality-contracts';
import { BarsCorrectedV1, BarsIngestedV1 } from '@strata/marketdata-contracts';
import { EVENT_BUS, type EventBus, type MessageContext, type PayloadOf } from '@strata/platform-contracts';
import { DurableConsumers } from '@strata/platform-messaging';
import { SentinelScoringService, type ScoringOutcome } from './sentinel-scoring.service';
import { WEBHOOK_DISPATCHER_OPTIONS, resolveDispatcherOptions, type WebhookDispatcherOptions } from './webhook-dispatcher';
import { WebhooksService } from './webhooks.service';

/** Service name in the sentinel's durable consumer names (`sentinel__marketdata_evt_bars_ingested__v1`, …). */
export const SENTINEL_SERVICE = 'sentinel';

/**
 * Scores every committed batch: a durable consumer of `marketdata.evt.bars.ingested.v1` (score the bars from
 * `changedFrom` to `to`) and of `marketdata.evt.bars.corrected.v1` (one `correction` event per corrected bar).
 * Subscribes through the {@link EventBus} port like `@OnEvent` would (at-least-once; a throw means redelivery with
 * backoff, then the DLQ). A long backfill holds its message up to 10 minutes before the bus redelivers it.
 */
@Injectable()
export class SentinelEventsHandler extends DurableConsumers implements OnApplicationBootstrap {
  private readonly logger = new Logger('sentinel');

  constructor(
    @Inject(EVENT_BUS) bus: EventBus,
    private readonly scoring: SentinelScoringService,
  ) {
    super(bus, SENTINEL_SERVICE);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consume(BarsIngestedV1, (d, ctx) => this.onBarsIngested(d, ctx).then(() => undefined), { prefetch: 4, ackWaitMs: 600_000 });
    await this.consume(BarsCorrectedV1, (d, ctx) => this.onBarsCorrected(d, ctx).then(() => undefined));
  }

  /** Scores the new or corrected bars of a committed batch (nothing when the commit changed nothing). */
  async onBarsIngested(d: PayloadOf<typeof BarsIngestedV1>, ctx?: MessageContext<unknown>): Promise<ScoringOutcome | null> {
    if (d.inserted === 0 && d.updated === 0) return null;
    const from = Date.parse(d.changedFrom ?? d.from);
    const out = await this.scoring.scoreRange(d.symbol, d.timeframe, from, Date.parse(d.to), {
      ingestionId: d.ingestionId,
      correlationId: ctx?.envelope.correlationId,
      causationId: ctx?.envelope.id ?? null,
    });
    if (out.anomalies) this.logger.log({ msg: 'bars scored', symbol: d.symbol, timeframe: d.timeframe, ingestionId: d.ingestionId, ...out });
    return out;
  }

  /** One `correction` DataQualityEvent per bar the ingestion corrected. */
  async onBarsCorrected(d: PayloadOf<typeof BarsCorrectedV1>, ctx?: MessageContext<unknown>): Promise<ScoringOutcome> {
    return this.scoring.recordCorrections(d.symbol, d.timeframe, Date.parse(d.from), Date.parse(d.to), d.corrected, {
      ingestionId: d.ingestionId,
      correlationId: ctx?.envelope.correlationId,
      causationId: ctx?.envelope.id ?? null,
    });
  }
}

/**
 * Queues webhook deliveries for every detected anomaly: a durable consumer of `dataquality.evt.anomaly.detected.v1`
 * that persists one delivery per matching subscription ({@link WebhooksService.fanOut}); the dispatcher sends them.
 * Queuing is a few document writes, so scoring never waits for a receiver.
 */
@Injectable()
export class WebhookFanOutHandler extends DurableConsumers implements OnApplicationBootstrap {
  private readonly maxAttempts: number;

  constructor(
    @Inject(EVENT_BUS) bus: EventBus,
    private readonly webhooks: WebhooksService,
    @Inject(WEBHOOK_DISPATCHER_OPTIONS) options: WebhookDispatcherOptions,
  ) {
    super(bus, SENTINEL_SERVICE);
    this.maxAttempts = resolveDispatcherOptions(options).maxAttempts;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.consume(
      AnomalyDetectedV1,
      async (_d, ctx) => {
        await this.webhooks.fanOut(ctx.envelope, this.maxAttempts);
      },
      { prefetch: 32 },
    );
  }
}
