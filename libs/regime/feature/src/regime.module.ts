import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { RegimeController } from './regime.controller';
import { RegimeEventsHandler } from './regime.handlers';
import { DEFAULT_REGIME_SETTINGS, REGIME_SETTINGS, RegimeRepository, type RegimeSettings } from './regime.repository';
import { RegimeService } from './regime.service';
import { RegimeFitWorker } from './regime-fit.worker';

/** What {@link RegimeModule} needs: `DOCUMENT_STORE`, `EVENT_BUS` and `MARKET_DATA_READER` must be global. */
export interface RegimeModuleOptions {
  /** Serve `/market-data/regime…` (default true). */
  http?: boolean;
  /** Handle bar events, refit commands and history reads (default false). */
  workers?: boolean;
  /** Settings (default {@link DEFAULT_REGIME_SETTINGS}). */
  settings?: Partial<RegimeSettings>;
}

/** The regime service: the regime cache, its online updates and its REST routes. */
@Module({})
export class RegimeModule {
  static register(opts: RegimeModuleOptions = {}): DynamicModule {
    const controllers: Type<unknown>[] = [];
    if (opts.http !== false) controllers.push(RegimeController);
    if (opts.workers) controllers.push(RegimeEventsHandler);
    return {
      module: RegimeModule,
      controllers,
      providers: [
        { provide: REGIME_SETTINGS, useValue: { ...DEFAULT_REGIME_SETTINGS, ...(opts.settings ?? {}) } },
        RegimeRepository,
        RegimeFitWorker,
        RegimeService,
      ],
      exports: [RegimeService, RegimeRepository],
    };
  }
}
