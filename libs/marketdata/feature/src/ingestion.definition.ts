import { Module, type DynamicModule } from '@nestjs/common';
import type { ServiceDefinition } from '@strata/platform-messaging';
import type { ArtifactStore } from '@strata/platform-contracts';
import { alphaVantageConfigShape, serviceConfigShape } from '@strata/shared-util';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { INGEST_QUEUE } from './ingest-command.responder';
import { INGESTION_LOG, type IngestionLog } from '@strata/marketdata-contracts';
import { IngestionHttpModule, IngestionModule } from './ingestion.module';
import { IngestionsController } from './ingestions.controller';
import { MarketDataModule, type MarketDataModuleOptions } from './market-data.module';

/** `GET /market-data/ingestions/{id}`: ingest results read from the ingestion log. */
@Module({})
export class IngestionsLookupModule {
  static register(ingestionLog: IngestionLog): DynamicModule {
    return {
      module: IngestionsLookupModule,
      controllers: [IngestionsController],
      providers: [{ provide: INGESTION_LOG, useValue: ingestionLog }],
    };
  }
}

/** Adapters of the ingestion service's ports, supplied by the app that runs it. */
export interface IngestionServiceAdapters {
  /** Where every ingest is recorded (`DocumentIngestionLog` over the document store). */
  ingestionLog: IngestionLog;
  /** The ingest worker's adapters: bars store, Parquet reader, synthetic ground truth, Alpha Vantage, corporate-actions recorder. */
  ingest?: Omit<Parameters<typeof IngestionModule.register>[0], 'ingestionLog' | 'allowedFileRoots'>;
  /** Market-data reads: when given, the HTTP app also serves `/market-data/bars|symbols|corrections|corporate-actions`. */
  marketData?: MarketDataModuleOptions;
  /**
   * Staging artifact store shared by the HTTP side and the ingest worker: uploads above `STRATA_INLINE_MAX_BYTES` (and
   * every Parquet upload) are put there and the command names their key (`openArtifactStores(...).staging` of
   * `@strata/platform-artifacts`: the `strata-staging` bucket on JetStream, `<STRATA_DATA_DIR>/staging` otherwise).
   */
  staging: ArtifactStore;
}

/** Environment variables of the ingestion service (beyond the common ones). */
export const IngestionConfigSchema = z.object({
  ...alphaVantageConfigShape,
  STRATA_INLINE_MAX_BYTES: serviceConfigShape.STRATA_INLINE_MAX_BYTES,
});

/**
 * The market-data ingestion service: `POST /market-data/ingest` and `GET /market-data/ingestions/{id}` on the HTTP
 * side (plus the market-data reads when the app has the bars), and the `ingest` worker serving
 * `marketdata.cmd.ingest.v1` (inline CSV, uploads staged in the staging store, files under
 * `<STRATA_DATA_DIR>/uploads` and `data/`), which commits the bars and publishes `marketdata.evt.bars.ingested.v1`.
 */
export const ingestionService: ServiceDefinition<IngestionServiceAdapters, typeof IngestionConfigSchema> = {
  name: 'ingestion',
  description:
    'Ingests bars (CSV, Parquet, JSON, Alpha Vantage, synthetic), records every ingest, announces committed batches',
  config: IngestionConfigSchema,
  owns: {
    duckdbTables: [
      'bars',
      'bar_series',
      'bar_values',
      'bar_writes',
      'bar_corrections',
      'corporate_actions',
      'synthetic_ground_truth',
    ],
    collections: ['ingestions', 'ingestion_rejects'],
    streams: ['marketdata'],
    consumers: [INGEST_QUEUE],
  },
  api: ({ adapters, config }) => [
    ...(adapters.marketData ? [MarketDataModule.register(adapters.marketData)] : []),
    IngestionHttpModule.register({ staging: adapters.staging, inlineMaxBytes: config.STRATA_INLINE_MAX_BYTES }),
    IngestionsLookupModule.register(adapters.ingestionLog),
  ],
  workers: {
    parts: ['ingest'],
    modules: ({ adapters, dataDir }) => [
      IngestionModule.register({
        ingestionLog: adapters.ingestionLog,
        allowedFileRoots: [join(dataDir, 'uploads'), resolve('data')],
        staging: adapters.staging,
        ...adapters.ingest,
      }),
    ],
  },
};
