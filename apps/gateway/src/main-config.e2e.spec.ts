/**
 * The gateway's main.ts refuses a bad stream-limit variable before it opens anything: exit code 78 (EX_CONFIG) and a
 * message naming each bad variable (a misspelt stream name, a size it cannot read).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

jest.setTimeout(120_000);

describe('gateway main.ts with bad STRATA_STREAM_* variables', () => {
  it('exits 78 naming every bad variable, having opened nothing', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strata-gw-cfg-'));
    try {
      const r = spawnSync(process.execPath, ['-r', '@swc-node/register', resolve(__dirname, 'main.ts')], {
        cwd: resolve(__dirname, '../../..'),
        encoding: 'utf8',
        timeout: 100_000,
        env: {
          PATH: process.env.PATH,
          STRATA_DATA_DIR: dataDir,
          STRATA_API_KEYS: 'admin:gateway-cfg-key-01',
          STRATA_STREAM_MARKETDAT_MAX_AGE: '1d',
          STRATA_STREAM_DLQ_MAX_BYTES: '12MB',
        },
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({
        status: 78,
        stderr: expect.stringContaining('gateway: invalid configuration:'),
      });
      expect(r.stderr).toContain('STRATA_STREAM_MARKETDAT_MAX_AGE: no stream MARKETDAT');
      expect(r.stderr).toContain('STRATA_STREAM_DLQ_MAX_BYTES: expected -1 / unlimited');
      expect(readdirSync(dataDir)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
