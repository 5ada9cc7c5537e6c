/** @jest-environment ./libs/signals/infra-onnx/src/testing/onnx-jest-environment.js */
/**
 * The signals training work queue and model registry on real servers: NATS JetStream (the `signals.cmd.train.v1`
 * work queue, shared by the platform's `signals` worker and a second worker context on its own connection) and a
 * MongoDB-compatible store (FerretDB in CI) holding the registry. A model trains once even when its command is
 * delivered again; promote and rollback persist in the store.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Module, type INestMicroservice } from '@nestjs/common';
import { ModelTrainedV1, TrainModelCommandV1 } from '@strata/signals-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { DocumentStoreProviderModule } from '@strata/platform-service-kit';
import { MarketDataModule } from '@strata/marketdata-feature';
import { SignalModelsRepository, SignalsModule } from '@strata/signals-feature';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { BusModule, createBusMicroservice, JetStreamEventBus } from '@strata/platform-bus';
import { DuckDbBarsRepository, DuckDbCorporateActionsRepository } from '@strata/marketdata-infra-duckdb';
import { FeaturesModule } from '@strata/features-feature';
import { DuckDbFeatureStore } from '@strata/features-infra-duckdb';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { OnnxModelRuntime } from '@strata/signals-infra-onnx';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mongoTarget, natsTarget, uniqueName } from '../../../test/infra';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

const nats = natsTarget();
const mongo = mongoTarget();
const describeIf = nats.url && mongo.url ? describe : describe.skip;

jest.setTimeout(300_000);

const KEY = 'operator-key-0001';

describeIf('signals training queue and registry on JetStream + MongoDB', () => {
  const prefix = `${uniqueName('SIG')
    .toUpperCase()
    .replace(/[^A-Z0-9_]/g, '_')}_`;
  const dbName = uniqueName('strata_sig');
  let dataDir: string;
  let platform: Platform;
  let platformBus: JetStreamEventBus;
  let workerBus: JetStreamEventBus;
  let observerBus: JetStreamEventBus;
  let worker2: INestMicroservice;
  let worker2Store: MongoDocumentStore;
  const runtime2 = new OnnxModelRuntime();
  const trained: PayloadOf<typeof ModelTrainedV1>[] = [];
  const call = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    platform.gateway.inject({
      method,
      url,
      headers: { 'x-api-key': KEY },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const bus = (service: string) =>
    JetStreamEventBus.connect({
      servers: nats.url!,
      service,
      streamPrefix: prefix,
      storage: 'memory',
      closeTimeoutMs: 3000,
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-sig-int-'));
    const uri = new URL(mongo.url!);
    uri.pathname = `/${dbName}`;
    platformBus = await bus('platform');
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent', MONGODB_URI: uri.toString() }),
      logger: createLogger({ service: 'int', level: 'silent' }),
      bus: platformBus,
      apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: KEY }]),
      sampleDataDir: resolve(__dirname, '../../../data/sample'),
    });
    // A second training worker on its own NATS connection and MongoDB client (as another replica would be), reading
    // the platform's feature store and artifacts directory.
    workerBus = await bus('signals-2');
    worker2Store = await MongoDocumentStore.connect({ uri: uri.toString(), logger: { warn: () => undefined } });
    const marketData = {
      bars: new DuckDbBarsRepository(platform.duckdb),
      corporateActions: new DuckDbCorporateActionsRepository(platform.duckdb),
    };
    @Module({
      imports: [
        BusModule.forRoot(workerBus, { closeOnShutdown: false }),
        DocumentStoreProviderModule.forRoot(worker2Store),
        MarketDataModule.register({ ...marketData, http: false }),
        SignalsModule.register({
          features: FeaturesModule.register({
            store: new DuckDbFeatureStore(platform.duckdb),
            http: false,
            refresh: false,
          }),
          artifacts: new LocalDirectoryArtifactStore(join(dataDir, 'artifacts')),
          runtime: runtime2,
          http: false,
          worker: { workerId: 'worker-2', sweepIntervalMs: 0 },
        }),
      ],
    })
    class Worker2Module {}
    // A replica of the signals service: the same work-queue consumer (`signals__signals_cmd_train__v1`) as the platform's.
    worker2 = await createBusMicroservice(Worker2Module, { bus: workerBus, service: 'signals', logger: false });
    observerBus = await bus('observer');
    await observerBus.subscribe(ModelTrainedV1, (e) => void trained.push(e), {
      consumer: 'observer__signals_trained',
      deliverFrom: 'all',
    });
    const end = Date.now() + 120_000;
    while (
      Date.now() < end &&
      (await call('GET', '/features?set=core&symbol=SPY&limit=1&from=2021-03-31')).json().items?.length !== 1
    )
      await new Promise((r) => setTimeout(r, 200));
  });

  afterAll(async () => {
    await worker2?.close();
    await platform?.close();
    for (const b of [workerBus, observerBus, platformBus]) await b?.close();
    await runtime2.close();
    await worker2Store?.connection.dropDatabase();
    await worker2Store?.close();
    const nc = await connect({ servers: nats.url! });
    const jsm = await jetstreamManager(nc);
    for (const s of await jsm.streams.names().next())
      if (s.startsWith(prefix)) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('trains a queued model once (a second delivery of the command does not retrain) and persists aliases', async () => {
    const r = await call('POST', '/signals/models', {
      name: 'int_spy',
      symbols: ['SPY'],
      walkForward: { folds: 3 },
      params: { numTrees: 20, maxLeaves: 7, minDataInLeaf: 50 },
    });
    expect(r.statusCode).toBe(202);
    const id = r.json().id as string;
    const models = new SignalModelsRepository(worker2Store);
    const waitDone = async () => {
      const end = Date.now() + 240_000;
      let doc = await models.get(id);
      // Done = failed, or completed with its final event out (the worker records that in a second write).
      const done = () => doc?.status === 'failed' || (doc?.status === 'completed' && doc.finalEventPublished === true);
      while (!done() && Date.now() < end) {
        await new Promise((res) => setTimeout(res, 200));
        doc = await models.get(id);
      }
      return doc!;
    };
    const doc = await waitDone();
    expect(doc).toMatchObject({
      status: 'completed',
      attempts: 1,
      claim: null,
      error: null,
      finalEventPublished: true,
    });
    expect(doc.metrics!.folds).toHaveLength(3);
    expect(doc.metrics!.leakageGuard!.passed).toBe(true);

    // Deliver the command again (a new envelope id, so the bus does not deduplicate it): idempotent by model id.
    await platformBus.publish(
      TrainModelCommandV1,
      { modelId: id, spec: doc.spec!, requestedAt: doc.createdAt },
      { id: `${id}.again` },
    );
    await new Promise((res) => setTimeout(res, 3000));
    const again = await models.get(id);
    expect(again).toMatchObject({ status: 'completed', attempts: 1, _version: doc._version });
    expect(trained.filter((e) => e.modelId === id)).toHaveLength(1);

    // The registry through REST, stored in MongoDB.
    expect((await call('POST', `/signals/models/${id}/aliases/challenger`)).json()).toMatchObject({
      alias: 'challenger',
      modelId: id,
    });
    const stored = await worker2Store.collection<{ modelId: string }>({ name: 'signal_aliases' }).get('challenger');
    expect(stored).toMatchObject({ modelId: id });
    const s = await call('POST', '/signals/score', {
      model: 'challenger',
      symbol: 'SPY',
      from: '2021-03-01',
      to: '2021-03-31',
    });
    expect(s.statusCode).toBe(200);
    expect(s.json().scores.every((p: number) => p > 0 && p < 1)).toBe(true);
  });
});
