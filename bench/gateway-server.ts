/**
 * One server of `npm run bench:gateway`, run by bench/gateway.bench.ts in a child process of its own so the load
 * generator never shares its event loop. The role is `argv[2]`:
 * - `plain`: plain Fastify serving the JSON `/health` of the platform (the peer);
 * - `platform`: the all-in-one platform (`startPlatform`, as `npm start` runs it) on a fresh data dir with the bundled
 *   sample (`data/sample`);
 * - `marketdata` / `gateway`: the split topology's processes (apps/marketdata and apps/gateway).
 * Configuration comes from the environment (PORT, STRATA_DATA_DIR, STRATA_API_KEYS, NATS_URL, MONGODB_URI, LOG_LEVEL).
 * When the server listens (or, for a bus-only process, is up) it sends `{ ready: true, port }` on the IPC channel;
 * a start failure sends `{ error }` and exits 1.
 */
import { resolve } from 'node:path';

const role = process.argv[2];

function send(msg: Record<string, unknown>): void {
  if (process.send) process.send(msg);
}

async function plain(port: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const fastify = (require('fastify') as typeof import('fastify')).default;
  const app = fastify({ logger: false });
  const started = Date.now();
  app.get('/health', async () => ({
    status: 'up',
    service: 'gateway',
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
    liveness: { status: 'up' },
    readiness: {
      status: 'up',
      dependencies: {
        bus: { status: 'up', adapter: 'in-process', detail: 'journal' },
        store: { status: 'up', adapter: 'duckdb', detail: 'embedded' },
      },
    },
  }));
  await app.listen({ port, host: '127.0.0.1' });
}

async function platform(port: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ConfigSchema } = require('../apps/platform/src/config') as typeof import('../apps/platform/src/config');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startPlatform } = require('../apps/platform/src/platform') as typeof import('../apps/platform/src/platform');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createLogger } = require('@strata/platform-http') as typeof import('@strata/platform-http');
  const config = ConfigSchema.parse(process.env);
  const logger = createLogger({ service: 'platform', level: config.LOG_LEVEL });
  const p = await startPlatform({ config, logger, sampleDataDir: resolve('data/sample') });
  await p.gateway.listen({ port, host: '127.0.0.1' });
}

/**
 * Resolves once the process is quiet: under 10% of a core over a 500 ms window (the all-in-one platform scores and
 * refreshes the sample it just loaded in the background); at most 90 s.
 */
/** Start functions of the split topology's apps (apps/<name>/src/<name>.ts), by role. */
const APPS: Record<string, string> = {
  gateway: 'startGateway',
  marketdata: 'startMarketData',
  backtests: 'startBacktests',
};

/** One app of the split topology, as its main.ts starts it (configuration from the environment), listening on `port`. */
async function splitApp(name: string, port: number): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ConfigSchema } = require(`../apps/${name}/src/config`) as { ConfigSchema: { parse(v: unknown): never } };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(`../apps/${name}/src/${name}`) as Record<
    string,
    (opts: { config: unknown; logger: unknown }) => Promise<{ http: { listen(o: object): Promise<unknown> } }>
  >;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createLogger } = require('@strata/platform-http') as typeof import('@strata/platform-http');
  const config = ConfigSchema.parse(process.env) as { LOG_LEVEL?: 'info' };
  const logger = createLogger({ service: name, level: config.LOG_LEVEL });
  const app = await mod[APPS[name]]({ config, logger });
  await app.http.listen({ port, host: '127.0.0.1' });
}

async function settled(): Promise<void> {
  const end = Date.now() + 90_000;
  while (Date.now() < end) {
    const before = process.cpuUsage();
    await new Promise((res) => setTimeout(res, 500));
    const used = process.cpuUsage(before);
    if ((used.user + used.system) / 1000 < 50) return;
  }
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT);
  if (role === 'plain') await plain(port);
  else if (role === 'platform') await platform(port);
  else if (APPS[role]) await splitApp(role, port);
  else throw new Error(`unknown role ${role}`);
  await settled();
  // The bench asks again after it made the servers work (an ingest): answer once quiet.
  process.on('message', (m: { settle?: boolean }) => {
    if (m.settle) void settled().then(() => send({ settled: true }));
  });
  send({ ready: true, port });
}

main().catch((err: unknown) => {
  send({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
