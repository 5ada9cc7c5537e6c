import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import {
  BacktestRunCompletedV1,
  ExecutionSettingsSchema,
  RunBacktestCommandV1,
  type BacktestRunSpec,
} from '@strata/backtests-contracts';
import { type PayloadOf } from '@strata/platform-contracts';
import { instantiateTemplate, STRATEGY_TEMPLATES } from '@strata/backtests-domain';
import { definitionHash } from './strategies.service';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { JetStreamEventBus } from '@strata/platform-bus';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { uuidv7 } from '@strata/shared-util';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { mongoTarget, natsTarget, uniqueName } from '../../../../test/infra';
import { ArtifactBacktestSeriesStore } from './artifact-backtest-series.store';
import { BacktestRunsRepository } from './backtest-runs.repository';

const nats = natsTarget();
const mongo = mongoTarget();
const describeIf = nats.url && mongo.url ? describe : describe.skip;

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..', '..', '..');
const SCRIPT = join(__dirname, 'testing', 'backtest-worker.process.ts');

/** A worker process; `events` collects its JSON stdout lines. */
function spawnWorker(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  events: Array<Record<string, unknown>>;
  waitFor: (event: string) => Promise<Record<string, unknown>>;
} {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  const events: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      events.push(JSON.parse(l) as Record<string, unknown>);
      waiters.splice(0).forEach((w) => w());
    } catch {
      /* not ours */
    }
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const waitFor = (event: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`worker ${env.WORKER_ID}: no ${event} within 90 s; stderr: ${stderr.slice(-2000)}`)),
        90_000,
      );
      const check = () => {
        const e = events.find((x) => x.event === event);
        if (e) {
          clearTimeout(deadline);
          resolve(e);
        } else waiters.push(check);
      };
      check();
    });
  return { child, events, waitFor };
}

describeIf('backtest workers as processes on JetStream + MongoDB: one is killed mid-run (SIGKILL)', () => {
  const prefix =
    uniqueName('BT')
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, '_') + '_';
  const dbName = uniqueName('strata_bt');
  const bucket = uniqueName('bt-artifacts').replace(/_/g, '-');
  let artifacts: ObjectStoreArtifactStore;
  let bus: JetStreamEventBus;
  let store: MongoDocumentStore;
  let runs: BacktestRunsRepository;
  const completed: PayloadOf<typeof BacktestRunCompletedV1>[] = [];
  const children: ChildProcessWithoutNullStreams[] = [];

  beforeAll(async () => {
    bus = await JetStreamEventBus.connect({ servers: nats.url!, service: 'bt-int-test', streamPrefix: prefix });
    store = await MongoDocumentStore.connect({ uri: mongo.url!, dbName, logger: { warn: () => undefined } });
    artifacts = await ObjectStoreArtifactStore.open(bus.connection(), { bucket });
    runs = new BacktestRunsRepository(store);
    await bus.subscribe(BacktestRunCompletedV1, (e) => void completed.push(e), { consumer: 'bt_int_test_completed' });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await artifacts?.destroy().catch(() => undefined);
    await bus?.close();
    await store?.connection.dropDatabase();
    await store?.close();
    // The test's streams (backtest domain and its dead letters) go away with it.
    const nc = await connect({ servers: nats.url! });
    const jsm = await jetstreamManager(nc);
    for (const s of [`${prefix}BACKTEST`, `${prefix}DLQ_BACKTEST`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
  });

  it('the run is taken over by the surviving worker and completes exactly once', async () => {
    const env = {
      NATS_URL: nats.url!,
      MONGODB_URI: mongo.url!,
      STORE_DB: dbName,
      STREAM_PREFIX: prefix,
      ARTIFACTS_BUCKET: bucket,
    };
    const a = spawnWorker({ ...env, WORKER_ID: 'A', HANG: '1' });
    children.push(a.child);
    await a.waitFor('ready');

    const definition = instantiateTemplate(STRATEGY_TEMPLATES[0], { symbols: ['SPY'] });
    definition.universe.adjust = 'raw';
    const spec: BacktestRunSpec = {
      strategy: null,
      definition,
      definitionHash: definitionHash(definition),
      params: definition.params,
      from: null,
      to: null,
      initialCapital: 100_000,
      execution: ExecutionSettingsSchema.parse({ commission: { bps: 1, fixed: 1 } }),
      riskFreeRate: 0,
      lookAheadCheck: { enabled: true, samples: 4 },
      qualityFilter: 'include',
    };
    const runId = uuidv7();
    await bus.publish(RunBacktestCommandV1, { runId, spec, requestedAt: new Date().toISOString() }, { id: runId });

    // A claims the run, simulates a slice, freezes; then the process is killed outright.
    await a.waitFor('hung');
    const claimed = await runs.get(runId);
    expect(claimed).toMatchObject({ status: 'running', attempts: 1, claim: { workerId: 'A' } });
    a.child.kill('SIGKILL');

    const b = spawnWorker({ ...env, WORKER_ID: 'B' });
    children.push(b.child);
    await b.waitFor('ready');
    const deadline = Date.now() + 120_000;
    let doc = await runs.get(runId);
    while (doc?.status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      doc = await runs.get(runId);
    }
    expect(doc).toMatchObject({
      status: 'completed',
      claim: null,
      error: null,
      result: { resultSchemaVersion: 1, lookAhead: { passed: true } },
    });
    expect(doc!.attempts).toBeGreaterThanOrEqual(2);
    // The series are in the shared stores (Object Store blob + document): readable here, only the winning attempt's.
    const series = new ArtifactBacktestSeriesStore(artifacts, store);
    const rows = await series.count(runId);
    expect(rows).toEqual(await series.count(runId, doc!.seriesAttempt!));
    expect(rows.equity).toBe(doc!.result!.periods + 1);
    const page = await series.readEquity({ runId, attempt: doc!.seriesAttempt!, limit: 5 });
    expect(page.map((p) => p.seq)).toEqual([0, 1, 2, 3, 4]);

    // Let redeliveries of the killed worker's delivery arrive: they find the run completed.
    await new Promise((r) => setTimeout(r, 5_000));
    const settled = (await runs.get(runId))!;
    expect(settled).toMatchObject({ status: 'completed', finalEventPublished: true, result: doc!.result });
    await bus.publish(RunBacktestCommandV1, { runId, spec, requestedAt: doc!.createdAt });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(completed.filter((e) => e.runId === runId)).toHaveLength(1);
    expect((await runs.get(runId))!._version).toBe(settled._version);
    b.child.kill('SIGTERM');
  });
});
