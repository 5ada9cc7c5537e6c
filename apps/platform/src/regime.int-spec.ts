/**
 * Issue 16, "Done when", on real servers: the platform on NATS JetStream (unique stream prefix, durable consumers) and
 * FerretDB (unique database). `/market-data/regime` becomes fresh through the bar events after each ingest; served
 * history is never rewritten; the schedule and the operator refit into new model versions; label changes are
 * published; a redelivered event changes nothing. The regime cache is in MongoDB (its collections checked at cleanup).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamEventBus } from '@strata/platform-bus';
import mongoose from 'mongoose';
import { mongoTarget, natsTarget, uniqueName } from '../../../test/infra';
import { regimeScenario } from './testing/regime-scenario';

const nats = natsTarget();
const mongo = mongoTarget();
const describeIf = nats.url && mongo.url ? describe : describe.skip;

describeIf('regime service on NATS JetStream + FerretDB', () => {
  jest.setTimeout(300_000);
  // describe.skip still runs this body to collect tests, so it must not throw when the URLs are unset.
  const prefix = `${uniqueName('RG').toUpperCase()}_`;
  const u = new URL(mongo.url ?? 'mongodb://127.0.0.1:27017/unset');
  u.pathname = `/${uniqueName('strata_rg').toLowerCase()}`;
  const uri = u.toString();

  regimeScenario({
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
        expect(names).toEqual(expect.arrayContaining(['regime_records', 'regime_models', 'regime_series']));
        await conn.db!.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  });
});
