/**
 * The standalone deployment shape against a real nats-server: the gateway and the ingestion service on their own
 * JetStream connections (as separate processes would be), a third connection subscribing to bars.ingested.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { type EventBus } from '@strata/platform-contracts';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { IngestionModule, ingestionService, InMemoryIngestionLog } from '@strata/marketdata-feature';
import { serviceConfigShape } from '@strata/shared-util';
import { z } from 'zod';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { BusModule, BusTransport, JetStreamEventBus } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsTarget, uniqueName } from '../../../test/infra';

const nats = natsTarget();

nats.describeIf('gateway and ingestion as separate services over JetStream', () => {
  const url = nats.url!;
  const prefix = `${uniqueName('E2E').toUpperCase()}_`;
  const buses: EventBus[] = [];
  let gatewayApp: ServiceApp;
  let gateway: NestFastifyApplication;
  let ingestion: INestMicroservice;
  let dir: string;
  const events: string[] = [];

  const open = async (service: string) => {
    const b = await JetStreamEventBus.connect({
      servers: url,
      service,
      streamPrefix: prefix,
      storage: 'memory',
      closeTimeoutMs: 3000,
    });
    buses.push(b);
    return b;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-int-'));
    const logger = createLogger({ service: 'int', level: 'silent' });
    const ingestionBus = await open('ingestion');
    @Module({
      imports: [
        BusModule.forRoot(ingestionBus, { closeOnShutdown: false }),
        IngestionModule.register({
          ingestionLog: new InMemoryIngestionLog(),
          allowedFileRoots: [join(dir, 'uploads')],
          staging: new LocalDirectoryArtifactStore(join(dir, 'staging')),
        }),
      ],
    })
    class IngestionServiceModule {}
    ingestion = await NestFactory.createMicroservice(IngestionServiceModule, {
      strategy: new BusTransport(ingestionBus, { service: 'ingestion' }),
      logger: false,
    });
    await ingestion.listen();
    gatewayApp = await startServiceApp({
      name: 'gateway',
      // STRATA_INLINE_MAX_BYTES 64: force the staged path (the staging store under <dir>/staging) for anything but tiny CSVs.
      config: z
        .object(serviceConfigShape)
        .parse({ STRATA_DATA_DIR: dir, LOG_LEVEL: 'silent', STRATA_INLINE_MAX_BYTES: '64' }),
      logger,
      bus: await open('gateway'),
      embeddedStore: { file: 'strata-gateway.duckdb' },
      http: {
        name: 'gateway',
        kind: 'api',
        apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: 'operator-key-0001' }]),
      },
      services: () => [
        serviceRun(ingestionService, {
          api: true,
          adapters: {
            ingestionLog: new InMemoryIngestionLog(),
            staging: new LocalDirectoryArtifactStore(join(dir, 'staging')),
          },
        }),
      ],
    });
    gateway = gatewayApp.http;
    const subscriber = await open('downstream');
    await subscriber.subscribe(BarsIngestedV1, (d) => void events.push(d.ingestionId), {
      consumer: 'downstream__bars',
      deliverFrom: 'all',
    });
  }, 30_000);

  afterAll(async () => {
    await gatewayApp?.close();
    await ingestion?.close();
    for (const b of buses) await b.close();
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc);
    for (const name of [`${prefix}MARKETDATA`, `${prefix}DLQ_MARKETDATA`])
      await jsm.streams.delete(name).catch(() => false);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ingests over NATS (inline and staged), publishes once, answers duplicate the second time', async () => {
    const csv =
      'timestamp,open,high,low,close,volume\n2024-01-02T14:00:00Z,10,11,9,10.5,100\n2024-01-02T15:00:00Z,10.5,12,10,11,200\n';
    const post = () =>
      gateway.inject({
        method: 'POST',
        url: '/market-data/ingest',
        headers: { 'x-api-key': 'operator-key-0001' },
        payload: { symbol: 'NATS', timeframe: '1h', csv },
      });
    const first = await post();
    expect(first.statusCode).toBe(201);
    const id = first.json().id;
    const end = Date.now() + 5000;
    while (!events.includes(id) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([id]);
    const second = await post();
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ status: 'duplicate', duplicateOf: id });
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([id]);
  }, 20_000);
});
