/**
 * deploy/local/infra.sh, deploy/local/mongo-ping.cjs and .ci/run without servers: syntax, modes, the strictness
 * settings, and mongo-ping's verdicts against fake servers. The real start/stop cycle is in
 * infra-script.int-spec.ts.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ROOT } from './deploy-tools';

const INFRA = path.join(ROOT, 'deploy', 'local', 'infra.sh');
const CI = path.join(ROOT, '.ci', 'run');
const PING = path.join(ROOT, 'deploy', 'local', 'mongo-ping.cjs');

describe('shell scripts', () => {
  it.each([INFRA, CI])('%s is executable bash with set -euo pipefail and valid syntax', (file) => {
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(text).toMatch(/^set -euo pipefail$/m);
    expect(fs.statSync(file).mode & 0o111).not.toBe(0);
    const r = spawnSync('bash', ['-n', file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('infra.sh rejects an unknown command with its usage', () => {
    const r = spawnSync('bash', [INFRA, 'start'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: .* up\|down\|status\|env\|install/);
  });

  it('infra.sh env prints eval-able exports for the chosen ports', () => {
    const r = spawnSync('bash', [INFRA, 'env'], {
      encoding: 'utf8',
      env: { ...process.env, NATS_PORT: '4999', MONGODB_PORT: '27999', MONGODB_DB: 'x' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('export NATS_URL=nats://127.0.0.1:4999\nexport MONGODB_URI=mongodb://127.0.0.1:27999/x\n');
  });

  it('.ci/run exports what the tests need and stops the servers on exit', () => {
    const text = fs.readFileSync(CI, 'utf8');
    for (const s of [
      'REQUIRE_INFRA=1',
      'export HELM_BIN',
      'export NATS_URL MONGODB_URI',
      'npm ci',
      'npm test',
      'trap cleanup EXIT',
      'infra.sh down',
      'infra.sh up',
    ]) {
      expect(text).toContain(s);
    }
    expect(text).toContain('helm.sh/helm/v3/cmd/helm@$HELM_VERSION');
    expect(text).toMatch(/^HELM_VERSION=v3\.22\.0$/m);
  });
});

/** An OP_MSG reply carrying { ok: <ok> } (double), answering request `requestId`. */
function opMsgReply(ok: number, requestId: number): Buffer {
  const name = Buffer.from('ok\0');
  const value = Buffer.alloc(8);
  value.writeDoubleLE(ok, 0);
  const docLen = 4 + 1 + name.length + 8 + 1;
  const doc = Buffer.alloc(docLen);
  doc.writeInt32LE(docLen, 0);
  doc[4] = 0x01;
  name.copy(doc, 5);
  value.copy(doc, 5 + name.length);
  doc[docLen - 1] = 0;
  const header = Buffer.alloc(21);
  header.writeInt32LE(21 + docLen, 0);
  header.writeInt32LE(99, 4);
  header.writeInt32LE(requestId, 8);
  header.writeInt32LE(2013, 12);
  return Buffer.concat([header, doc]);
}

/** Starts a TCP server on a free port that answers each request with `reply(request)`, or never when null. */
async function fakeServer(
  reply: (req: Buffer) => Buffer | null,
): Promise<{ port: number; close: () => Promise<void>; requests: Buffer[] }> {
  const requests: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => {
      requests.push(d);
      const r = reply(d);
      if (r) s.write(r);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    requests,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

function ping(port: number, timeoutMs = 1500): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [PING, '127.0.0.1', String(port), String(timeoutMs)]);
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('mongo-ping.cjs', () => {
  it('sends { ping: 1, $db: "admin" } as OP_MSG and succeeds on ok: 1', async () => {
    const srv = await fakeServer((req) => opMsgReply(1, req.readInt32LE(4)));
    try {
      const r = await ping(srv.port);
      expect(r).toEqual({ code: 0, stderr: '' });
      const req = srv.requests[0];
      expect(req.readInt32LE(0)).toBe(req.length);
      expect(req.readInt32LE(12)).toBe(2013);
      const body = req.subarray(21).toString('latin1');
      expect(body).toContain('ping\0');
      expect(body).toContain('$db\0');
      expect(body).toContain('admin\0');
    } finally {
      await srv.close();
    }
  });

  it('fails on ok: 0', async () => {
    const srv = await fakeServer((req) => opMsgReply(0, req.readInt32LE(4)));
    try {
      const r = await ping(srv.port);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ping answered/);
    } finally {
      await srv.close();
    }
  });

  it('fails when the server accepts TCP but never answers', async () => {
    const srv = await fakeServer(() => null);
    try {
      const r = await ping(srv.port, 500);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/no reply within 500 ms/);
    } finally {
      await srv.close();
    }
  });

  it('fails when nothing listens', async () => {
    const srv = await fakeServer(() => null);
    const port = srv.port;
    await srv.close();
    const r = await ping(port);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
  });
});
