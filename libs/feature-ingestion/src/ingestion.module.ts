import { Module, type DynamicModule } from '@nestjs/common';
import { IngestBarsUseCase } from './ingest-bars.use-case';
import { IngestCommandResponder } from './ingest-command.responder';
import { INGESTION_LOG, type IngestionLog } from './ingestion-log.port';
import { INGESTION_HTTP_OPTIONS, INGESTION_OPTIONS, type IngestionHttpOptions, type IngestionOptions } from './ingestion.tokens';
import { MarketDataIngestController } from './market-data-ingest.controller';

/**
 * The ingestion service: serves `marketdata.cmd.ingest.v1` and publishes `marketdata.evt.bars.ingested.v1`.
 * Import it in exactly one Nest context per process (the ingestion service's), so the command is served once.
 * Needs a global `EVENT_BUS` provider.
 */
@Module({})
export class IngestionModule {
  static register(opts: { ingestionLog: IngestionLog } & IngestionOptions): DynamicModule {
    const { ingestionLog, ...options } = opts;
    return {
      module: IngestionModule,
      providers: [
        { provide: INGESTION_LOG, useValue: ingestionLog },
        { provide: INGESTION_OPTIONS, useValue: options },
        IngestBarsUseCase,
        IngestCommandResponder,
      ],
      exports: [IngestBarsUseCase, INGESTION_LOG],
    };
  }
}

/** The gateway side: `POST /market-data/ingest`, which sends the ingest command over the bus. */
@Module({})
export class IngestionHttpModule {
  static register(opts: IngestionHttpOptions): DynamicModule {
    return {
      module: IngestionHttpModule,
      controllers: [MarketDataIngestController],
      providers: [{ provide: INGESTION_HTTP_OPTIONS, useValue: opts }],
    };
  }
}
