/*
 * Latency from the `marketdata.evt.bars.ingested.v1` event to the stored DataQualityEvent, end to end in the
 * all-in-one platform (in-process bus, embedded DuckDB, temp data dir): a real SPY slice (2015–2016) is ingested as
 * history, then SENTINEL_E2E_BATCHES small batches (default 40) follow one after the other through REST, each with six
 * new bars: four ordinary ones (±0.3 %), a planted bad tick (close +40 %) and the bar that reverts it. For each batch the clock runs
 * from the bars.ingested envelope's `occurredAt` to the moment `dataquality.evt.anomaly.detected.v1` for the planted
 * bar is received, which the sentinel publishes only after the document is stored (so the figure includes the
 * store write and the publication: an upper bound of ingest → stored).
 *
 * Used by bench/sentinel.bench.ts; run alone it prints one JSON line:
 *   node -r @swc-node/register bench/sentinel-e2e.ts
 */
import { AnomalyDetectedV1 } from '@strata/dataquality-contracts';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { isTradingDay } from '@strata/shared-timeseries';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigSchema } from '../apps/platform/src/config';
import { startPlatform } from '../apps/platform/src/platform';

const DAY = 86_400_000;
const KEY = 'bench-operator-key-01';

/** Next NYSE trading day after `ms` (00:00 UTC). */
function nextWeekday(ms: number): number {
  let t = ms + DAY;
  while (!isTradingDay('nyse', Math.floor(t / DAY))) t += DAY;
  return t;
}

/**
 * Measures ingest → stored DataQualityEvent latency (ms) over `batches` sequential ingests with one planted anomaly
 * each. Returns the sample count and the 50th / 99th percentiles (nearest rank).
 */
export async function measureIngestToStoredEventLatency(
  batches: number = Number(process.env.SENTINEL_E2E_BATCHES ?? 40),
): Promise<{ samples: number; p50_ms: number; p99_ms: number }> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'strata-bench-dq-'));
  const bus = new InProcessEventBus({ service: 'platform' });
  const ingestedAt = new Map<string, number>();
  const waiters = new Map<string, (receivedAt: number) => void>();
  await bus.subscribe(
    BarsIngestedV1,
    (d, ctx) => void ingestedAt.set(d.ingestionId, Date.parse(ctx.envelope.occurredAt)),
    { consumer: 'bench__bars_ingested' },
  );
  await bus.subscribe(
    AnomalyDetectedV1,
    (d) => {
      const now = Date.now();
      waiters.get(d.barTs)?.(now);
    },
    { consumer: 'bench__anomaly_detected' },
  );
  const platform = await startPlatform({
    config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
    logger: createLogger({ service: 'bench', level: 'silent' }),
    bus,
    apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: KEY }]),
  });
  const ingest = async (csv: string): Promise<string> => {
    const r = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': KEY },
      payload: { symbol: 'BENCHDQ', timeframe: '1d', csv },
    });
    if (r.statusCode !== 201) throw new Error(`ingest answered ${r.statusCode}: ${r.body}`);
    return r.json().id as string;
  };
  try {
    const lines = readFileSync(resolve(__dirname, '../data/sample/SPY_1d.csv'), 'utf8').trim().split('\n');
    const header = lines[0];
    const history = lines.slice(1).filter((l) => l >= '2015-01-01' && l < '2017-01-01');
    await ingest([header, ...history].join('\n'));
    const [lastDate, , , , lastCloseText] = history[history.length - 1].split(',');
    let t = Date.parse(`${lastDate}T00:00:00Z`);
    let close = Number(lastCloseText);
    const latencies: number[] = [];
    // Deterministic small moves (no RNG needed): ±0.3 % alternating.
    for (let b = 0; b < batches; b++) {
      const rows: string[] = [];
      // Four ordinary bars, the planted bad tick, and the bar that reverts it.
      for (let k = 0; k < 4; k++) {
        t = nextWeekday(t);
        close = Math.round(close * (k % 2 ? 1.003 : 0.997) * 100) / 100;
        rows.push(
          `${new Date(t).toISOString().slice(0, 10)},${close},${close * 1.004},${close * 0.996},${close},80000000`,
        );
      }
      const tBad = nextWeekday(t);
      const tNext = nextWeekday(tBad);
      const bad = Math.round(close * 1.4 * 100) / 100;
      rows.push(`${new Date(tBad).toISOString().slice(0, 10)},${close},${bad},${close * 0.998},${bad},80000000`);
      close = Math.round(close * (b % 2 ? 1.003 : 0.997) * 100) / 100;
      rows.push(
        `${new Date(tNext).toISOString().slice(0, 10)},${close},${close * 1.004},${close * 0.996},${close},80000000`,
      );
      t = tNext;
      const barTs = new Date(tBad).toISOString();
      const stored = new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no DataQualityEvent for ${barTs} within 30 s`)), 30_000);
        waiters.set(barTs, (at) => {
          clearTimeout(timer);
          res(at);
        });
      });
      const id = await ingest([header, ...rows].join('\n'));
      const at = await stored;
      waiters.delete(barTs);
      const t0 = ingestedAt.get(id);
      if (t0 === undefined) throw new Error(`bars.ingested of ${id} was not seen`);
      latencies.push(at - t0);
    }
    latencies.sort((a, b) => a - b);
    const rank = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(p * latencies.length) - 1))];
    return { samples: latencies.length, p50_ms: rank(0.5), p99_ms: rank(0.99) };
  } finally {
    await platform.close();
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  measureIngestToStoredEventLatency()
    .then((r) => {
      process.stdout.write(
        `${JSON.stringify({ bench: 'sentinel-e2e', ingest_to_stored_event: r, machine: { cpus: os.cpus().length, node: process.version } })}\n`,
      );
    })
    .catch((e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    });
}
