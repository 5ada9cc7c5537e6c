import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  BARS_REPOSITORY,
  CORPORATE_ACTIONS_REPOSITORY,
  CorporateActionsRecordedV1,
  type Adjustment,
  type AdjustmentStep,
  type AppliedAdjustment,
  type BarColumns,
  type BarCorrection,
  type BarsRepository,
  type BarsRequest,
  type CorporateAction,
  type CorporateActionsRepository,
  type MarketDataReader,
  type RecordCorporateActionsResult,
  type SymbolSeries,
  type Timeframe,
} from '@strata/marketdata-contracts';
import { EVENT_BUS, type EventBus } from '@strata/platform-contracts';
import { adjustBars, adjustmentSteps, exDateInstant } from './corporate-actions.adjustment';

/**
 * Market-data queries and corporate actions: raw or adjusted bars, stored series, correction audit records, and
 * recording splits/dividends (which announces `marketdata.evt.corporate-actions.recorded.v1` per changed symbol so
 * that feature sets and backtests recompute). Other capabilities read bars through the {@link MarketDataReader} port
 * (`InProcessMarketDataReader` composes this service with the feature and flag stores).
 */
@Injectable()
export class MarketDataService implements Pick<MarketDataReader, 'getBars' | 'listSeries' | 'listCorrections'> {
  private readonly logger = new Logger('market-data');

  constructor(
    @Inject(BARS_REPOSITORY) private readonly bars: BarsRepository,
    @Inject(CORPORATE_ACTIONS_REPOSITORY) private readonly actions: CorporateActionsRepository,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  /**
   * Bars of one series in ascending time, adjusted as asked. Adjustment factors always take every recorded action of
   * the symbol into account, wherever the requested window lies, so pages of one query fit together.
   */
  async getBars(req: BarsRequest): Promise<{ bars: BarColumns; adjustment: AppliedAdjustment }> {
    const adjust = req.adjust ?? 'total';
    const raw = await this.bars.read(req);
    if (adjust === 'raw') return { bars: raw, adjustment: { adjust, actions: [], skipped: [], steps: [] } };
    const adj = await this.adjustmentFor(req.symbol, req.timeframe, adjust);
    return {
      bars: adjustBars(raw, adj.steps),
      adjustment: { adjust, actions: adj.actions, skipped: adj.skipped, steps: adj.steps },
    };
  }

  /** Adjustment steps of one series (reads the symbol's actions and, for `total`, the dividends' previous closes). */
  async adjustmentFor(
    symbol: string,
    timeframe: Timeframe,
    adjust: Adjustment,
  ): Promise<{ steps: AdjustmentStep[]; skipped: CorporateAction[]; actions: CorporateAction[] }> {
    const actions = adjust === 'raw' ? [] : await this.actions.list(symbol);
    const relevant = adjust === 'split' ? actions.filter((a) => a.kind === 'split') : actions;
    const prev = relevant.some((a) => a.kind === 'dividend')
      ? await this.bars.lastClosesBefore(
          symbol,
          timeframe,
          relevant.filter((a) => a.kind === 'dividend').map((a) => exDateInstant(a.exDate)),
        )
      : new Float64Array(0);
    // Spread the dividend closes back onto the positions of `relevant`.
    const prevCloses = new Float64Array(relevant.length).fill(NaN);
    let j = 0;
    relevant.forEach((a, i) => {
      if (a.kind === 'dividend') prevCloses[i] = prev[j++];
    });
    const { steps, skipped } = adjustmentSteps(relevant, adjust, prevCloses);
    return { steps, skipped, actions: relevant };
  }

  /** Stored series, paged by (symbol, timeframe). */
  listSeries(opts: {
    after?: { symbol: string; timeframe: string };
    limit: number;
    symbol?: string;
  }): Promise<SymbolSeries[]> {
    return this.bars.listSeries(opts);
  }

  /** Correction audit records of a series, newest first. */
  listCorrections(opts: { symbol: string; timeframe: Timeframe; limit: number }): Promise<BarCorrection[]> {
    return this.bars.listCorrections(opts);
  }

  /** A symbol's recorded corporate actions, by ex-date. */
  listCorporateActions(symbol: string): Promise<CorporateAction[]> {
    return this.actions.list(symbol);
  }

  /**
   * Records splits and dividends (idempotent by symbol, kind and ex-date) and publishes
   * `marketdata.evt.corporate-actions.recorded.v1` once per symbol whose actions changed.
   */
  async recordCorporateActions(
    actions: readonly CorporateAction[],
    meta: { correlationId?: string } = {},
  ): Promise<RecordCorporateActionsResult> {
    const r = await this.actions.upsert(actions);
    const bySymbol = new Map<string, CorporateAction[]>();
    for (const a of r.changed) bySymbol.set(a.symbol, [...(bySymbol.get(a.symbol) ?? []), a]);
    for (const [symbol, list] of bySymbol) {
      const latestExDate = list
        .map((a) => a.exDate)
        .sort()
        .at(-1)!;
      await this.bus.publish(
        CorporateActionsRecordedV1,
        { symbol, actions: list.map((a) => ({ kind: a.kind, exDate: a.exDate })), latestExDate },
        { correlationId: meta.correlationId },
      );
      this.logger.log({ msg: 'corporate actions recorded', symbol, changed: list.length });
    }
    return {
      inserted: r.inserted,
      updated: r.updated,
      unchanged: r.unchanged,
      symbolsChanged: [...bySymbol.keys()].sort(),
    };
  }
}
