import { connect } from '@nats-io/transport-node';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/nats-core';
import { natsTarget, uniqueName } from '../../../../test/infra';
import { ObjectStoreArtifactStore } from './object-store-artifact.store';
import { artifactStoreConformance } from './testing';

const nats = natsTarget();

nats.describeIf('ObjectStoreArtifactStore (ArtifactStore conformance, real NATS)', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
  });
  afterAll(() => nc?.close());

  artifactStoreConformance({
    uriScheme: 'nats-obj:',
    open: () => ObjectStoreArtifactStore.open(nc, { bucket: uniqueName('artifacts-test').replace(/_/g, '-') }),
    dispose: (store) => (store as ObjectStoreArtifactStore).destroy(),
    async plant(store, key, bytes) {
      // Rewrite the object through the raw Object Store API: its own digest is then consistent, only the key lies.
      const os = await new Objm(nc).open((store as ObjectStoreArtifactStore).bucket);
      await os.putBlob({ name: key }, bytes);
    },
  });

  it('round-trips a 100 MB object and reports nats-obj URIs; a TTL bucket expires objects', async () => {
    const store = await ObjectStoreArtifactStore.open(nc, { bucket: uniqueName('artifacts-big').replace(/_/g, '-') });
    const staging = await ObjectStoreArtifactStore.open(nc, {
      bucket: uniqueName('staging-ttl').replace(/_/g, '-'),
      ttlMs: 1500,
    });
    try {
      const bytes = new Uint8Array(100 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i * 2654435761) >>> 24;
      const t0 = Date.now();
      const a = await store.put(bytes, { extension: '.csv' });
      const back = (await store.get(a.key))!;
      const ms = Date.now() - t0;
      expect(back.length).toBe(bytes.length);
      expect(Buffer.compare(Buffer.from(back), Buffer.from(bytes))).toBe(0);
      expect(a.uri).toBe(`nats-obj://${store.bucket}/${a.key}`);
      process.stdout.write(`100 MB put+get through the Object Store: ${ms} ms\n`);

      const s = await staging.put(new Uint8Array([1, 2, 3]));
      expect(await staging.exists(s.key)).toBe(true);
      await new Promise((r) => setTimeout(r, 2500));
      expect(await staging.get(s.key)).toBeNull();
    } finally {
      await store.destroy();
      await staging.destroy();
    }
  }, 120_000);
});
