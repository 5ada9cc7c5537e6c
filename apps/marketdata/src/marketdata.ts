import { streamDomains } from '@strata/catalog-contracts';
import type { BarQualityFlagsStore } from '@strata/dataquality-contracts';
import { DuckDbBarQualityFlagsStore } from '@strata/dataquality-infra-duckdb';
import type { FeatureStore } from '@strata/features-contracts';
import { MarketDataReadResponder, SeriesChangeTracker } from '@strata/marketdata-infra-nats';
import { openArtifactStores } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import { featuresService } from '@strata/features-feature';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import {
  DocumentIngestionLog,
  IngestBarsUseCase,
  ingestionService,
  loadSampleDataIfEmpty,
  InProcessMarketDataReader,
  MarketDataModule,
  MarketDataService,
  QualityFlagsCommandsModule,
} from '@strata/marketdata-feature';
import {
  AlphaVantageClient,
  AlphaVantageConfigSchema,
  AlphaVantageIngestSource,
} from '@strata/marketdata-infra-alphavantage';
import {
  DuckDbBarsRepository,
  DuckDbCorporateActionsRepository,
  DuckDbParquetBarsReader,
  DuckDbSyntheticGroundTruthStore,
} from '@strata/marketdata-infra-duckdb';
import { type ArtifactStore, type EventBus } from '@strata/platform-contracts';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { DUCKDB_FILE_NAME, duckDbPathFor, openDuckDb } from '@strata/platform-duckdb';
import { runServiceApp, serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { type TelemetryHandle } from '@strata/platform-telemetry';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config';

/**
 * The one DuckDB file of a split deployment, `<STRATA_DATA_DIR>/strata.duckdb`: bars, corrections, corporate actions,
 * feature tables and bar-quality flags (and, without `MONGODB_URI`, the documents). Only this process opens it.
 */
export const MARKETDATA_DUCKDB_FILE = DUCKDB_FILE_NAME;

/** A running marketdata service. */
export type MarketDataApp = ServiceApp & {
  /** Bars stored in the service's DuckDB file (tests and the sample loader count them). */
  bars: DuckDbBarsRepository;
  /** The bus side of the `MarketDataReader` (JetStream only). */
  responder?: MarketDataReadResponder;
};

/**
 * Builds the marketdata service, the single writer of `strata.duckdb` (DuckDB allows one process per file, so this
 * service runs as ONE replica: a StatefulSet with a volume in Kubernetes):
 * - `ingestion`: `POST /market-data/ingest`, `GET /market-data/ingestions/{id}`, the bar reads
 *   (`/market-data/bars|symbols|corrections|corporate-actions`) and the `marketdata.cmd.ingest.v1` worker;
 * - `features`: `GET /features…` and the refresh worker on `marketdata.evt.bars.ingested.v1`, plus the handler of the
 *   sentinel's quality-flag commands (`marketdata.cmd.quality-flags.*`);
 * - on JetStream, the `MarketDataReader` responder (`marketdata.cmd.read.*`, Arrow IPC, large windows as snapshots in
 *   the Object Store), answered from the same stores through a {@link SeriesChangeTracker} so a write is never
 *   followed by a stale cached window;
 * - the bundled sample (`STRATA_SAMPLE_DIR`) loaded once when the bars table is empty.
 * REST goes through the gateway (HTTP over the bus); the port answers `/health`. Other services read bars, features
 * and flags through the `MarketDataReader` bus adapter, never the file.
 */
export async function startMarketData(opts: {
  config: Config;
  logger: Logger;
  bus?: EventBus;
}): Promise<MarketDataApp> {
  const { config, logger } = opts;
  let bars: DuckDbBarsRepository | undefined;
  let readStores: { features: FeatureStore; qualityFlags: BarQualityFlagsStore } | undefined;
  const tracker = new SeriesChangeTracker();
  let snapshots: ArtifactStore | undefined;
  const app = await startServiceApp({
    name: 'marketdata',
    busDomains: streamDomains(),
    config,
    logger,
    bus: opts.bus,
    // Without MONGODB_URI the documents share the service's one DuckDB file (openDuckDb caches the handle by path).
    embeddedStore: { file: MARKETDATA_DUCKDB_FILE },
    // REST through the gateway only (HTTP over the bus); the port answers /health.
    http: { name: 'marketdata', kind: 'service' },
    open: async ({ store, bus, dataDir }) => {
      const db = await openDuckDb(duckDbPathFor(dataDir));
      if (store instanceof DuckDbDocumentStore && store.db !== db) {
        await db.close();
        throw new Error(`the document store opened a second handle on ${duckDbPathFor(dataDir)}`);
      }
      const stores = await openArtifactStores({ bus, dataDir });
      snapshots = stores.snapshots;
      return { db, stores, close: () => db.close() };
    },
    services: ({ store, services }, { db, stores }) => {
      // Every write to what the reads serve goes through the tracker (cache invalidation, snapshot.published).
      bars = new DuckDbBarsRepository(db);
      const marketData = {
        bars: tracker.trackBars(bars),
        corporateActions: tracker.trackCorporateActions(new DuckDbCorporateActionsRepository(db)),
      };
      const features = tracker.trackFeatureStore(new DuckDbFeatureStore(db));
      const qualityFlags = tracker.trackQualityFlags(new DuckDbBarQualityFlagsStore(db));
      readStores = { features, qualityFlags };
      return [
        serviceRun(ingestionService, {
          api: true,
          workers: 'all',
          adapters: {
            ingestionLog: new DocumentIngestionLog(store),
            marketData,
            staging: stores.staging,
            ingest: {
              bars: marketData.bars,
              fileReader: new DuckDbParquetBarsReader(db),
              groundTruth: new DuckDbSyntheticGroundTruthStore(db),
              alphaVantage: alphaVantageSource(config),
              corporateActions: {
                recordCorporateActions: (actions) =>
                  services.features.get(MarketDataService).recordCorporateActions(actions),
              },
            },
          },
        }),
        serviceRun(featuresService, {
          api: true,
          workers: 'all',
          adapters: { store: features, qualityFlags },
          imports: [
            MarketDataModule.register({ ...marketData, http: false, features, qualityFlags }),
            // The sentinel's flags arrive as commands; only this process writes the flags table.
            QualityFlagsCommandsModule.register(qualityFlags),
          ],
          apiImports: [MarketDataModule.register({ ...marketData, http: false, features, qualityFlags })],
        }),
      ];
    },
    staging: (_env, { stores }) => stores.staging,
  });

  let responder: MarketDataReadResponder | undefined;
  try {
    if (app.bus instanceof JetStreamEventBus) {
      const md = app.services.features.get(MarketDataService);
      responder = new MarketDataReadResponder({
        connection: app.bus.connection(),
        reader: new InProcessMarketDataReader({ marketData: md, ...readStores! }),
        snapshots: snapshots!,
        tracker,
        bus: app.bus,
        inlineMaxBytes: config.STRATA_INLINE_MAX_BYTES,
      });
      await responder.start();
    }
    if (config.STRATA_SAMPLE_DIR) {
      const dir = resolve(config.STRATA_SAMPLE_DIR);
      const ingest = app.services.ingestion.get(IngestBarsUseCase);
      const md = app.services.features.get(MarketDataService);
      const report = await loadSampleDataIfEmpty({
        dir,
        countBars: () => bars!.count(),
        ingest: (cmd) => ingest.execute(cmd, { requestedBy: 'sample-loader' }),
        recordCorporateActions: (actions) => md.recordCorporateActions(actions),
      });
      if (report.loaded)
        logger.info(
          { files: report.results, corporateActions: report.corporateActions },
          `loaded the sample in ${dir}`,
        );
    }
  } catch (err) {
    await responder?.stop();
    await app.close();
    throw err;
  }
  const close = app.close;
  let closed: Promise<void> | undefined;
  return {
    ...app,
    bars: bars!,
    responder,
    close: () => (closed ??= (async () => (await responder?.stop(), await close()))()),
  };
}

/** The Alpha Vantage ingest source when `ALPHAVANTAGE_API_KEY` is set, else undefined (the source answers 503). */
function alphaVantageSource(config: Config): AlphaVantageIngestSource | undefined {
  if (!config.ALPHAVANTAGE_API_KEY) return undefined;
  const av = AlphaVantageConfigSchema.parse({
    ALPHAVANTAGE_API_KEY: config.ALPHAVANTAGE_API_KEY,
    ALPHAVANTAGE_BASE_URL: config.ALPHAVANTAGE_BASE_URL,
  });
  return new AlphaVantageIngestSource(AlphaVantageClient.fromConfig(av));
}

/** Starts the marketdata service on `PORT`, and closes it on SIGINT/SIGTERM. */
export async function runMarketData(config: Config, telemetry: TelemetryHandle): Promise<void> {
  await runServiceApp(config, telemetry, (c, logger) => startMarketData({ config: c, logger }), {
    name: 'marketdata',
    message: () => 'marketdata service running (owns strata.duckdb: bars, features, quality flags)',
  });
}
