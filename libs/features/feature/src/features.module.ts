import { Module, type DynamicModule } from '@nestjs/common';
import { BarsIngestedHandler } from './bars-ingested.handler';
import { FeatureRefreshService } from './feature-refresh.service';
import { DEFAULT_FEATURE_SETS, FEATURE_SETS, type FeatureSetImplementation } from './feature-set.registry';
import { BAR_QUALITY_FLAGS, type BarQualityFlagsStore } from '@strata/dataquality-contracts';
import { FEATURE_READER, FEATURE_STORE, type FeatureStore } from '@strata/features-contracts';
import { FeaturesController } from './features.controller';
import { FeaturesService } from './features.service';

/** What {@link FeaturesModule} needs. `EVENT_BUS` and `MarketDataModule` must be available globally. */
export interface FeaturesModuleOptions {
  store: FeatureStore;
  /** Feature sets to register and keep fresh (default: `core` v1 and v2, {@link DEFAULT_FEATURE_SETS}). */
  sets?: readonly FeatureSetImplementation[];
  /** Serve `GET /features…` (default true). */
  http?: boolean;
  /** Register the refresh handlers (default true); `featuresService` sets it in its `refresh` worker part only. */
  refresh?: boolean;
  /** Bar-quality flags of the data-quality sentinel, for `qualityFilter: 'exclude'` (unset: that filter is refused). */
  qualityFlags?: BarQualityFlagsStore;
}

/**
 * The feature store capability: {@link FeaturesService} (queries, as-of joins, training datasets; also provided as the
 * `FEATURE_READER` port other capabilities inject),
 * {@link FeatureRefreshService} (materialisation) and, as configured, the REST routes and the event-driven refresher.
 */
@Module({})
export class FeaturesModule {
  static register(opts: FeaturesModuleOptions): DynamicModule {
    return {
      module: FeaturesModule,
      controllers: [
        ...(opts.http === false ? [] : [FeaturesController]),
        ...(opts.refresh === false ? [] : [BarsIngestedHandler]),
      ],
      providers: [
        { provide: FEATURE_STORE, useValue: opts.store },
        { provide: FEATURE_SETS, useValue: opts.sets ?? DEFAULT_FEATURE_SETS },
        ...(opts.qualityFlags ? [{ provide: BAR_QUALITY_FLAGS, useValue: opts.qualityFlags }] : []),
        FeaturesService,
        { provide: FEATURE_READER, useExisting: FeaturesService },
        FeatureRefreshService,
      ],
      exports: [FeaturesService, FEATURE_READER, FeatureRefreshService, FEATURE_STORE],
    };
  }
}
