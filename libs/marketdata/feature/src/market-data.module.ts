import { Module, type DynamicModule } from '@nestjs/common';
import {
  BARS_REPOSITORY,
  CORPORATE_ACTIONS_REPOSITORY,
  MARKET_DATA_READER,
  type BarsRepository,
  type CorporateActionsRepository,
} from '@strata/marketdata-contracts';
import type { BarQualityFlagsStore } from '@strata/dataquality-contracts';
import type { FeatureStore } from '@strata/features-contracts';
import { InProcessMarketDataReader } from './in-process-market-data.reader';
import { MarketDataController } from './market-data.controller';
import { MarketDataService } from './market-data.service';

/** What {@link MarketDataModule} needs from the app. The `EVENT_BUS` provider must be global (BusModule). */
export interface MarketDataModuleOptions {
  bars: BarsRepository;
  corporateActions: CorporateActionsRepository;
  /** Serve the REST controllers (default true); false in processes without HTTP. */
  http?: boolean;
  /** Feature tables, for the `MarketDataReader`'s feature windows (the same store `FeaturesModule` writes). */
  features?: FeatureStore;
  /** Bar-quality flags, for the `MarketDataReader`'s flag reads and `qualityFilter: 'exclude'`. */
  qualityFlags?: BarQualityFlagsStore;
}

/**
 * Market data: {@link MarketDataService} and, unless `http: false`, the `/market-data/bars|symbols|corrections|
 * corporate-actions` routes. Global: the service, the {@link MarketDataReader} port (`MARKET_DATA_READER`: an
 * {@link InProcessMarketDataReader} over the service and the `features` / `qualityFlags` stores given) and both repository tokens can be
 * injected anywhere (ingestion, feature store, backtests).
 */
@Module({})
export class MarketDataModule {
  static register(opts: MarketDataModuleOptions): DynamicModule {
    return {
      module: MarketDataModule,
      global: true,
      controllers: opts.http === false ? [] : [MarketDataController],
      providers: [
        { provide: BARS_REPOSITORY, useValue: opts.bars },
        { provide: CORPORATE_ACTIONS_REPOSITORY, useValue: opts.corporateActions },
        MarketDataService,
        {
          provide: MARKET_DATA_READER,
          useFactory: (marketData: MarketDataService) =>
            new InProcessMarketDataReader({ marketData, features: opts.features, qualityFlags: opts.qualityFlags }),
          inject: [MarketDataService],
        },
      ],
      exports: [BARS_REPOSITORY, CORPORATE_ACTIONS_REPOSITORY, MarketDataService, MARKET_DATA_READER],
    };
  }
}
