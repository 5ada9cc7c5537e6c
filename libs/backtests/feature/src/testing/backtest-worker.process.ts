/*
 * A backtest worker as its own OS process, for the crash integration test (backtest-worker.int-spec.ts): JetStream
 * bus, MongoDB-compatible document store, series in an Object Store bucket shared by the workers (ARTIFACTS_BUCKET)
 * and the document store, bars from the bundled sample CSVs.
 *
 * Env: NATS_URL, MONGODB_URI, STORE_DB, STREAM_PREFIX, ARTIFACTS_BUCKET, WORKER_ID, HANG=1 (stop after the first simulated slice, as
 * if the process froze; the test then kills it with SIGKILL). Prints one JSON line per event on stdout:
 * {"event":"ready"} once subscribed, {"event":"hung","runId":…} when frozen.
 */
import { Logger } from '@nestjs/common';
import { type Adjustment, type Timeframe } from '@strata/marketdata-contracts';
import { type SymbolBars } from '@strata/backtests-domain';
import { readBarsCsv } from '@strata/marketdata-domain';
import { JetStreamEventBus } from '@strata/platform-bus';
import { ObjectStoreArtifactStore } from '@strata/platform-artifacts';
import { MongoDocumentStore } from '@strata/platform-document-store';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactBacktestSeriesStore } from '../artifact-backtest-series.store';
import { BacktestRunsRepository } from '../backtest-runs.repository';
import { BacktestWorker } from '../backtest-worker';
import { startBacktestWorker } from './backtests-test-app';

const SAMPLE = join(__dirname, '..', '..', '..', '..', '..', 'data', 'sample');
const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const env = process.env;
  const bus = await JetStreamEventBus.connect({
    servers: env.NATS_URL!,
    service: `worker-${env.WORKER_ID}`,
    streamPrefix: env.STREAM_PREFIX,
  });
  const store = await MongoDocumentStore.connect({
    uri: env.MONGODB_URI!,
    dbName: env.STORE_DB,
    logger: { warn: () => undefined },
  });
  const artifacts = await ObjectStoreArtifactStore.open(bus.connection(), {
    bucket:
      env.ARTIFACTS_BUCKET ?? `${(env.STREAM_PREFIX ?? 'strata').toLowerCase().replace(/[^a-z0-9-]/g, '-')}artifacts`,
  });
  const marketData = {
    async bars(req: { symbol: string; timeframe: Timeframe; adjust: Adjustment }): Promise<SymbolBars | null> {
      const b = readBarsCsv(readFileSync(join(SAMPLE, `${req.symbol}_${req.timeframe}.csv`)), {
        timeframe: req.timeframe,
      }).bars;
      return { symbol: req.symbol, ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume };
    },
  };
  const worker = new BacktestWorker(
    new BacktestRunsRepository(store),
    marketData,
    new ArtifactBacktestSeriesStore(artifacts, store),
    bus,
    {
      workerId: env.WORKER_ID,
      leaseMs: 1_500,
      heartbeatMs: 200,
      sliceSteps: 300,
      ackWaitMs: 3_000,
      backoffMs: [200, 500],
      maxDeliver: 50,
      sweepIntervalMs: 500,
      afterSlice:
        env.HANG === '1' ? (runId) => (say({ event: 'hung', runId }), new Promise<void>(() => undefined)) : undefined,
    },
  );
  const runner = await startBacktestWorker(worker, bus);
  say({ event: 'ready' });
  process.on('SIGTERM', () => {
    void (async () => {
      await runner.close();
      await bus.close();
      await store.close();
      process.exit(0);
    })();
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
