/**
 * Large uploads through the bus path of the split deployment, on a real nats-server: the HTTP side (POST
 * /market-data/ingest) and the ingest worker in separate bus contexts on their own JetStream connections, the staging
 * store an Object Store bucket. CSVs of 1, 10 and 100 MB built at test time from real hourly SPY bars (repeated with
 * whole-week timestamp shifts, so rows stay strictly increasing and weekdays keep their sessions); every bar must be
 * readable from the bars store afterwards. A message still too large for the server answers 413, not 503.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IngestionModule, ingestionService, InMemoryIngestionLog } from '@strata/marketdata-feature';
import { DuckDbBarsRepository, DuckDbParquetBarsReader } from '@strata/marketdata-infra-duckdb';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { BusModule, BusTransport, JetStreamEventBus } from '@strata/platform-bus';
import { artifactKey, type EventBus } from '@strata/platform-contracts';
import { openDuckDb, type DuckDb } from '@strata/platform-duckdb';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { serviceRun, startServiceApp, type ServiceApp } from '@strata/platform-service-kit';
import { serviceConfigShape } from '@strata/shared-util';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { natsTarget, uniqueName } from '../../../test/infra';

const nats = natsTarget();
const MB = 1024 * 1024;
const WEEK_MS = 7 * 86_400_000;
const OPERATOR = 'operator-key-0001';

/** The shared market data beside the checkout (`../shared/data/market`), wherever the clone sits; else the workspace copy. */
const SPY_1H =
  [resolve(__dirname, '../../../../shared/data/market'), '/work/shared/data/market']
    .map((d) => join(d, 'SPY_1h.csv'))
    .find((f) => existsSync(f)) ?? resolve(__dirname, '../../../../shared/data/market/SPY_1h.csv');

/** Real hourly SPY bars: ISO timestamps (ms) and the rest of each line (`,open,high,low,close,volume`). */
function spyHourly(): { ts: number[]; rest: string[] } {
  const lines = readFileSync(SPY_1H, 'utf8').trim().split('\n').slice(1);
  return {
    ts: lines.map((l) => Date.parse(l.slice(0, l.indexOf(',')))),
    rest: lines.map((l) => l.slice(l.indexOf(','))),
  };
}

/**
 * A CSV of at least `bytes` bytes: the SPY series repeated, each copy shifted by the series' span rounded up to whole
 * weeks (plus `offsetWeeks`), so timestamps strictly increase. Returns the text and its number of bars.
 */
function buildCsv(src: { ts: number[]; rest: string[] }, bytes: number, offsetWeeks: number) {
  const span = Math.ceil((src.ts[src.ts.length - 1] - src.ts[0] + WEEK_MS) / WEEK_MS) * WEEK_MS;
  const header = 'timestamp,open,high,low,close,volume';
  const out: string[] = [header];
  let size = header.length + 1;
  let last = -Infinity;
  for (let copy = 0; size < bytes; copy++) {
    const shift = copy * span + offsetWeeks * WEEK_MS;
    for (let i = 0; i < src.ts.length && size < bytes; i++) {
      const t = src.ts[i] + shift;
      if (t <= last) throw new Error('timestamps must strictly increase');
      last = t;
      const line = new Date(t).toISOString().replace('.000Z', 'Z') + src.rest[i];
      out.push(line);
      size += line.length + 1;
    }
  }
  return { text: out.join('\n') + '\n', bars: out.length - 1 };
}

/** A multipart/form-data body with `symbol`, `timeframe` and the `file` part. */
function multipart(fields: Record<string, string>, filename: string, file: Uint8Array, type = 'text/csv') {
  const boundary = `----strata${Date.now().toString(16)}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    Buffer.from(file.buffer, file.byteOffset, file.byteLength),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

nats.describeIf('large uploads over JetStream: staged in the Object Store, never inside a message', () => {
  const url = nats.url!;
  const prefix = `${uniqueName('BIG').toUpperCase()}_`;
  const buses: EventBus[] = [];
  const apps: ServiceApp[] = [];
  let nc: NatsConnection;
  let staging: ObjectStoreArtifactStore;
  let worker: INestMicroservice;
  let http: NestFastifyApplication;
  let db: DuckDb;
  let bars: DuckDbBarsRepository;
  let dir: string;
  const logger = createLogger({ service: 'int', level: 'silent' });

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

  /** An HTTP app serving POST /market-data/ingest on its own bus connection, with this inline limit. */
  const httpApp = async (inlineMaxBytes: number): Promise<NestFastifyApplication> => {
    const app = await startServiceApp({
      name: 'gateway',
      config: z.object(serviceConfigShape).parse({
        STRATA_DATA_DIR: dir,
        LOG_LEVEL: 'silent',
        STRATA_INLINE_MAX_BYTES: String(inlineMaxBytes),
      }),
      logger,
      bus: await open('gateway'),
      embeddedStore: { file: `strata-gateway-${apps.length}.duckdb` },
      http: { name: 'gateway', kind: 'api', apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: OPERATOR }]) },
      services: () => [
        serviceRun(ingestionService, { api: true, adapters: { ingestionLog: new InMemoryIngestionLog(), staging } }),
      ],
    });
    apps.push(app);
    return app.http;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-big-'));
    nc = await connect({ servers: url });
    staging = await ObjectStoreArtifactStore.open(nc, {
      bucket: uniqueName('strata-staging').replace(/_/g, '-'),
      ttlMs: 10 * 60_000,
    });
    db = await openDuckDb(join(dir, 'marketdata.duckdb'));
    bars = new DuckDbBarsRepository(db);
    const workerBus = await open('marketdata');
    @Module({
      imports: [
        BusModule.forRoot(workerBus, { closeOnShutdown: false }),
        IngestionModule.register({
          ingestionLog: new InMemoryIngestionLog(),
          allowedFileRoots: [],
          staging,
          bars,
          fileReader: new DuckDbParquetBarsReader(db),
        }),
      ],
    })
    class IngestWorkerModule {}
    worker = await NestFactory.createMicroservice(IngestWorkerModule, {
      strategy: new BusTransport(workerBus, { service: 'marketdata' }),
      logger: false,
    });
    await worker.listen();
    http = await httpApp(serviceConfigShape.STRATA_INLINE_MAX_BYTES.parse(undefined));
  }, 60_000);

  afterAll(async () => {
    for (const a of apps) await a.close();
    await worker?.close();
    for (const b of buses) await b.close();
    await staging?.destroy().catch(() => undefined);
    const jsm = await jetstreamManager(nc);
    for (const name of [`${prefix}MARKETDATA`, `${prefix}DLQ_MARKETDATA`])
      await jsm.streams.delete(name).catch(() => false);
    await nc?.close();
    await db?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const src = spyHourly();

  it.each([
    [1, 0],
    [10, 1],
    [100, 2],
  ])(
    'ingests a %i MB CSV: staged, every bar readable afterwards, staging emptied',
    async (mb, offsetWeeks) => {
      const symbol = `BIG${mb}`;
      const { text, bars: expected } = buildCsv(src, mb * MB, offsetWeeks);
      const file = join(dir, `${symbol}.csv`);
      writeFileSync(file, text);
      const bytes = readFileSync(file);
      expect(bytes.length).toBeGreaterThanOrEqual(mb * MB);
      const form = multipart({ symbol, timeframe: '1h' }, `${symbol}.csv`, bytes);
      const t0 = Date.now();
      const res = await http.inject({
        method: 'POST',
        url: '/market-data/ingest',
        headers: { 'x-api-key': OPERATOR, 'content-type': form.contentType },
        payload: form.payload,
      });
      const ms = Date.now() - t0;
      expect({ status: res.statusCode, body: res.statusCode === 201 ? '' : res.body }).toEqual({
        status: 201,
        body: '',
      });
      const result = res.json();
      expect(result).toMatchObject({ status: 'completed', accepted: expected, rejected: 0 });
      const stored = await bars.read({ symbol, timeframe: '1h' });
      expect(stored.length).toBe(expected);
      const firstTs = Date.parse(text.slice(text.indexOf('\n') + 1, text.indexOf(',', text.indexOf('\n'))));
      expect(stored.ts[0]).toBe(firstTs);
      // The staged object is removed once the worker answered.
      expect(await staging.exists(artifactKey(createHash('sha256').update(bytes).digest('hex'), '.csv'))).toBe(false);
      process.stdout.write(
        `${JSON.stringify({ bench: 'ingest-staged-csv', mb, bars: expected, ms, barsPerSec: Math.round((expected / ms) * 1000) })}\n`,
      );
    },
    90_000,
  );

  it('ingests a staged Parquet upload (always staged, read by DuckDB from a temporary file)', async () => {
    const { text, bars: expected } = buildCsv(src, MB, 3);
    const csvPath = join(dir, 'pq.csv');
    const pqPath = join(dir, 'pq.parquet');
    writeFileSync(csvPath, text);
    await db.run(`COPY (SELECT * FROM read_csv('${csvPath}', header = true)) TO '${pqPath}' (FORMAT parquet)`);
    const form = multipart(
      { symbol: 'BIGPQ', timeframe: '1h' },
      'bars.parquet',
      readFileSync(pqPath),
      'application/vnd.apache.parquet',
    );
    const res = await http.inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': OPERATOR, 'content-type': form.contentType },
      payload: form.payload,
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ status: 'completed', accepted: expected, rejected: 0 });
    expect((await bars.read({ symbol: 'BIGPQ', timeframe: '1h' })).length).toBe(expected);
  }, 60_000);

  it('answers 413 problem+json naming the limit when a message is still too large (inline limit above max payload)', async () => {
    const maxPayload = nc.info!.max_payload;
    const loose = await httpApp(maxPayload * 4);
    const { text } = buildCsv(src, maxPayload + 64 * 1024, 4);
    const res = await loose.inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': OPERATOR, 'content-type': 'application/json' },
      payload: { symbol: 'TOOBIG', timeframe: '1h', csv: text },
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    const problem = res.json();
    expect(problem.status).toBe(413);
    expect(problem.limitBytes).toBe(maxPayload);
    expect(problem.bytes).toBeGreaterThan(maxPayload);
    expect(problem.detail).toContain(String(maxPayload));
    expect((await bars.read({ symbol: 'TOOBIG', timeframe: '1h' })).length).toBe(0);
  }, 30_000);
});
