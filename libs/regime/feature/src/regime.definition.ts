import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { durableConsumerName } from '@strata/platform-contracts';
import type { ServiceDefinition } from '@strata/platform-messaging';
import { ReadRegimeHistoryCommandV1, RefitRegimeCommandV1 } from '@strata/regime-contracts';
import { regimeConfigShape } from '@strata/shared-util';
import { z } from 'zod';
import { REGIME_SERVICE } from './regime.handlers';
import { RegimeModule } from './regime.module';
import { type RegimeSettings } from './regime.repository';

/** Environment variables of the regime service (beyond the common ones). */
export const RegimeConfigSchema = z.object(regimeConfigShape);

/** Settings of the regime service from its parsed configuration. */
export function regimeSettings(c: z.output<typeof RegimeConfigSchema>): RegimeSettings {
  return {
    refitEveryBars: c.REGIME_REFIT_EVERY_BARS,
    recomputeMaxBars: c.REGIME_RECOMPUTE_MAX_BARS,
    supersededTtlSeconds: Math.round(c.REGIME_SUPERSEDED_TTL_DAYS * 86_400),
    volWindow: c.REGIME_VOL_WINDOW,
    fitMaxBars: c.REGIME_FIT_MAX_BARS,
  };
}

/** Adapters of the regime service (none: it reads bars through `MARKET_DATA_READER`, added by the app). */
export interface RegimeServiceAdapters {
  /** Overrides of the settings parsed from the environment (tests). */
  settings?: Partial<RegimeSettings>;
}

/**
 * The regime service: `/market-data/regime…` on the HTTP side; one worker part, `filter`, that keeps the regime cache
 * fresh from `marketdata.evt.bars.ingested.v1`, fits queued model versions (`regime.cmd.refit.v1`) and answers
 * history reads (`regime.cmd.read.history.v1`). Needs the market-data reader in its context.
 */
export const regimeService: ServiceDefinition<RegimeServiceAdapters, typeof RegimeConfigSchema> = {
  name: REGIME_SERVICE,
  description: 'Filtered HMM regimes per series, kept fresh from bar events in a regime cache; /market-data/regime',
  config: RegimeConfigSchema,
  owns: {
    duckdbTables: [],
    collections: ['regime_records', 'regime_models', 'regime_series'],
    streams: ['regime'],
    consumers: [
      durableConsumerName(REGIME_SERVICE, BarsIngestedV1),
      durableConsumerName(REGIME_SERVICE, RefitRegimeCommandV1),
      durableConsumerName(REGIME_SERVICE, ReadRegimeHistoryCommandV1),
    ],
  },
  api: ({ adapters, config }) => [
    RegimeModule.register({ settings: { ...regimeSettings(RegimeConfigSchema.parse(config)), ...adapters.settings } }),
  ],
  workers: {
    parts: ['filter'],
    modules: ({ adapters, config }) => [
      RegimeModule.register({
        http: false,
        workers: true,
        settings: { ...regimeSettings(RegimeConfigSchema.parse(config)), ...adapters.settings },
      }),
    ],
  },
};
