/**
 * The split deployment's forwarding table (GATEWAY_ROUTES) against the real routes: every path of the all-in-one's
 * OpenAPI document (which serves every capability's api modules) is either the gateway's own or owned by exactly one
 * service (the longest matching prefix, as the gateway's router picks it), and every declared prefix serves at least
 * one path. A new controller outside the table fails here.
 */
import { GATEWAY_ROUTES } from '@strata/catalog-contracts';
import { createLogger } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

jest.setTimeout(60_000);

/** Paths the gateway answers itself (API keys, AsyncAPI, health). */
const GATEWAY_OWN = [/^\/admin\/api-keys(\/|$)/, /^\/asyncapi\.json$/, /^\/health(\/|$)/];

const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);

describe('GATEWAY_ROUTES covers every REST route of the capabilities', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-routes-'));
    bus = new InProcessEventBus({ service: 'platform' });
    platform = await startPlatform({
      config: ConfigSchema.parse({
        STRATA_DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        STRATA_API_KEYS: 'admin:admin-key-0001',
      }),
      logger: createLogger({ service: 'routes', level: 'silent' }),
      bus,
    });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('assigns each path to the gateway or to exactly one owner, and each prefix to some path', async () => {
    const doc = (await platform.gateway.inject({ method: 'GET', url: '/openapi.json' })).json();
    const paths = Object.keys(doc.paths);
    expect(paths.length).toBeGreaterThan(20);
    const unowned: string[] = [];
    for (const p of paths) {
      const matching = GATEWAY_ROUTES.filter((r) => under(p, r.prefix));
      const longest = Math.max(0, ...matching.map((r) => r.prefix.length));
      const owners = matching.filter((r) => r.prefix.length === longest);
      const own = GATEWAY_OWN.some((re) => re.test(p));
      if (owners.length + (own ? 1 : 0) !== 1)
        unowned.push(`${p} (${owners.map((o) => o.service).join(', ') || 'none'})`);
    }
    expect(unowned).toEqual([]);
    for (const r of GATEWAY_ROUTES) expect(paths.some((p) => under(p, r.prefix))).toBe(true);
  });
});
