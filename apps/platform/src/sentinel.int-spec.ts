/**
 * Issue 6, "Done when", on real servers: the platform on NATS JetStream (unique stream prefix) and FerretDB (unique
 * database). A real SPY slice with planted bad ticks is ingested through REST; DataQualityEvents are stored in
 * MongoDB; webhook deliveries reach a real local HTTP receiver that verifies the signature itself and fails the
 * first two attempts of each delivery; the summary reflects the events; ack / resolve obey roles.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamEventBus } from '@strata/platform-bus';
import mongoose from 'mongoose';
import { mongoTarget, natsTarget, uniqueName } from '../../../test/infra';
import { sentinelScenario } from './testing/sentinel-scenario';

const nats = natsTarget();
const mongo = mongoTarget();
const describeIf = nats.url && mongo.url ? describe : describe.skip;

describeIf('data-quality sentinel on NATS JetStream + FerretDB', () => {
  jest.setTimeout(300_000);
  // describe.skip still runs this body to collect tests, so it must not throw when the URLs are unset.
  const prefix = `${uniqueName('DQ').toUpperCase()}_`;
  const u = new URL(mongo.url ?? 'mongodb://127.0.0.1:27017/unset');
  u.pathname = `/${uniqueName('strata_dq').toLowerCase()}`;
  const uri = u.toString();

  sentinelScenario({
    bus: () =>
      JetStreamEventBus.connect({
        servers: nats.url!,
        service: 'platform',
        streamPrefix: prefix,
        storage: 'memory',
        closeTimeoutMs: 3000,
      }),
    env: () => ({ MONGODB_URI: uri }),
    cleanup: async () => {
      const nc = await connect({ servers: nats.url! });
      const jsm = await jetstreamManager(nc);
      for await (const si of jsm.streams.list())
        if (si.config.name.startsWith(prefix)) await jsm.streams.delete(si.config.name).catch(() => false);
      await nc.close();
      const conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
      try {
        const names = (await conn.db!.listCollections().toArray()).map((c) => c.name);
        expect(names).toEqual(
          expect.arrayContaining(['dataquality_events', 'webhook_subscriptions', 'webhook_deliveries']),
        );
        await conn.db!.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  });
});
