import { Module, type DynamicModule } from '@nestjs/common';
import {
  BARS_REPOSITORY,
  type BarsRepository,
  INGESTION_LOG,
  type IngestionLog,
  ALPHAVANTAGE_SOURCE,
  BARS_FILE_READER,
  CORPORATE_ACTIONS_RECORDER,
  SYNTHETIC_GROUND_TRUTH_STORE,
  type AlphaVantageBarsSource,
  type BarsFileReader,
  type CorporateActionsRecorder,
  type SyntheticGroundTruthStore,
} from '@strata/marketdata-contracts';
import { IngestBarsUseCase } from './ingest-bars.use-case';
import { IngestCommandResponder } from './ingest-command.responder';
import {
  INGESTION_HTTP_OPTIONS,
  INGESTION_OPTIONS,
  type IngestionHttpOptions,
  type IngestionOptions,
} from './ingestion.tokens';
import { MarketDataIngestController } from './market-data-ingest.controller';

/**
 * The ingestion service: serves `marketdata.cmd.ingest.v1` and publishes `marketdata.evt.bars.ingested.v1`.
 * `ingestionService` places it in its `ingest` worker part, the ingestion service's bus context, so the command is
 * served once per process.
 * Needs a global `EVENT_BUS` provider.
 */
@Module({})
export class IngestionModule {
  static register(
    opts: {
      ingestionLog: IngestionLog;
      bars?: BarsRepository;
      /** Parquet reader (DuckDB); without it Parquet files are refused as not configured. */
      fileReader?: BarsFileReader;
      /** The Alpha Vantage source; without it `source.kind = "alphavantage"` is refused as not configured. */
      alphaVantage?: AlphaVantageBarsSource;
      /** Where source-reported splits and dividends are recorded. */
      corporateActions?: CorporateActionsRecorder;
      /** Where synthetic ground truth is kept; without it `source.kind = "synthetic"` is refused as not configured. */
      groundTruth?: SyntheticGroundTruthStore;
    } & IngestionOptions,
  ): DynamicModule {
    const { ingestionLog, bars, fileReader, alphaVantage, corporateActions, groundTruth, ...options } = opts;
    return {
      module: IngestionModule,
      controllers: [IngestCommandResponder],
      providers: [
        { provide: INGESTION_LOG, useValue: ingestionLog },
        { provide: INGESTION_OPTIONS, useValue: options },
        // Bars store: the batch is committed before it is announced (see IngestBarsUseCase).
        ...(bars ? [{ provide: BARS_REPOSITORY, useValue: bars }] : []),
        ...(fileReader ? [{ provide: BARS_FILE_READER, useValue: fileReader }] : []),
        ...(alphaVantage ? [{ provide: ALPHAVANTAGE_SOURCE, useValue: alphaVantage }] : []),
        ...(corporateActions ? [{ provide: CORPORATE_ACTIONS_RECORDER, useValue: corporateActions }] : []),
        ...(groundTruth ? [{ provide: SYNTHETIC_GROUND_TRUTH_STORE, useValue: groundTruth }] : []),
        IngestBarsUseCase,
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
