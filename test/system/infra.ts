/**
 * The system test's servers: NATS_URL / MONGODB_URI when both are set (CI's servers) and the NATS server holds no message
 * streams yet, otherwise nats-server and FerretDB started by deploy/local/infra.sh on free ports with their own state
 * directory, and stopped afterwards. Each run uses
 * a database of its own, dropped at the end; on a shared NATS server the streams and buckets the run created are
 * deleted at the end (names that existed before are left alone).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import mongoose from 'mongoose';
import { freePort } from './processes';

/** The servers of one run. */
export interface SystemInfra {
  natsUrl: string;
  /** MongoDB URI naming the run's own database. */
  mongodbUri: string;
  /** `own` when this run started the servers. */
  kind: 'own' | 'shared';
  /** Drops the run's database, deletes the streams it created (shared server) or stops the servers (own). */
  close(): Promise<void>;
}

/** Starts (or adopts) the servers; `runId` names the database (`strata_sys_<runId>`). */
export async function openInfra(root: string, runId: string, stateDir: string): Promise<SystemInfra> {
  let natsUrl = process.env.NATS_URL;
  let baseMongo = process.env.MONGODB_URI;
  let kind: SystemInfra['kind'] = 'shared';
  let env: Record<string, string> | undefined;
  if (natsUrl && baseMongo) {
    // The services create the default streams (MARKETDATA, BACKTEST, ...), whose subjects no other stream may capture;
    // on a server where message streams already exist (a developer's server, leftovers) use servers of our own.
    const busy = [...(await streamNames(natsUrl))].filter((n) => !/^(OBJ|KV)_/.test(n));
    if (busy.length) {
      process.stderr.write(
        `\n*** system test: ${natsUrl} already has streams (${busy.slice(0, 5).join(', ')}${busy.length > 5 ? ', ...' : ''}); starting nats-server and FerretDB of its own ***\n`,
      );
      natsUrl = undefined;
    }
  }
  if (!natsUrl || !baseMongo) {
    kind = 'own';
    env = {
      ...(process.env as Record<string, string>),
      NATS_PORT: String(await freePort()),
      NATS_MONITOR_PORT: String(await freePort()),
      MONGODB_PORT: String(await freePort()),
      STRATA_INFRA_STATE: join(stateDir, 'infra'),
    };
    const out = execFileSync(join(root, 'deploy/local/infra.sh'), ['up'], {
      cwd: root,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const vars = Object.fromEntries([...out.matchAll(/export (\w+)=['"]?([^'"\n]+)['"]?/g)].map((m) => [m[1], m[2]]));
    natsUrl = vars.NATS_URL;
    baseMongo = vars.MONGODB_URI;
    if (!natsUrl || !baseMongo) throw new Error(`deploy/local/infra.sh up printed no NATS_URL / MONGODB_URI:\n${out}`);
  }
  const u = new URL(baseMongo);
  u.pathname = `/strata_sys_${runId}`;
  const mongodbUri = u.toString();
  const before = kind === 'shared' ? await streamNames(natsUrl) : new Set<string>();

  return {
    natsUrl,
    mongodbUri,
    kind,
    async close() {
      try {
        const conn = await mongoose.createConnection(mongodbUri, { serverSelectionTimeoutMS: 5_000 }).asPromise();
        await conn.db!.dropDatabase();
        await conn.close();
      } catch (e) {
        process.stderr.write(`system test: could not drop ${u.pathname.slice(1)}: ${String(e)}\n`);
      }
      if (kind === 'shared') {
        const nc = await connect({ servers: natsUrl });
        try {
          const jsm = await jetstreamManager(nc);
          for (const name of await streamNames(natsUrl!))
            if (!before.has(name)) await jsm.streams.delete(name).catch(() => undefined);
        } finally {
          await nc.close();
        }
      } else {
        execFileSync(join(root, 'deploy/local/infra.sh'), ['down'], { cwd: root, env, stdio: 'ignore' });
      }
    },
  };
}

/** Names of every stream on the server (KV and Object Store buckets are streams too). */
async function streamNames(natsUrl: string): Promise<Set<string>> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    const names = new Set<string>();
    for await (const s of jsm.streams.names()) names.add(s);
    return names;
  } finally {
    await nc.close();
  }
}
