import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { OnCommand, OnEvent } from '@strata/platform-messaging';
import { ReadRegimeHistoryCommandV1, RefitRegimeCommandV1, type RegimeHistoryPoints } from '@strata/regime-contracts';
import { RegimeService, type RegimeAdvance } from './regime.service';

/** Service name in the regime service's durable consumer names (`regime__marketdata_evt_bars_ingested__v1`, …). */
export const REGIME_SERVICE = 'regime';

/**
 * Keeps the regime cache fresh: `marketdata.evt.bars.ingested.v1` steps the filter over the new bars (or re-filters a
 * bounded window after a correction), `regime.cmd.refit.v1` fits a queued model version. Both are durable consumers
 * (`regime__…__v1`) shared by the replicas (queue semantics); at-least-once and idempotent per (symbol, timeframe,
 * bar time) and per model version.
 */
@Controller()
export class RegimeEventsHandler {
  constructor(private readonly regime: RegimeService) {}

  /** One forward-filter step per new bar of the committed batch (nothing when the commit changed nothing). */
  @OnEvent(BarsIngestedV1, { prefetch: 8, ackWaitMs: 300_000 })
  async onBarsIngested(@Payload() d: PayloadOf<typeof BarsIngestedV1>): Promise<RegimeAdvance | null> {
    if (d.inserted === 0 && d.updated === 0) return null;
    return this.regime.onBars(d.symbol, d.timeframe, Date.parse(d.changedFrom ?? d.from), Date.parse(d.to));
  }

  /** Fits the queued model version (schedule, falling predictive log-likelihood or operator). */
  @OnCommand(RefitRegimeCommandV1, { ackWaitMs: 600_000 })
  async onRefit(@Payload() c: PayloadOf<typeof RefitRegimeCommandV1>): Promise<void> {
    await this.regime.refit(c.symbol, c.timeframe, c.modelVersion, c.trigger, c.requestedAt);
  }

  /** The filtered (as-of) labels of a series, for the backtests' `regime` source. */
  @OnCommand(ReadRegimeHistoryCommandV1)
  async readHistory(@Payload() q: PayloadOf<typeof ReadRegimeHistoryCommandV1>): Promise<RegimeHistoryPoints> {
    return { points: await this.regime.readHistory(q) };
  }
}
