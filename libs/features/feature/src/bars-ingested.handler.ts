import { Controller, Inject, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import {
  BarsIngestedV1,
  CorporateActionsRecordedV1,
  MARKET_DATA_READER,
  type MarketDataReader,
} from '@strata/marketdata-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { BusContext, OnEvent } from '@strata/platform-messaging';
import { FeatureRefreshService } from './feature-refresh.service';

/** Service name in the durable consumer names of the feature refresher. */
export const FEATURES_SERVICE = 'features';

/**
 * Keeps feature sets fresh from market-data events: `@OnEvent` handlers bound by the bus transport (durable consumer
 * `features__<subject>__v1`, at-least-once, redelivery with backoff when a refresh throws, then the DLQ). The feature
 * sets are registered at bootstrap, before the transport subscribes:
 * - `marketdata.evt.bars.ingested.v1` → recompute the series from `changedFrom` (or `from`) on;
 * - `marketdata.evt.corporate-actions.recorded.v1` → recompute every series of the symbol from scratch (a split
 *   rescales the whole adjusted history before its ex-date).
 * Idempotent: a redelivered event recomputes the same values.
 */
@Controller()
export class BarsIngestedHandler implements OnApplicationBootstrap {
  private readonly logger = new Logger('features');

  constructor(
    private readonly refresh: FeatureRefreshService,
    @Inject(MARKET_DATA_READER) private readonly marketData: MarketDataReader,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh.registerAll();
  }

  /** Recomputes the tail of the ingested series. */
  @OnEvent(BarsIngestedV1, { prefetch: 16 })
  async onBarsIngested(@Payload() data: PayloadOf<typeof BarsIngestedV1>, @Ctx() ctx?: BusContext): Promise<void> {
    const changedFrom = Date.parse(data.changedFrom ?? data.from);
    await this.refresh.refreshSeries(data.symbol, data.timeframe, {
      changedFrom,
      reason: data.updated ? 'bars_corrected' : 'bars_ingested',
      correlationId: ctx?.getEnvelope().correlationId,
      causationId: ctx?.getEnvelope().id ?? null,
    });
  }

  /** Recomputes every stored series of the symbol in full. */
  @OnEvent(CorporateActionsRecordedV1)
  async onCorporateActions(
    @Payload() data: PayloadOf<typeof CorporateActionsRecordedV1>,
    @Ctx() ctx?: BusContext,
  ): Promise<void> {
    const series = await this.marketData.listSeries({ symbol: data.symbol, limit: 100 });
    for (const s of series) {
      await this.refresh.refreshSeries(s.symbol, s.timeframe, {
        full: true,
        reason: 'corporate_actions',
        correlationId: ctx?.getEnvelope().correlationId,
        causationId: ctx?.getEnvelope().id ?? null,
      });
    }
    this.logger.log({ msg: 'features recomputed after corporate actions', symbol: data.symbol, series: series.length });
  }
}
