import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { JetStreamEventBus } from '@strata/platform-bus';
import type { EventBus } from '@strata/platform-contracts';
import mongoose from 'mongoose';
import { mongoTarget, natsTarget, uniqueName } from '../../../../test/infra';

/**
 * The real servers of a platform integration scenario: a JetStream bus with a unique stream prefix (memory storage)
 * and a unique MongoDB / FerretDB database; `cleanup` deletes the streams, checks that the scenario's `collections`
 * exist in the database, and drops it. `available` is false when NATS_URL or MONGODB_URI is unset (describe.skip).
 */
export function intServers(
  name: string,
  collections: readonly string[],
): {
  available: boolean;
  bus: () => Promise<EventBus>;
  env: () => Record<string, string>;
  cleanup: () => Promise<void>;
} {
  const nats = natsTarget();
  const mongo = mongoTarget();
  // describe.skip still runs the describe body to collect tests, so nothing here may throw when the URLs are unset.
  const prefix = `${uniqueName(name.toUpperCase()).toUpperCase()}_`;
  const u = new URL(mongo.url ?? 'mongodb://127.0.0.1:27017/unset');
  u.pathname = `/${uniqueName(`strata_${name.toLowerCase()}`).toLowerCase()}`;
  const uri = u.toString();
  return {
    available: !!(nats.url && mongo.url),
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
        expect(names).toEqual(expect.arrayContaining([...collections]));
        await conn.db!.dropDatabase();
      } finally {
        await conn.close();
      }
    },
  };
}
