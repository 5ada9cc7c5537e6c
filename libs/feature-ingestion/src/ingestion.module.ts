import { Module, type DynamicModule } from '@nestjs/common';
import { BARS_REPOSITORY, type BarsRepository } from '@strata/feature-marketdata';
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
  static register(opts: { ingestionLog: IngestionLog; bars?: BarsRepository } & IngestionOptions): DynamicModule {
    const { ingestionLog, bars, ...options } = opts;
    return {
      module: IngestionModule,
      providers: [
        { provide: INGESTION_LOG, useValue: ingestionLog },
        { provide: INGESTION_OPTIONS, useValue: options },
        // Bars store: the batch is committed before it is announced (see IngestBarsUseCase).
        ...(bars ? [{ provide: BARS_REPOSITORY, useValue: bars }] : []),
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
