import { Module, type DynamicModule } from '@nestjs/common';
import { DEFAULT_STRATEGY_CATALOG, type StrategyCatalog } from '@strata/backtests-domain';
import { StrategiesController } from './strategies.controller';
import { StrategiesService } from './strategies.service';
import { STRATEGY_CATALOG } from './strategies.tokens';

/** What {@link StrategiesModule} needs. `DOCUMENT_STORE` must be provided globally. */
export interface StrategiesModuleOptions {
  /** Serve `/strategies` (default true). */
  http?: boolean;
  /** What definitions may reference (default: the `core` v1 features; no signals or regimes yet). */
  catalog?: StrategyCatalog;
}

/** Strategy definitions with versions: {@link StrategiesService} (global, for the backtests) and the REST routes. */
@Module({})
export class StrategiesModule {
  static register(opts: StrategiesModuleOptions = {}): DynamicModule {
    return {
      module: StrategiesModule,
      global: true,
      controllers: opts.http === false ? [] : [StrategiesController],
      providers: [{ provide: STRATEGY_CATALOG, useValue: opts.catalog ?? DEFAULT_STRATEGY_CATALOG }, StrategiesService],
      exports: [StrategiesService, STRATEGY_CATALOG],
    };
  }
}
