/**
 * The MarketDataReader conformance suite on the bus adapter over real NATS (NATS_URL): `NatsMarketDataReader` ↔
 * `MarketDataReadResponder` (Arrow IPC replies, snapshots in a JetStream Object Store bucket above the inline limit,
 * the reader's local cache by content hash), plus what only the bus path has: the responder's window cache, the
 * snapshot.published event after a write, a corrupted cached snapshot detected and fetched again, the store path when
 * the responder no longer holds a snapshot, and the errors of a
 * marketdata service that is down or silent.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { SnapshotPublishedV1 } from '@strata/marketdata-contracts';
import type { PayloadOf } from '@strata/platform-contracts';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { BusError } from '@strata/platform-bus';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsTarget, uniqueName } from '../../../../test/infra';
import { MarketDataReadResponder } from './market-data-read.responder';
import { NatsMarketDataReader } from './nats-market-data.reader';
import { describeMarketDataReaderConformance, openMarketDataFixture, type MarketDataFixture } from './testing';

jest.setTimeout(120_000);

const nats = natsTarget();

nats.describeIf('NatsMarketDataReader (real NATS)', () => {
  let nc: NatsConnection;
  let snapshots: ObjectStoreArtifactStore;
  let fixture: MarketDataFixture;
  let responder: MarketDataReadResponder;
  let reader: NatsMarketDataReader;
  const prefix = uniqueName('rpc_test').replace(/_/g, '-');
  const dirs: string[] = [];
  const published: PayloadOf<typeof SnapshotPublishedV1>[] = [];

  const newReader = (opts: { timeoutMs?: number; subjectPrefix?: string } = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-snapcache-'));
    dirs.push(dir);
    return new NatsMarketDataReader({
      connection: nc,
      snapshots,
      cacheDir: dir,
      subjectPrefix: prefix,
      ...opts,
    });
  };

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    snapshots = await ObjectStoreArtifactStore.open(nc, { bucket: uniqueName('snapshots-test').replace(/_/g, '-') });
    fixture = await openMarketDataFixture();
    await fixture.bus.subscribe(SnapshotPublishedV1, async (e) => void published.push(e), { consumer: 'test__snap' });
    responder = new MarketDataReadResponder({
      connection: nc,
      reader: fixture.reader,
      snapshots,
      tracker: fixture.tracker,
      bus: fixture.bus,
      queue: prefix,
      subjectPrefix: prefix,
      republishDelayMs: 50,
    });
    await responder.start();
    reader = newReader();
  });

  afterAll(async () => {
    await responder?.stop();
    await snapshots?.destroy();
    await fixture?.close();
    await nc?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describeMarketDataReaderConformance('over NATS (Arrow IPC, Object Store snapshots)', async () => ({
    reader,
    fixture,
    lastSource: () => reader.lastSource,
  }));

  describe('the bus path', () => {
    it('answers a small window inline and a large one by a snapshot named by the SHA-256 of its bytes', async () => {
      const r = newReader();
      await r.getBars({ symbol: 'AAPL', timeframe: '1d', limit: 100 });
      expect(r.lastSource).toBe('inline');
      const fresh = await r.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'split' });
      expect(r.lastSource).toBe('service'); // fetched in ranges from the responder while the store write runs
      await responder.flush();
      const keys = responder.snapshotKeys();
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(await snapshots.exists(k)).toBe(true); // written once, in the background
      // Another process, once the responder no longer holds the bytes: from the snapshots store.
      responder.dropSnapshotMemory();
      const other = newReader();
      const stored = await other.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'split' });
      expect(other.lastSource).toBe('store');
      expect(Array.from(stored.bars.close)).toEqual(Array.from(fresh.bars.close));
    });

    it('a warm read of another reader is answered from the responder window cache and that reader’s disk', async () => {
      const r1 = newReader();
      await r1.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core' });
      expect(['service', 'store']).toContain(r1.lastSource);
      const notModified = responder.stats.notModified;
      const computed = responder.stats.computed;
      const cached = responder.stats.cached;
      await r1.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core' });
      expect(r1.lastSource).toBe('memory');
      r1.cache.clearMemory();
      await r1.cache.flush();
      await r1.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core' });
      expect(r1.lastSource).toBe('disk');
      expect(responder.stats.computed).toBe(computed);
      expect(responder.stats.cached).toBe(cached + 2);
      expect(responder.stats.notModified).toBe(notModified + 1); // the memory hit cost an empty reply
    });

    it('detects a corrupted cached snapshot, deletes it and fetches the snapshot again', async () => {
      const r1 = newReader();
      const good = await r1.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'total' });
      await r1.cache.flush();
      expect(r1.cache.stats.service + r1.cache.stats.store).toBe(1);
      const key = (await import('node:fs')).readdirSync(dirs[dirs.length - 1]).find((f) => f.endsWith('.arrow'))!;
      const path = join(dirs[dirs.length - 1], key);
      const bytes = readFileSync(path);
      bytes[bytes.length >> 1] ^= 0xff; // flip a byte in the middle of a price column
      writeFileSync(path, bytes);
      r1.cache.clearMemory();
      const again = await r1.getBars({ symbol: 'AAPL', timeframe: '1d', adjust: 'total' });
      expect(r1.cache.stats.corrupt).toBe(1);
      expect(['service', 'store']).toContain(r1.lastSource);
      await r1.cache.flush();
      expect(Array.from(again.bars.close)).toEqual(Array.from(good.bars.close));
      expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(key.replace(/\.arrow$/, ''));
    });

    it('publishes marketdata.evt.snapshot.published.v1 naming the new snapshot after a write to the series', async () => {
      // The conformance suite corrected AAPL's last bar and planted a flag after reading full windows.
      const deadline = Date.now() + 5000;
      while (!published.some((e) => e.symbol === 'AAPL' && e.what === 'bars') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const e = published.find((x) => x.symbol === 'AAPL' && x.what === 'bars')!;
      expect(e).toBeDefined();
      expect(e.key).toBe(`sha256/${e.sha256.slice(0, 2)}/${e.sha256}.arrow`);
      expect(await snapshots.exists(e.key)).toBe(true);
      expect(e.rows).toBe(5849);
    });

    it('rejects an invalid request with invalid_payload (validated before it is sent)', async () => {
      await expect(
        reader.getFeatures({ symbol: 'AAPL', timeframe: '1d', set: 'core', asOf: Float64Array.of(1), limit: 5 }),
      ).rejects.toMatchObject({ code: 'invalid_payload' });
    });

    it('a marketdata service that is down answers no_responders; one that is silent, timeout', async () => {
      const down = newReader({ subjectPrefix: `${prefix}-nobody` });
      const err = await down.getBars({ symbol: 'AAPL', timeframe: '1d' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusError);
      expect((err as BusError).code).toBe('no_responders');
      const silentPrefix = `${prefix}-silent`;
      const sub = nc.subscribe(`${silentPrefix}.marketdata.cmd.read.bars.v1`, { callback: () => undefined });
      await nc.flush();
      const silent = newReader({ subjectPrefix: silentPrefix, timeoutMs: 200 });
      const t0 = Date.now();
      const err2 = await silent.getBars({ symbol: 'AAPL', timeframe: '1d' }).catch((e: unknown) => e);
      expect((err2 as BusError).code).toBe('timeout');
      expect(Date.now() - t0).toBeLessThan(2000);
      sub.unsubscribe();
    });
  });
});
