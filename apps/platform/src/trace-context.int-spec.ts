/**
 * W3C trace context across the split deployment on a real nats-server, with tracing export off (no OpenTelemetry
 * SDK): an HTTP request with a traceparent goes through the gateway, is forwarded over NATS (HTTP over the bus) to the
 * marketdata owner, whose ingest command and bars.ingested event, read back by a third JetStream connection, carry the
 * caller's trace id. A request without one gets a trace started by the gateway, shared by everything it causes.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { trace } from '@opentelemetry/api';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { ingestionService, InMemoryIngestionLog } from '@strata/marketdata-feature';
import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import { type EventBus } from '@strata/platform-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { serviceConfigShape } from '@strata/shared-util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { natsTarget, uniqueName } from '../../../test/infra';
import { ingestTwoBars } from './testing/trace-ingest';

const nats = natsTarget();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const traceId = (tp: string | undefined): string | undefined => (tp ? TRACEPARENT.exec(tp)?.[1] : undefined);

nats.describeIf('trace context through the gateway, HTTP over NATS and JetStream (tracing export off)', () => {
  jest.setTimeout(120_000);
  const url = nats.url!;
  const prefix = `${uniqueName('TRC').toUpperCase()}_`;
  const namespace = `${uniqueName('trc').replace(/_/g, '')}.`;
  const buses: EventBus[] = [];
  let owner: ServiceApp;
  let gateway: ServiceApp;
  let dir: string;
  const seen: { symbol: string; traceparent: string | undefined }[] = [];

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
    dir = mkdtempSync(join(tmpdir(), 'strata-trc-'));
    const logger = createLogger({ service: 'int', level: 'silent' });
    const config = z.object(serviceConfigShape).parse({ STRATA_DATA_DIR: dir, LOG_LEVEL: 'silent' });
    const staging = new LocalDirectoryArtifactStore(join(dir, 'staging'));
    owner = await startServiceApp({
      name: 'marketdata',
      config,
      logger,
      bus: await open('marketdata'),
      embeddedStore: { file: 'marketdata.duckdb' },
      http: { name: 'marketdata', kind: 'service', busNamespace: namespace },
      staging: () => staging,
      services: () => [
        serviceRun(ingestionService, {
          api: true,
          workers: 'all',
          adapters: { ingestionLog: new InMemoryIngestionLog(), staging },
        }),
      ],
    });
    gateway = await startServiceApp({
      name: 'gateway',
      config,
      logger,
      bus: await open('gateway'),
      embeddedStore: { file: 'gateway.duckdb' },
      http: {
        name: 'gateway',
        kind: 'api',
        busNamespace: namespace,
        apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: 'operator-key-0001' }]),
        gateway: { asyncApi: () => ({}), forward: { routes: [{ prefix: '/market-data', service: 'marketdata' }] } },
      },
      staging: () => staging,
      services: () => [],
    });
    const downstream = await open('downstream');
    await downstream.subscribe(
      BarsIngestedV1,
      (d, ctx) => void seen.push({ symbol: d.symbol, traceparent: ctx.headers.traceparent }),
      { consumer: 'downstream__bars', deliverFrom: 'all' },
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await owner?.close();
    for (const b of buses) await b.close();
    const nc = await connect({ servers: url });
    const jsm = await jetstreamManager(nc);
    for (const name of [`${prefix}MARKETDATA`, `${prefix}DLQ_MARKETDATA`])
      await jsm.streams.delete(name).catch(() => false);
    await nc.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ingest = (symbol: string, headers: Record<string, string> = {}) =>
    ingestTwoBars((r) => gateway.http.inject(r), symbol, headers);

  const eventOf = async (symbol: string) => {
    const end = Date.now() + 30_000;
    while (!seen.some((s) => s.symbol === symbol) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return seen.find((s) => s.symbol === symbol);
  };

  it('carries the caller trace id from the HTTP request to the JetStream event it caused', async () => {
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false); // export off
    const callerTrace = '0af7651916cd43dd8448eb211c80319c';
    const r = await ingest('TRCNATS', { traceparent: `00-${callerTrace}-b7ad6b7169203331-01` });
    expect(r.statusCode).toBe(201);
    const ev = await eventOf('TRCNATS');
    expect(traceId(ev?.traceparent)).toBe(callerTrace);
  });

  it('starts a trace at the gateway when the caller sends none; the event carries it', async () => {
    const r = await ingest('TRCSTART');
    expect(r.statusCode).toBe(201);
    const ev = await eventOf('TRCSTART');
    expect(ev?.traceparent).toMatch(TRACEPARENT);
    expect(traceId(ev?.traceparent)).not.toBe('0af7651916cd43dd8448eb211c80319c');
  });
});
