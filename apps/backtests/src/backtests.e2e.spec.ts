/**
 * The standalone backtests service reads market data from the marketdata service over NATS: without NATS_URL (the
 * in-process bus) it refuses to start, naming the variable, and leaves nothing open. The whole service, on real NATS
 * and MongoDB as its own OS process, is covered by `npm run test:system` (test/system).
 */
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { startBacktests } from './backtests';

jest.setTimeout(60_000);

describe('standalone backtests service', () => {
  let dataDir: string;
  let bus: InProcessEventBus;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-backtests-'));
    bus = new InProcessEventBus({ service: 'test' });
  });
  afterAll(async () => {
    await bus.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses to start without NATS (it reads market data over the bus), naming NATS_URL', async () => {
    const start = () =>
      startBacktests({
        config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
        logger: createLogger({ service: 'e2e', level: 'silent' }),
        bus,
      });
    await expect(start()).rejects.toThrow(/the backtests service reads market data .* over NATS: set NATS_URL/);
    // Nothing was left open: a second attempt fails the same way (the embedded store's file lock was released).
    await expect(start()).rejects.toThrow(/set NATS_URL/);
  });
});

describe('backtests configuration', () => {
  it('reads BACKTESTS_WORKER_LEASE_MS (default 60000) and names it when invalid', () => {
    expect(ConfigSchema.parse({}).BACKTESTS_WORKER_LEASE_MS).toBe(60_000);
    expect(ConfigSchema.parse({ BACKTESTS_WORKER_LEASE_MS: '4000' }).BACKTESTS_WORKER_LEASE_MS).toBe(4000);
    const bad = ConfigSchema.safeParse({ BACKTESTS_WORKER_LEASE_MS: '10' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['BACKTESTS_WORKER_LEASE_MS']);
  });
});
