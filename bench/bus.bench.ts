/**
 * `npm run bench:bus`: publish→handle throughput and latency of both EventBus adapters, 1 KiB events (the envelope
 * JSON is 1024 bytes), schema validation on publish and on consume, acks on (JetStream: PubAck per publish, explicit
 * ack per delivery; in-process: consumer offset advanced per handled message). The rule of bench/README.md: every
 * figure is the median of RUNS (≥ 5) repetitions, each with distinct input (fresh streams, a body that changes with the
 * repetition and the event), and the variants take turns within each repetition.
 *
 * - in-process: a flood of events (throughput, latency under flood), a steady rate, and a flood with a journal.
 * - JetStream flood: FLOOD events with at most WINDOW publishes awaiting their PubAck; the consumer runs in a worker
 *   thread with its own connection (producer and consumer are separate services in production), pull batches of
 *   PREFETCH; events/s = the acked publish-to-handle rate (first publish → last handled). Baselines in the same run:
 *   the raw client of the same library (@nats-io/jetstream: 1 KiB opaque bodies, no envelope, no validation, same
 *   stream storage, window and pull batch), used as well as it can be: `js.publish` with per-message acks,
 *   `js.publish` with batched acks (AckPolicy.All), and pipelined PubAcks on one reply-inbox subscription with
 *   batched acks; the target compares the adapter with the best of them. Where the `nats` CLI is installed
 *   (~/.cache/strata-infra/bin/nats), `nats bench js pub async` and `js consume` (Go client) on the same server, as a
 *   reference (separate publish and consume phases, not one concurrent run).
 * - JetStream steady: 5,000 events/s, STEADY_WARM_S of warm-up then STEADY_S measured (see {@link steadyRun}), beside
 *   the raw client at the same rate.
 * Each JetStream figure carries the CPU spent per event by this process (producer + consumer worker) and by the
 * nats-server the bench started: events/s × (client + server µs per event) / 1e6 is the number of cores a run keeps
 * busy. Uses NATS_URL, else starts ~/.cache/strata-infra/bin/nats-server on a free port, else reports "skipped".
 *
 * Prints ONE JSON line. Env: BENCH_RUNS (default 5, at least 5), BENCH_BUS_EVENTS (flood size, default 50,000).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType, type JsMsg } from '@nats-io/jetstream';
import { createInbox, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { defineEvent } from '@strata/platform-contracts';
import { InProcessEventBus, JetStreamEventBus } from '@strata/platform-bus';

const TickSchema = z.object({
  symbol: z.string().min(1).max(32),
  seq: z.number().int().nonnegative(),
  /** Send time, ms since the epoch with sub-ms precision (performance.timeOrigin + performance.now()). */
  sentAt: z.number(),
  price: z.number().positive(),
  blob: z.string(),
});
type Tick = z.infer<typeof TickSchema>;

const Ticked = defineEvent({ subject: 'benchbus.evt.tick.recorded.v1', schema: TickSchema, description: 'bench tick' });

const now = (): number => performance.timeOrigin + performance.now();

/** Repetitions of every figure (medians are reported); BENCH_RUNS overrides, at least 5. */
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
/** Events per JetStream flood, publishes awaiting their PubAck at once, consumer pull batch. */
const FLOOD = Number(process.env.BENCH_BUS_EVENTS ?? 50_000);
const WINDOW = 512;
const PREFETCH = 512;
/** Steady runs: events/s, warm-up seconds (not in the percentiles), measured seconds. */
const STEADY_RATE = 5000;
const STEADY_WARM_S = 2;
const STEADY_S = 4;
const STEADY_N = STEADY_RATE * (STEADY_WARM_S + STEADY_S);

/** A blob length that makes the envelope JSON exactly 1024 bytes. */
function blobFor(): string {
  const probe = {
    id: '01a2b3c4-d5e6-7f80-8123-456789abcdef',
    type: Ticked.subject,
    version: 1,
    occurredAt: new Date().toISOString(),
    producer: 'bench',
    correlationId: '01a2b3c4-d5e6-7f80-8123-456789abcdef',
    causationId: null,
    data: { symbol: 'AAPL', seq: 123456, sentAt: now(), price: 187.25, blob: '' },
  };
  return 'x'.repeat(Math.max(0, 1024 - JSON.stringify(probe).length));
}

function quantiles(lat: Float64Array, n: number): { p50Ms: number; p99Ms: number; maxMs: number } {
  const a = lat.slice(0, n).sort();
  const q = (p: number): number => a[Math.min(n - 1, Math.floor(p * n))];
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { p50Ms: r(q(0.5)), p99Ms: r(q(0.99)), maxMs: r(a[n - 1]) };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Pid of the nats-server the bench started (its CPU time is read from /proc), else undefined. */
let serverPid: number | undefined;

/** CPU time of a process from /proc/<pid>/stat (user + system), µs; undefined when unreadable. */
function procCpuUs(pid: number): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000; // clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

/**
 * CPU spent per event while a run is in flight: this process (producer and the consumer worker together) and the
 * nats-server the bench started. Shows whether the run is CPU-bound: events/s × (client + server µs) / 1e6 = cores.
 */
function cpuMeter(): (events: number) => { clientCpuUsPerEvent: number; serverCpuUsPerEvent?: number } {
  const c0 = process.cpuUsage();
  const s0 = serverPid ? procCpuUs(serverPid) : undefined;
  return (events) => {
    const c = process.cpuUsage(c0);
    const s1 = serverPid ? procCpuUs(serverPid) : undefined;
    const r = (x: number): number => Math.round((x / events) * 10) / 10;
    return {
      clientCpuUsPerEvent: r(c.user + c.system),
      ...(s0 !== undefined && s1 !== undefined ? { serverCpuUsPerEvent: r(s1 - s0) } : {}),
    };
  };
}

// ------------------------------------------------------------------ in-process

/** The bench blob with a character that depends on the repetition: distinct input per repetition. */
const blobOf = (rep: number): string => blobFor().replace(/x/g, String.fromCharCode(97 + (rep % 26)));

async function inProcessFlood(n: number, rep: number, dataDir?: string): Promise<Record<string, number>> {
  const bus = new InProcessEventBus({ service: 'bench', dataDir });
  const lat = new Float64Array(n);
  let got = 0;
  await bus.subscribe(
    Ticked,
    (d) => {
      lat[got++] = now() - d.sentAt;
    },
    { consumer: 'bench_flood' },
  );
  const blob = blobOf(rep);
  const t0 = now();
  let last: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    last = bus.publish(Ticked, { symbol: 'AAPL', seq: i, sentAt: now(), price: 187.25, blob });
    // Yield every 1024 publishes so delivery interleaves with publishing (and the journal can flush).
    if ((i & 1023) === 1023) {
      if (dataDir) await last;
      else await tick();
    }
  }
  await last;
  while (got < n) await tick();
  const secs = (now() - t0) / 1000;
  await bus.close();
  return { eventsPerSec: Math.round(n / secs), ...quantiles(lat, n) };
}

async function inProcessSteady(rate: number, seconds: number, rep: number): Promise<Record<string, number>> {
  const bus = new InProcessEventBus({ service: 'bench' });
  const total = rate * seconds;
  const lat = new Float64Array(total);
  let got = 0;
  await bus.subscribe(
    Ticked,
    (d) => {
      lat[got++] = now() - d.sentAt;
    },
    { consumer: 'bench_steady' },
  );
  const blob = blobOf(rep);
  const t0 = now();
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / 1000) * rate));
    while (sent < due)
      pending.push(bus.publish(Ticked, { symbol: 'AAPL', seq: sent++, sentAt: now(), price: 187.25, blob }));
    if (pending.length > 4096) await Promise.all(pending.splice(0));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  while (got < sent) await tick();
  await bus.close();
  return quantiles(lat, sent);
}

// ------------------------------------------------------------------ JetStream

/**
 * How the raw consumer acks: `each` = `m.ack()` per message as it is handled (explicit policy); `turn` = explicit acks
 * collected and sent together once per event-loop turn (what the adapter does); `all` = AckPolicy.All, one ack per
 * {@link ACK_ALL_EVERY} messages (and the last), which acks everything before it.
 */
type RawAck = 'each' | 'turn' | 'all';
const ACK_ALL_EVERY = 128;

/**
 * The raw variants of the flood: the library's publish with the naive ack, with batched acks, and the best this
 * client allows (pipelined PubAcks, batched acks). The target compares the adapter with the best of them.
 */
const RAW_VARIANTS = [
  { name: 'jsAckEach', pub: 'js', ack: 'each' },
  { name: 'jsAckAll', pub: 'js', ack: 'all' },
  { name: 'inboxAckAll', pub: 'inbox', ack: 'all' },
] as const;

interface WorkerIn {
  url: string;
  prefix: string;
  mode: 'bus' | 'raw';
  ack: RawAck;
  n: number;
  stream: string;
}
type WorkerMsg = { type: 'ready' } | { type: 'done'; lastAt: number; lat: Float64Array };

/** Consumer side, in a worker thread: handles `n` events, then reports latencies and the time of the last one. */
async function consumerWorker(w: WorkerIn): Promise<void> {
  const lat = new Float64Array(w.n);
  let got = 0;
  const finish = (): void => {
    parentPort!.postMessage({ type: 'done', lastAt: now(), lat } satisfies WorkerMsg);
  };
  if (w.mode === 'bus') {
    const bus = await JetStreamEventBus.connect({ servers: w.url, service: 'bench-consumer', streamPrefix: w.prefix });
    await bus.subscribe(
      Ticked,
      (d) => {
        lat[got++] = now() - d.sentAt;
        if (got === w.n) finish();
      },
      { consumer: 'bench_consumer', prefetch: PREFETCH },
    );
    parentPort!.postMessage({ type: 'ready' } satisfies WorkerMsg);
    parentPort!.once('message', () => void bus.close().then(() => process.exit(0)));
  } else {
    const nc = await connect({ servers: w.url });
    const c = await jetstream(nc).consumers.get(w.stream, 'raw_consumer');
    const msgs = await c.consume({ max_messages: PREFETCH });
    parentPort!.postMessage({ type: 'ready' } satisfies WorkerMsg);
    parentPort!.once('message', () => void nc.drain().then(() => process.exit(0)));
    let held: JsMsg[] = [];
    const flush = (): void => {
      const a = held;
      held = [];
      for (const m of a) m.ack();
    };
    for await (const m of msgs) {
      const t = m.data;
      // Raw baseline: the send time is the first 8 bytes (float64), no JSON, no schema.
      lat[got++] = now() - Buffer.from(t.buffer, t.byteOffset, 8).readDoubleLE(0);
      if (w.ack === 'each') m.ack();
      else if (w.ack === 'turn') {
        held.push(m);
        if (held.length === 1) setImmediate(flush);
      } else if (got % ACK_ALL_EVERY === 0 || got === w.n) m.ack();
      if (got === w.n) finish();
    }
  }
}

function startWorker(w: WorkerIn): {
  ready: Promise<void>;
  done: Promise<{ lastAt: number; lat: Float64Array }>;
  stop: () => Promise<void>;
} {
  const worker = new Worker(__filename, { workerData: w });
  let readyRes: () => void = () => undefined;
  let doneRes: (v: { lastAt: number; lat: Float64Array }) => void = () => undefined;
  const ready = new Promise<void>((r) => (readyRes = r));
  const done = new Promise<{ lastAt: number; lat: Float64Array }>((r) => (doneRes = r));
  worker.on('message', (m: WorkerMsg) => {
    if (m.type === 'ready') readyRes();
    else doneRes({ lastAt: m.lastAt, lat: m.lat });
  });
  worker.on('error', (e) => {
    process.stderr.write(`bench worker failed: ${e.message}\n`);
    process.exit(1);
  });
  return {
    ready,
    done,
    stop: async () => {
      worker.postMessage('stop');
      await new Promise((r) => worker.once('exit', r));
    },
  };
}

/** A publisher under test: the adapter (envelope, schema, Nats-Msg-Id) or the raw client (`js.publish`, 1 KiB body). */
interface Side {
  /** Publishes event `i` of the run and resolves on its PubAck. */
  send(i: number): Promise<unknown>;
  worker: WorkerIn;
  close(): Promise<void>;
}

/** The adapter: publisher and consumer are JetStreamEventBus instances (the consumer in a worker thread). */
async function busSide(url: string, tag: string, n: number, rep: number): Promise<Side> {
  const prefix = `BENCH${process.pid}${tag}${rep}_`;
  const producer = await JetStreamEventBus.connect({
    servers: url,
    service: 'bench',
    streamPrefix: prefix,
    domains: [Ticked.domain],
  });
  // Distinct input per repetition: the blob's character changes with the repetition, the seq with the event.
  const blob = blobOf(rep);
  return {
    send: (i) => producer.publish(Ticked, { symbol: 'AAPL', seq: i, sentAt: now(), price: 187.25, blob }),
    worker: { url, prefix, mode: 'bus', ack: 'turn', n, stream: '' },
    close: async () => {
      await dropStreams(url, prefix);
      await producer.close();
    },
  };
}

/**
 * How the raw client publishes: `js` = `js.publish` (the library's JetStream publish: a request per message, a PubAck
 * promise each, many in flight); `inbox` = core `nc.publish` with a reply subject `<inbox>.<n>` and one subscription
 * on `<inbox>.*` resolving the PubAcks (the same protocol without the per-request timer and error objects).
 */
type RawPub = 'js' | 'inbox';

/** PubAcks of `inbox` publishing: one wildcard subscription, one resolver per message number. */
function inboxPublisher(nc: NatsConnection): {
  send(subject: string, body: Uint8Array): Promise<unknown>;
  stop(): void;
} {
  const inbox = createInbox();
  const waiting = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  let next = 0;
  const sub = nc.subscribe(`${inbox}.*`, {
    callback: (_err, m) => {
      const n = Number(m.subject.slice(inbox.length + 1));
      const w = waiting.get(n);
      if (!w) return;
      waiting.delete(n);
      const ack = JSON.parse(m.string()) as { error?: { description: string } };
      if (ack.error || m.headers?.hasError) w.fail(new Error(ack.error?.description ?? 'no stream'));
      else w.ok(ack);
    },
  });
  return {
    send: (subject, body) =>
      new Promise((ok, fail) => {
        const n = ++next;
        waiting.set(n, { ok, fail });
        nc.publish(subject, body, { reply: `${inbox}.${n}` });
      }),
    stop: () => sub.unsubscribe(),
  };
}

/**
 * The raw client of the same library: 1 KiB opaque bodies, no envelope, no validation, a stream with the adapter's
 * storage and retention, a pull consumer read with `consume()`; publishing per {@link RawPub}, acking per {@link RawAck}.
 */
async function rawSide(url: string, tag: string, n: number, rep: number, ack: RawAck, pub: RawPub): Promise<Side> {
  const stream = `BENCH${process.pid}${tag}${rep}${pub}${ack}RAW`.toUpperCase();
  const subject = `benchraw${tag.toLowerCase()}${rep}${pub}${ack}.tick`;
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: stream,
    subjects: [subject],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
  });
  await jsm.consumers.add(stream, {
    durable_name: 'raw_consumer',
    ack_policy: ack === 'all' ? AckPolicy.All : AckPolicy.Explicit,
    max_ack_pending: PREFETCH * 4,
  });
  const js = jetstream(nc);
  const inbox = pub === 'inbox' ? inboxPublisher(nc) : undefined;
  const body = Buffer.alloc(1024, 97 + (rep % 26));
  return {
    send: (i) => {
      const b = Buffer.from(body);
      b.writeDoubleLE(now(), 0);
      b.writeUInt32LE(i, 8);
      return inbox ? inbox.send(subject, b) : js.publish(subject, b);
    },
    worker: { url, prefix: '', mode: 'raw', ack, n, stream },
    close: async () => {
      inbox?.stop();
      await jsm.streams.delete(stream);
      await nc.close();
    },
  };
}

/**
 * One flood: `n` events published with at most `window` awaiting their PubAck; the run ends when the consumer handled
 * the last one. eventsPerSec = n / (last handled − first publish): the acked publish-to-handle rate.
 */
async function flood(side: Side, n: number, window: number): Promise<Record<string, number>> {
  const w = startWorker(side.worker);
  await w.ready;
  const cpu = cpuMeter();
  const t0 = now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p: Promise<unknown> = side.send(i).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const pubSecs = (now() - t0) / 1000;
  const { lastAt, lat } = await w.done;
  const used = cpu(n);
  await w.stop();
  await side.close();
  return {
    eventsPerSec: Math.round(n / ((lastAt - t0) / 1000)),
    publishPerSec: Math.round(n / pubSecs),
    ...quantiles(lat, n),
    ...used,
  };
}

/**
 * Latency figures of a steady run whose first `warmup` events (in stream order, which is arrival order for one
 * ordered consumer) are the warm-up: p50/p99/max over the rest, plus the p99 and max over all events (cold start
 * included), so nothing is hidden.
 */
function steadyFigures(lat: Float64Array, n: number, warmup: number): Record<string, number> {
  const all = quantiles(lat, n);
  return {
    ...quantiles(lat.subarray(warmup), n - warmup),
    p99MsInclWarmup: all.p99Ms,
    maxMsInclWarmup: all.maxMs,
  };
}

/**
 * A steady rate. The consumer is a fresh worker thread (cold JIT) on a fresh connection: its first seconds are a
 * catch-up, not the steady state (measured on the 2-core machine: events 0 … ~8,000 late by up to 0.4–0.8 s, then
 * ~1 ms). So the rate runs `warmupSeconds` first, and the p50/p99 are taken over the following `seconds` (same rate,
 * same events, same acks and validation); the figures with the warm-up are reported too.
 */
async function steadyRun(
  side: Side,
  rate: number,
  seconds: number,
  warmupSeconds: number,
): Promise<Record<string, number>> {
  const warmup = rate * warmupSeconds;
  const n = warmup + rate * seconds;
  const w = startWorker(side.worker);
  await w.ready;
  const cpu = cpuMeter();
  const t0 = now();
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  while (sent < n) {
    const due = Math.min(n, Math.floor(((now() - t0) / 1000) * rate));
    while (sent < due) pending.push(side.send(sent++));
    if (pending.length > 4096) await Promise.all(pending.splice(0));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const { lat } = await w.done;
  const used = cpu(n);
  await w.stop();
  await side.close();
  return { ...steadyFigures(lat, n, warmup), ...used };
}

/** Per-figure medians over repetitions (every figure of a run is a number). */
function medians(runs: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(runs[0])) out[k] = median(runs.map((r) => r[k]));
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round(((s[m - 1] + s[m]) / 2) * 1000) / 1000;
}

const NATS_CLI = join(homedir(), '.cache', 'strata-infra', 'bin', 'nats');

/**
 * `nats bench` (the Go client, natscli) on the same server in the same run, `reps` times each: `js pub async`
 * (1 KiB, file storage, `window` publishes awaiting their PubAck) into a fresh stream, then `js consume` of what it
 * stored (explicit acks, pull batches of {@link PREFETCH}). Separate phases, one client each: not the same concurrent
 * publish-to-handle run as ours, a reference for what the server gives a compiled client. Skipped without the CLI.
 */
function natsBench(url: string, n: number, window: number, reps: number): Record<string, unknown> {
  if (!existsSync(NATS_CLI))
    return { skipped: `nats CLI not found at ${NATS_CLI} (GOBIN=… go install github.com/nats-io/natscli/nats@v0.5.0)` };
  const pub: number[] = [];
  const sub: number[] = [];
  const rate = (out: string): number => {
    // "NATS JetStream asynchronous publisher stats: 70,887 msgs/sec ~ 69 MiB/sec ~ …"
    const m = / stats: ([0-9,]+) msgs\/sec/.exec(out);
    if (!m) throw new Error(`nats bench printed no "stats: … msgs/sec" line:\n${out.slice(-800)}`);
    return Number(m[1].replace(/,/g, ''));
  };
  for (let r = 0; r < reps; r++) {
    const stream = `BENCH${process.pid}NB${r}`;
    const common = ['-s', url, '--no-progress', '--stream', stream, '--msgs', String(n)];
    const p = spawnSync(
      NATS_CLI,
      [
        'bench',
        'js',
        'pub',
        'async',
        `benchnb${r}.tick`,
        ...common,
        '--size',
        '1024',
        '--batch',
        String(window),
        '--create',
        '--storage',
        'file',
        '--purge',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (p.status !== 0) return { skipped: `nats bench js pub failed: ${(p.stderr || p.stdout).trim().slice(-500)}` };
    pub.push(rate(p.stdout + p.stderr));
    const c = spawnSync(
      NATS_CLI,
      ['bench', 'js', 'consume', ...common, '--size', '1024', '--batch', String(PREFETCH), '--acks', 'explicit'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    if (c.status !== 0)
      return { skipped: `nats bench js consume failed: ${(c.stderr || c.stdout).trim().slice(-500)}` };
    sub.push(rate(c.stdout + c.stderr));
    spawnSync(NATS_CLI, ['-s', url, 'stream', 'rm', stream, '-f'], { encoding: 'utf8' });
  }
  const v = spawnSync(NATS_CLI, ['--version'], { encoding: 'utf8' });
  return {
    natscli: (v.stdout || v.stderr).trim(),
    runs: reps,
    jsPubAsyncMsgsPerSec: median(pub),
    jsConsumeMsgsPerSec: median(sub),
    jsPubAsyncRuns: pub,
    jsConsumeRuns: sub,
  };
}

async function dropStreams(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name);
  await nc.close();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function startNats(): Promise<{ url: string; child: ChildProcess; dir: string } | undefined> {
  const bin = join(homedir(), '.cache', 'strata-infra', 'bin', 'nats-server');
  if (!existsSync(bin)) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-nats-'));
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const nc = await connect({ servers: url, reconnect: false });
      await nc.close();
      return { url, child, dir };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill();
  return undefined;
}

async function main(): Promise<void> {
  const loadStart = Math.round(loadavg()[0] * 100) / 100;
  const out: Record<string, unknown> = {
    bench: 'bus',
    eventBytes: 1024,
    validation: 'publish+consume',
    acks: true,
    runs: RUNS,
  };
  // Warm-up (JIT), not reported.
  await inProcessFlood(100_000, 0);
  const ip: Record<string, number>[] = [];
  const ips: Record<string, number>[] = [];
  const ipj: Record<string, number>[] = [];
  for (let r = 0; r < RUNS; r++) {
    ip.push(await inProcessFlood(1_000_000, r + 1));
    ips.push(await inProcessSteady(50_000, 3, r + 1));
    const dir = mkdtempSync(join(tmpdir(), 'bench-bus-'));
    ipj.push(await inProcessFlood(200_000, r + 1, dir));
    rmSync(dir, { recursive: true, force: true });
  }
  out.inProcess = { events: 1_000_000, ...medians(ip) };
  out.inProcessSteady = { rate: 50_000, events: 150_000, ...medians(ips) };
  out.inProcessJournal = { events: 200_000, ...medians(ipj) };

  let nats: { url: string; child: ChildProcess; dir: string } | undefined;
  let url = process.env.NATS_URL;
  if (!url) {
    nats = await startNats();
    url = nats?.url;
    serverPid = nats?.child.pid;
  }
  let ratio: number | undefined;
  let steadyP99: number | undefined;
  let jsRate: number | undefined;
  if (!url) out.jetstream = 'skipped: NATS_URL unset and ~/.cache/strata-infra/bin/nats-server missing';
  else {
    try {
      // The variants take turns within each repetition, so a load change on the shared machine hits all of them.
      const runs: Record<string, Record<string, number>[]> = { adapter: [] };
      for (const v of RAW_VARIANTS) runs[v.name] = [];
      for (let r = 0; r < RUNS; r++) {
        for (const v of RAW_VARIANTS)
          runs[v.name].push(await flood(await rawSide(url, 'F', FLOOD, r, v.ack, v.pub), FLOOD, WINDOW));
        runs.adapter.push(await flood(await busSide(url, 'F', FLOOD, r), FLOOD, WINDOW));
      }
      const raw: Record<string, Record<string, number>> = {};
      for (const v of RAW_VARIANTS) raw[v.name] = medians(runs[v.name]);
      const best = RAW_VARIANTS.map((v) => v.name).reduce((a, b) =>
        raw[b].eventsPerSec > raw[a].eventsPerSec ? b : a,
      );
      const adapter = medians(runs.adapter);
      jsRate = adapter.eventsPerSec;
      ratio = Math.round((adapter.eventsPerSec / raw[best].eventsPerSec) * 1000) / 1000;
      out.jetstreamFloodSettings = { events: FLOOD, window: WINDOW, prefetch: PREFETCH, storage: 'file' };
      out.jetstream = { ...adapter, eventsPerSecRuns: runs.adapter.map((x) => x.eventsPerSec) };
      out.jetstreamRaw = {
        ...Object.fromEntries(
          RAW_VARIANTS.map((v) => [
            v.name,
            { publish: v.pub, ack: v.ack, ...raw[v.name], eventsPerSecRuns: runs[v.name].map((x) => x.eventsPerSec) },
          ]),
        ),
        best,
      };
      const rs: Record<string, number>[] = [];
      const bs: Record<string, number>[] = [];
      for (let r = 0; r < RUNS; r++) {
        rs.push(
          await steadyRun(await rawSide(url, 'S', STEADY_N, r, 'turn', 'js'), STEADY_RATE, STEADY_S, STEADY_WARM_S),
        );
        bs.push(await steadyRun(await busSide(url, 'S', STEADY_N, r), STEADY_RATE, STEADY_S, STEADY_WARM_S));
      }
      const steadySettings = { rate: STEADY_RATE, warmupSeconds: STEADY_WARM_S, seconds: STEADY_S };
      out.jetstreamRawSteady = { ...steadySettings, publish: 'js', ack: 'turn', ...medians(rs) };
      out.jetstreamSteady = { ...steadySettings, ...medians(bs) };
      steadyP99 = medians(bs).p99Ms;
      const nb = natsBench(url, FLOOD, WINDOW, RUNS);
      out.natsBench = nb;
      out.ratios = {
        /** The target's figure: adapter ÷ the best raw-client variant, acked publish-to-handle events/s. */
        jetstreamVsBestRaw: ratio,
        jetstreamVsRawJsAckEach: Math.round((adapter.eventsPerSec / raw.jsAckEach.eventsPerSec) * 1000) / 1000,
        jetstreamSteadyP99VsRaw: Math.round((medians(bs).p99Ms / medians(rs).p99Ms) * 100) / 100,
        ...('jsPubAsyncMsgsPerSec' in nb
          ? {
              jetstreamVsNatsBenchPubAsync:
                Math.round((adapter.eventsPerSec / (nb.jsPubAsyncMsgsPerSec as number)) * 1000) / 1000,
              jetstreamVsNatsBenchConsume:
                Math.round((adapter.eventsPerSec / (nb.jsConsumeMsgsPerSec as number)) * 1000) / 1000,
            }
          : {}),
      };
      out.natsServer = nats ? 'started by the bench (file storage)' : `NATS_URL (${url})`;
    } finally {
      if (nats) {
        nats.child.kill();
        rmSync(nats.dir, { recursive: true, force: true });
      }
    }
  }
  const ipRate = (out.inProcess as Record<string, number>).eventsPerSec;
  out.targets = {
    inProcessEventsPerSec: 500_000,
    inProcessEventsPerSecMet: ipRate >= 500_000,
    jetstreamEventsPerSec: 20_000,
    ...(jsRate !== undefined ? { jetstreamEventsPerSecMet: jsRate >= 20_000 } : {}),
    jetstreamSteadyP99Ms: 10,
    ...(steadyP99 !== undefined ? { jetstreamSteadyP99Met: steadyP99 <= 10 } : {}),
    jetstreamVsBestRaw: 0.7,
    ...(ratio !== undefined ? { jetstreamVsBestRawMet: ratio >= 0.7 } : {}),
  };
  // Load average at the start and end: the figures are only comparable on an otherwise idle machine.
  out.machine = {
    cpus: cpus().length,
    node: process.version,
    loadavg1Start: loadStart,
    loadavg1End: Math.round(loadavg()[0] * 100) / 100,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

if (isMainThread) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
} else {
  void consumerWorker(workerData as WorkerIn);
}

export type { Tick };
