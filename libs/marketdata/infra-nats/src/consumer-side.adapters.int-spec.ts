/**
 * The consumer-side adapters on real NATS: the features service of another process (signals training) running
 * unchanged over `ReadOnlyFeatureStore` + `NatsMarketDataReader` builds the same training dataset as the in-process
 * one; its writes are refused. The sentinel's `BusBarQualityFlagsStore` sends flags and status changes as commands,
 * applied by the marketdata service's `QualityFlagsCommandsController` (bus transport) to the DuckDB flags store,
 * idempotently, and reads them back through the reader.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { Module, type INestMicroservice } from '@nestjs/common';
import { FeaturesService } from '@strata/features-feature';
import { QualityFlagsCommandsModule } from '@strata/marketdata-feature';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { createBusMicroservice } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsTarget, uniqueName } from '../../../../test/infra';
import {
  BARS_OWNED,
  BusBarQualityFlagsStore,
  FEATURE_TABLES_OWNED,
  ReadOnlyBarsRepository,
  ReadOnlyFeatureStore,
} from './consumer-side.adapters';
import { MarketDataReadResponder } from './market-data-read.responder';
import { NatsMarketDataReader } from './nats-market-data.reader';
import { openMarketDataFixture, sampleBars, type MarketDataFixture } from './testing';

jest.setTimeout(120_000);

const nats = natsTarget();

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

nats.describeIf('consumer-side adapters over the bus reader (real NATS)', () => {
  let nc: NatsConnection;
  let snapshots: ObjectStoreArtifactStore;
  let fixture: MarketDataFixture;
  let responder: MarketDataReadResponder;
  let reader: NatsMarketDataReader;
  let worker: INestMicroservice;
  let cacheDir: string;
  const prefix = uniqueName('rpc_cons').replace(/_/g, '-');
  const raw = sampleBars('AAPL');

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    snapshots = await ObjectStoreArtifactStore.open(nc, { bucket: uniqueName('snapshots-cons').replace(/_/g, '-') });
    fixture = await openMarketDataFixture();
    responder = new MarketDataReadResponder({
      connection: nc,
      reader: fixture.reader,
      snapshots,
      tracker: fixture.tracker,
      queue: prefix,
      subjectPrefix: prefix,
    });
    await responder.start();
    cacheDir = mkdtempSync(join(tmpdir(), 'strata-snapcache-'));
    reader = new NatsMarketDataReader({ connection: nc, snapshots, cacheDir, subjectPrefix: prefix });
    @Module({ imports: [QualityFlagsCommandsModule.register(fixture.flags)] })
    class MarketDataWorkers {}
    worker = await createBusMicroservice(MarketDataWorkers, {
      bus: fixture.bus,
      service: 'marketdata',
      logger: false,
    });
  });

  afterAll(async () => {
    await worker?.close();
    await responder?.stop();
    await snapshots?.destroy();
    await fixture?.close();
    await nc?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('FeaturesService over ReadOnlyFeatureStore + the bus reader builds the in-process training dataset', async () => {
    const remote = new FeaturesService(
      new ReadOnlyFeatureStore(reader),
      reader,
      new BusBarQualityFlagsStore(reader, fixture.bus),
    );
    const local = new FeaturesService(fixture.features, fixture.reader, fixture.flags);
    const split = raw.ts[4000];
    const req = {
      set: 'core',
      symbol: 'AAPL',
      timeframe: '1d' as const,
      segments: [
        { name: 'train', from: raw.ts[0], to: split },
        { name: 'test', from: split, to: raw.ts[raw.length - 1] + 1 },
      ],
      options: { horizon: 5, embargo: 10 },
      qualityFilter: 'exclude' as const,
    };
    const [a, b] = [await remote.buildTrainingDataset(req), await local.buildTrainingDataset(req)];
    expect(a.definition).toEqual(b.definition);
    expect(a.dropped).toEqual(b.dropped);
    expect(a.dropped.qualityFlagged).toBeGreaterThan(0);
    expect(a.parts.map((p) => p.index.length)).toEqual(b.parts.map((p) => p.index.length));
    expect(Array.from(a.parts[1].y)).toEqual(Array.from(b.parts[1].y));
    expect((await remote.listSets()).map((s) => s.name)).toEqual(['core']);
    const asOf = await remote.asOf({
      set: 'core',
      symbol: 'AAPL',
      timeframe: '1d',
      eventTimes: Float64Array.of(split),
    });
    expect(asOf.ts[0]).toBe(raw.ts[3999]);
  });

  it('ReadOnlyBarsRepository (the sentinel’s bars) reads raw windows, empty for an unknown series, and refuses commits', async () => {
    const repo = new ReadOnlyBarsRepository(reader);
    const w = await repo.read({ symbol: 'AAPL', timeframe: '1d', after: raw.ts[99], limit: 50 });
    expect(Array.from(w.ts)).toEqual(Array.from(raw.ts.slice(100, 150)));
    expect(Array.from(w.close)).toEqual(Array.from(raw.close.slice(100, 150)));
    expect((await repo.read({ symbol: 'NOPE', timeframe: '1d' })).length).toBe(0);
    expect(await repo.listCorrections({ symbol: 'AAPL', timeframe: '1d', limit: 5 })).toEqual([]);
    await expect(repo.commit()).rejects.toThrow(BARS_OWNED);
  });

  it('refuses writes to the feature tables from other processes', async () => {
    const store = new ReadOnlyFeatureStore(reader);
    await expect(store.writeTail({} as never)).rejects.toThrow(FEATURE_TABLES_OWNED);
    await expect(store.register({} as never)).rejects.toThrow(FEATURE_TABLES_OWNED);
  });

  it('the sentinel’s flags travel as commands, are applied once by the marketdata service, and read back', async () => {
    const flags = new BusBarQualityFlagsStore(reader, fixture.bus);
    const flag = {
      symbol: 'AAPL',
      timeframe: '1d' as const,
      ts: raw.ts[5000],
      kind: 'spike' as const,
      eventId: 'ev-cmd',
      severity: 'HIGH' as const,
      status: 'open' as const,
    };
    await flags.upsert([flag]);
    await flags.upsert([flag]); // redelivered / repeated: idempotent
    await until(async () =>
      (await flags.read({ symbol: 'AAPL', timeframe: '1d' })).some((f) => f.eventId === 'ev-cmd'),
    );
    const stored = (await fixture.flags.read({ symbol: 'AAPL', timeframe: '1d' })).filter(
      (f) => f.eventId === 'ev-cmd',
    );
    expect(stored).toEqual([flag]);
    await flags.setStatus('ev-cmd', 'resolved');
    await until(async () =>
      (await flags.read({ symbol: 'AAPL', timeframe: '1d', statuses: ['resolved'] })).some(
        (f) => f.eventId === 'ev-cmd',
      ),
    );
    expect(await flags.read({ symbol: 'NOPE', timeframe: '1d' })).toEqual([]);
  });
});
