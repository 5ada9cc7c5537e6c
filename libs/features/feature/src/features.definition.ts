import { BarsIngestedV1, CorporateActionsRecordedV1 } from '@strata/marketdata-contracts';
import { durableConsumerName } from '@strata/platform-contracts';
import type { ServiceDefinition } from '@strata/platform-messaging';
import { z } from 'zod';
import { FeaturesModule, type FeaturesModuleOptions } from './features.module';

/** Adapters of the features service's ports, supplied by the app: the feature store, the sets, the quality flags. */
export type FeaturesServiceAdapters = Pick<FeaturesModuleOptions, 'store' | 'sets' | 'qualityFlags'>;

/**
 * The feature store service: `GET /features…` on the HTTP side, and the `refresh` worker keeping feature sets fresh
 * from `marketdata.evt.bars.ingested.v1` / `corporate-actions.recorded.v1` (publishing
 * `features.evt.set.refreshed.v1`). Its bus context needs the market-data reader (`MarketDataModule`, added by the app).
 */
export const featuresService: ServiceDefinition<FeaturesServiceAdapters> = {
  name: 'features',
  description: 'Materialises feature sets point-in-time and serves them, refreshed on market-data events',
  config: z.object({}),
  owns: {
    duckdbTables: ['features.feature_sets', 'features.materialisations', 'features.<set>_v<N>'],
    collections: [],
    streams: ['features'],
    consumers: [
      durableConsumerName('features', BarsIngestedV1),
      durableConsumerName('features', CorporateActionsRecordedV1),
    ],
  },
  api: ({ adapters }) => [FeaturesModule.register({ ...adapters, refresh: false })],
  workers: { parts: ['refresh'], modules: ({ adapters }) => [FeaturesModule.register({ ...adapters, http: false })] },
};
