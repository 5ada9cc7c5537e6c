import { Global, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CorporateActionSchema } from '@strata/marketdata-contracts';
import { DOCUMENT_STORE, type DocumentStore, type EventBus } from '@strata/platform-contracts';
import { readBarsCsv } from '@strata/marketdata-domain';
import { MarketDataModule } from '@strata/marketdata-feature';
import { StrategiesModule } from '../strategies.module';
import {
  configureStrataHttp,
  createLogger,
  createStrataFastifyAdapter,
  parseApiKeys,
  PinoNestLogger,
  StaticApiKeyResolver,
  StrataHttpModule,
} from '@strata/platform-http';
import { BusModule, connectBusTransport, createBusMicroservice, InProcessEventBus } from '@strata/platform-bus';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ArtifactBacktestSeriesStore } from '../artifact-backtest-series.store';
import { BacktestsModule, BACKTESTS_SERVICE } from '../backtests.module';
import { BacktestWorker, BacktestWorkerController, type BacktestWorkerOptions } from '../backtest-worker';

/** Keys of the test app. */
export const OPERATOR_KEY = 'test-operator-key';
export const VIEWER_KEY = 'test-viewer-key';

const SAMPLE = join(__dirname, '..', '..', '..', '..', '..', 'data', 'sample');

/** Everything a backtests test needs: embedded stores, the bundled sample loaded (raw bars + splits), a bus. */
export interface BacktestsTestEnv {
  db: DuckDb;
  store: DocumentStore;
  bars: DuckDbBarsRepository;
  actions: DuckDbCorporateActionsRepository;
  series: ArtifactBacktestSeriesStore;
  bus: EventBus;
  close(): Promise<void>;
}

/** In-memory DuckDB with the sample symbols committed (as ingestion would) and the sample splits recorded. */
export async function backtestsTestEnv(
  symbols: readonly string[] = ['SPY', 'QQQ', 'IBM', 'AAPL'],
): Promise<BacktestsTestEnv> {
  const db = await DuckDb.create(DUCKDB_MEMORY);
  const store = new DuckDbDocumentStore(db);
  const bars = new DuckDbBarsRepository(db);
  const actions = new DuckDbCorporateActionsRepository(db);
  for (const symbol of symbols) {
    const batch = readBarsCsv(readFileSync(join(SAMPLE, `${symbol}_1d.csv`)), { timeframe: '1d' });
    await bars.commit({ ingestionId: `test-${symbol}`, symbol, timeframe: '1d', bars: batch.bars });
  }
  const parsed = z
    .object({ actions: z.array(CorporateActionSchema) })
    .parse(JSON.parse(readFileSync(join(SAMPLE, 'corporate-actions.json'), 'utf8')));
  await actions.upsert(parsed.actions);
  const bus = new InProcessEventBus({ service: 'backtests-test' });
  const artifactsDir = mkdtempSync(join(tmpdir(), 'backtests-artifacts-'));
  return {
    db,
    store,
    bars,
    actions,
    series: new ArtifactBacktestSeriesStore(new LocalDirectoryArtifactStore(artifactsDir), store),
    bus,
    close: async () => {
      await bus.close();
      await store.close();
      await db.close();
      rmSync(artifactsDir, { recursive: true, force: true });
    },
  };
}

/** A Fastify Nest app with strategies, market data and backtests (API and, unless `worker: false`, a worker bound by the bus transport). */
export async function backtestsTestApp(
  env: BacktestsTestEnv,
  worker: false | BacktestWorkerOptions = {},
): Promise<NestFastifyApplication> {
  @Global()
  @Module({ providers: [{ provide: DOCUMENT_STORE, useValue: env.store }], exports: [DOCUMENT_STORE] })
  class StoreModule {}

  @Module({
    imports: [
      StoreModule,
      BusModule.forRoot(env.bus, { closeOnShutdown: false }),
      StrataHttpModule.forRoot({
        apiKeys: new StaticApiKeyResolver(parseApiKeys(`operator:${OPERATOR_KEY},viewer:${VIEWER_KEY}`)),
      }),
      MarketDataModule.register({ bars: env.bars, corporateActions: env.actions, http: false }),
      StrategiesModule.register(),
      BacktestsModule.register({
        seriesStore: env.series,
        worker: worker === false ? false : { sweepIntervalMs: 0, progressIntervalMs: 0, ...worker },
      }),
    ],
  })
  class TestApp {}
  const logger = createLogger({ service: 'test', level: 'silent' });
  const app = await NestFactory.create<NestFastifyApplication>(TestApp, createStrataFastifyAdapter({ logger }), {
    logger: new PinoNestLogger(logger),
  });
  configureStrataHttp(app);
  // The worker's @OnCommand controller is bound by the bus transport, as in a service's bus context.
  connectBusTransport(app, { bus: env.bus, service: BACKTESTS_SERVICE });
  await app.init();
  await app.startAllMicroservices();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/**
 * Puts one {@link BacktestWorker} on the `backtest.cmd.run.v1` work queue of `bus` the production way: a Nest
 * microservice context whose {@link BacktestWorkerController} the bus transport binds (consumer
 * `backtests__backtest_cmd_run__v1`, the worker's delivery settings, its recovery sweep). Close the context to stop it.
 */
export async function startBacktestWorker(worker: BacktestWorker, bus: EventBus): Promise<INestMicroservice> {
  @Module({ controllers: [BacktestWorkerController], providers: [{ provide: BacktestWorker, useValue: worker }] })
  class BacktestWorkerQueueModule {}
  return createBusMicroservice(BacktestWorkerQueueModule, { bus, service: BACKTESTS_SERVICE, logger: false });
}
