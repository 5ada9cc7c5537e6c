/**
 * deploy/local/infra.sh for real: `up` starts nats-server (JetStream) and FerretDB on free ports with their own
 * state directory, the printed URLs work with the project's clients, `up` again is a no-op, `status` reports both,
 * `down` stops both and removes their temporary data.
 *
 * Needs the binaries in $STRATA_INFRA_BIN (default ~/.cache/strata-infra/bin; `infra.sh install` or .ci/run puts
 * them there). Without them: skipped with one loud line; under REQUIRE_INFRA=1 a failure.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import mongoose from 'mongoose';
import { ROOT } from './deploy-tools';
import { uniqueName } from '../infra';

const INFRA = path.join(ROOT, 'deploy', 'local', 'infra.sh');
const BIN = process.env.STRATA_INFRA_BIN ?? path.join(os.homedir(), '.cache', 'strata-infra', 'bin');

function binariesRun(): boolean {
  return ['nats-server', 'ferretdb'].every(
    (b) => spawnSync(path.join(BIN, b), ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
  );
}

const haveBinaries = binariesRun();
if (!haveBinaries) {
  if (process.env.REQUIRE_INFRA === '1') {
    throw new Error(
      `REQUIRE_INFRA=1 but nats-server/ferretdb are not runnable in ${BIN}: run deploy/local/infra.sh install`,
    );
  }
  process.stderr.write(
    `\n*** SKIPPED: infra.sh start/stop test (nats-server/ferretdb not built in ${BIN}; run deploy/local/infra.sh install) ***\n`,
  );
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** True while the process exists and has not exited; an exited child not yet reaped by its parent is a zombie ('Z'). */
function running(pid: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

(haveBinaries ? describe : describe.skip)('deploy/local/infra.sh up | status | down', () => {
  let env: NodeJS.ProcessEnv;
  let state: string;
  const run = (...args: string[]) => spawnSync('bash', [INFRA, ...args], { encoding: 'utf8', env, timeout: 120_000 });

  beforeAll(async () => {
    state = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-infra-test-'));
    env = {
      ...process.env,
      STRATA_INFRA_BIN: BIN,
      STRATA_INFRA_STATE: state,
      NATS_PORT: String(await freePort()),
      NATS_MONITOR_PORT: String(await freePort()),
      MONGODB_PORT: String(await freePort()),
    };
  });

  afterAll(() => {
    run('down');
    fs.rmSync(state, { recursive: true, force: true });
  });

  it('starts both servers, prints working URLs, is idempotent, and stops both', async () => {
    const up = run('up');
    expect(up.status).toBe(0);
    const exports = Object.fromEntries(
      up.stdout
        .trim()
        .split('\n')
        .map((l) => l.match(/^export ([A-Z_]+)=(\S+)$/)!.slice(1, 3)),
    );
    expect(exports).toEqual({
      NATS_URL: `nats://127.0.0.1:${env.NATS_PORT}`,
      MONGODB_URI: `mongodb://127.0.0.1:${env.MONGODB_PORT}/strata`,
    });
    // infra.sh keeps each server's pid file and data directory path under $STRATA_INFRA_STATE/<server>-<port>/.
    const instances = [`nats-${env.NATS_PORT}`, `ferretdb-${env.MONGODB_PORT}`];
    const read = (file: string) => instances.map((d) => fs.readFileSync(path.join(state, d, file), 'utf8').trim());
    const pids = read('pid');
    const dataDirs = read('datadir');
    for (const d of dataDirs) expect(fs.existsSync(d)).toBe(true);

    // JetStream answers on NATS_URL.
    const nc = await connect({ servers: exports.NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      const stream = uniqueName('infra');
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      const js = jsm.jetstream();
      const ack = await js.publish(`${stream}.x`, 'hello');
      expect(ack.seq).toBe(1);
      await jsm.streams.delete(stream);
    } finally {
      await nc.close();
    }

    // FerretDB answers on MONGODB_URI, unique indexes included.
    const conn = await mongoose
      .createConnection(exports.MONGODB_URI, { dbName: uniqueName('infra'), serverSelectionTimeoutMS: 5000 })
      .asPromise();
    try {
      const M = conn.model('Thing', new mongoose.Schema({ key: { type: String, unique: true } }));
      await M.init();
      await M.create({ key: 'a' });
      await expect(M.create({ key: 'a' })).rejects.toMatchObject({ code: 11000 });
      expect(await M.countDocuments()).toBe(1);
      await conn.dropDatabase();
    } finally {
      await conn.close();
    }

    const again = run('up');
    expect(again.status).toBe(0);
    expect(again.stdout).toBe(up.stdout);
    expect(again.stderr).toMatch(/nats-server already running/);
    expect(again.stderr).toMatch(/ferretdb already running/);
    expect(read('pid')).toEqual(pids);

    const status = run('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^nats-server: running .*JetStream healthy/m);
    expect(status.stdout).toMatch(/^ferretdb: +running .*ping ok/m);

    const down = run('down');
    expect(down.status).toBe(0);
    for (const pid of pids) expect({ pid, running: running(pid) }).toEqual({ pid, running: false });
    expect(await portOpen(Number(env.NATS_PORT))).toBe(false);
    expect(await portOpen(Number(env.MONGODB_PORT))).toBe(false);
    for (const d of dataDirs) expect(fs.existsSync(d)).toBe(false);
    for (const d of instances) expect(fs.existsSync(path.join(state, d))).toBe(false);

    const after = run('status');
    expect(after.status).toBe(3);
    expect(after.stdout).toMatch(/^nats-server: stopped/m);
    expect(after.stdout).toMatch(/^ferretdb: +stopped/m);
    expect(run('down').status).toBe(0);
  }, 120_000);

  it('refuses a port that another process holds, naming the variable to change', async () => {
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    try {
      const port = (squatter.address() as net.AddressInfo).port;
      const r = spawnSync('bash', [INFRA, 'up'], {
        encoding: 'utf8',
        env: { ...env, NATS_PORT: String(port) },
        timeout: 60_000,
      });
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`port ${port} is in use by another process; choose another with NATS_PORT=`);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  }, 60_000);
});
