import { Module, type DynamicModule } from '@nestjs/common';
import { IngestionHttpModule, INGESTION_LOG, type IngestionHttpOptions, type IngestionLog } from '@strata/marketdata-feature';
import { AsyncApiController } from './asyncapi.controller';
import { HealthModule, type HealthIndicator } from './health';
import { IngestionsController } from '@strata/marketdata-feature';

/** What the gateway needs from the app. The `EVENT_BUS` provider must be global (BusModule). */
export interface GatewayModuleOptions {
  /** Readiness dependencies (at least the bus). */
  healthIndicators: HealthIndicator[];
  /** Where ingest results are read from (`GET /market-data/ingestions/{id}`). */
  ingestionLog: IngestionLog;
  ingest: IngestionHttpOptions;
}

/** The REST gateway: health, AsyncAPI, market-data ingest and ingestion lookup. */
@Module({})
export class GatewayModule {
  static register(opts: GatewayModuleOptions): DynamicModule {
    return {
      module: GatewayModule,
      imports: [HealthModule.register({ service: 'gateway', indicators: opts.healthIndicators }), IngestionHttpModule.register(opts.ingest)],
      controllers: [AsyncApiController, IngestionsController],
      providers: [{ provide: INGESTION_LOG, useValue: opts.ingestionLog }],
    };
  }
}
