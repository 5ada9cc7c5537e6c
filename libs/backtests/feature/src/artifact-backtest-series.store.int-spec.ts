import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { mongoTarget, natsTarget, uniqueName } from '../../../../test/infra';
import { ArtifactBacktestSeriesStore } from './artifact-backtest-series.store';
import { backtestSeriesStoreConformance } from './testing/backtest-series-store.conformance';

const nats = natsTarget();
const mongo = mongoTarget();
const describeIf = nats.url && mongo.url ? describe : describe.skip;

describeIf('ArtifactBacktestSeriesStore on the Object Store and MongoDB (BacktestSeriesStore conformance)', () => {
  let nc: NatsConnection;
  let artifacts: ObjectStoreArtifactStore;
  let docs: MongoDocumentStore;
  backtestSeriesStoreConformance({
    async open() {
      nc = await connect({ servers: nats.url });
      artifacts = await ObjectStoreArtifactStore.open(nc, { bucket: uniqueName('series').replace(/_/g, '-') });
      docs = await MongoDocumentStore.connect({
        uri: mongo.url!,
        dbName: uniqueName('strata_series'),
        logger: { warn: () => undefined },
      });
      return new ArtifactBacktestSeriesStore(artifacts, docs);
    },
    async dispose() {
      await artifacts.destroy();
      await nc.close();
      await docs.connection.dropDatabase();
      await docs.close();
    },
  });
});
