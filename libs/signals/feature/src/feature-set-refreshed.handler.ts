import { Controller, Inject, Logger } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { EVENT_BUS, type EventBus, type PayloadOf } from '@strata/platform-contracts';
import { FeatureSetRefreshedV1 } from '@strata/features-contracts';
import { ScoreComputedV1 } from '@strata/signals-contracts';
import { BusContext, OnEvent } from '@strata/platform-messaging';
import { SignalScoresRepository } from './signal-scores.repository';
import { SignalScoringService } from './signal-scoring.service';
import { AliasUnsetError } from './signals.errors';

/** Service name in the durable consumer names of the signals service. */
export const SIGNALS_SERVICE = 'signals';

/**
 * Scores new bars with the champion: on `features.evt.set.refreshed.v1` for the champion's feature set (name and
 * version), the champion scores the refreshed bars `[from, to]` of the series, the scores are stored
 * ({@link SignalScoresRepository}) and `signals.evt.score.computed.v1` is published. Durable consumer
 * `signals__features_evt_set_refreshed__v1`; idempotent (a redelivery stores nothing new and republishes the same
 * envelope id, deduplicated by the bus). No champion, or a champion of another feature set: nothing to do. An
 * `@OnEvent` handler bound by the bus transport.
 */
@Controller()
export class FeatureSetRefreshedHandler {
  private readonly logger = new Logger('signals');

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    private readonly scoring: SignalScoringService,
    private readonly scores: SignalScoresRepository,
  ) {}

  /** Scores and stores the refreshed bars with the champion (see the class comment). Returns the rows scored. */
  @OnEvent(FeatureSetRefreshedV1, { prefetch: 8 })
  async onRefreshed(
    @Payload() data: PayloadOf<typeof FeatureSetRefreshedV1>,
    @Ctx() ctx?: BusContext,
  ): Promise<number> {
    let model;
    try {
      model = await this.scoring.resolve('champion');
    } catch (e) {
      if (e instanceof AliasUnsetError) return 0;
      throw e;
    }
    const fs = model.doc.featureSet;
    if (fs.name !== data.set || fs.version !== data.version) return 0;
    const from = Date.parse(data.from);
    const to = Date.parse(data.to);
    const res = await this.scoring.scoreSeries(model, { symbol: data.symbol, timeframe: data.timeframe, from, to });
    const n = res.tsArray.length;
    if (n === 0) return 0;
    const key = data.materialisationId ?? `${from}-${to}`;
    await this.scores.write({
      modelId: model.doc.id,
      symbol: data.symbol,
      timeframe: data.timeframe,
      ts: res.tsArray,
      score: res.raw,
      key,
    });
    const last = res.raw[n - 1];
    await this.bus.publish(
      ScoreComputedV1,
      {
        modelId: model.doc.id,
        alias: 'champion',
        symbol: data.symbol,
        timeframe: data.timeframe,
        featureSet: { name: fs.name, version: fs.version },
        from: new Date(res.tsArray[0]).toISOString(),
        to: new Date(res.tsArray[n - 1]).toISOString(),
        rows: n,
        latest: Number.isFinite(last) ? last : null,
      },
      {
        id: `score.${model.doc.id}.${data.symbol}.${data.timeframe}.${key}`,
        correlationId: ctx?.getEnvelope().correlationId,
        causationId: ctx?.getEnvelope().id ?? null,
      },
    );
    this.logger.debug?.({ msg: 'scored refreshed bars', modelId: model.doc.id, symbol: data.symbol, rows: n });
    return n;
  }
}
