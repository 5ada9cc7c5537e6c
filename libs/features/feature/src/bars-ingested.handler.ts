import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { BarsIngestedV1, CorporateActionsRecordedV1 } from '@strata/marketdata-contracts';
import { EVENT_BUS, type EventBus, type MessageContext, type PayloadOf } from '@strata/platform-contracts';
import { MARKET_DATA_READER, type MarketDataReader } from '@strata/marketdata-contracts';
import { DurableConsumers } from '@strata/platform-messaging';
import { FeatureRefreshService } from './feature-refresh.service';

/** Service name in the durable consumer names of the feature refresher. */
export const FEATURES_SERVICE = 'features';

/**
 * Keeps feature sets fresh from market-data events, through the {@link EventBus} port (feature libraries may not
 * import the bus adapters, so this subscribes like `@OnEvent` would: durable consumer `features__<subject>__v1`,
 * at-least-once, redelivery with backoff when a refresh throws, then the DLQ):
 * - `marketdata.evt.bars.ingested.v1` → recompute the series from `changedFrom` (or `from`) on;
 * - `marketdata.evt.corporate-actions.recorded.v1` → recompute every series of the symbol from scratch (a split
 *   rescales the whole adjusted history before its ex-date).
 * Idempotent: a redelivered event recomputes the same values.
 */
@Injectable()
export class BarsIngestedHandler extends DurableConsumers implements OnApplicationBootstrap {
  private readonly logger = new Logger('features');

  constructor(
    @Inject(EVENT_BUS) bus: EventBus,
    private readonly refresh: FeatureRefreshService,
    @Inject(MARKET_DATA_READER) private readonly marketData: MarketDataReader,
  ) {
    super(bus, FEATURES_SERVICE);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.refresh.registerAll();
    await this.consume(BarsIngestedV1, (data, ctx) => this.onBarsIngested(data, ctx), { prefetch: 16 });
    await this.consume(CorporateActionsRecordedV1, (data, ctx) => this.onCorporateActions(data, ctx));
  }

  /** Recomputes the tail of the ingested series. */
  async onBarsIngested(data: PayloadOf<typeof BarsIngestedV1>, ctx?: MessageContext<unknown>): Promise<void> {
    const changedFrom = Date.parse(data.changedFrom ?? data.from);
    await this.refresh.refreshSeries(data.symbol, data.timeframe, {
      changedFrom,
      reason: data.updated ? 'bars_corrected' : 'bars_ingested',
      correlationId: ctx?.envelope.correlationId,
      causationId: ctx?.envelope.id ?? null,
    });
  }

  /** Recomputes every stored series of the symbol in full. */
  async onCorporateActions(data: PayloadOf<typeof CorporateActionsRecordedV1>, ctx?: MessageContext<unknown>): Promise<void> {
    const series = await this.marketData.listSeries({ symbol: data.symbol, limit: 100 });
    for (const s of series) {
      await this.refresh.refreshSeries(s.symbol, s.timeframe, {
        full: true,
        reason: 'corporate_actions',
        correlationId: ctx?.envelope.correlationId,
        causationId: ctx?.envelope.id ?? null,
      });
    }
    this.logger.log({ msg: 'features recomputed after corporate actions', symbol: data.symbol, series: series.length });
  }
}
