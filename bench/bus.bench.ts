/**
 * `npm run bench:bus`: publish→handle throughput and latency of both EventBus adapters, 1 KiB events (the envelope
 * JSON is 1024 bytes), schema validation on publish and on consume, acks on (JetStream: PubAck per publish, explicit
 * ack per delivery; in-process: consumer offset advanced per handled message).
 *
 * - in-process: a flood of events (throughput, latency under flood) and a steady rate; with a journal too.
 * - JetStream: the consumer runs in a worker thread with its own connection (a producer and a consumer service are
 *   separate processes in production); a flood with a window of in-flight publishes, then a steady 5,000 events/s
 *   for the p99 (3 s of warm-up at that rate, then 10 s measured; see {@link jetStreamSteady}). Baselines in the same
 *   run: the raw NATS client (no envelope, no validation, 1 KiB opaque bodies) doing the same flood and the same
 *   steady rate. Each JetStream figure carries the CPU spent per event by this
 *   process (producer + consumer worker) and by the nats-server the bench started: with everything on one machine,
 *   events/s × (client + server µs per event) / 1e6 is the number of cores the run keeps busy.
 *   Uses NATS_URL, else starts ~/.cache/strata-infra/bin/nats-server on a free port, else reports "skipped".
 *
 * Prints ONE JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { defineEvent, type EventBus } from '@strata/platform-contracts';
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

async function inProcessFlood(n: number, dataDir?: string): Promise<Record<string, number>> {
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
  const blob = blobFor();
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
  return { events: n, eventsPerSec: Math.round(n / secs), ...quantiles(lat, n) };
}

async function steady(
  bus: EventBus,
  rate: number,
  seconds: number,
  consumer: string,
  onLat?: () => Float64Array,
): Promise<{ lat: Float64Array; count: () => number; sent: number }> {
  const total = rate * seconds;
  const lat = onLat ? onLat() : new Float64Array(total);
  let got = 0;
  if (!onLat) {
    await bus.subscribe(
      Ticked,
      (d) => {
        lat[got++] = now() - d.sentAt;
      },
      { consumer },
    );
  }
  const blob = blobFor();
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
  return { lat, count: () => got, sent };
}

async function inProcessSteady(rate: number, seconds: number): Promise<Record<string, number>> {
  const bus = new InProcessEventBus({ service: 'bench' });
  const r = await steady(bus, rate, seconds, 'bench_steady');
  while (r.count() < r.sent) await tick();
  await bus.close();
  return { rate, events: r.sent, ...quantiles(r.lat, r.sent) };
}

// ------------------------------------------------------------------ JetStream

interface WorkerIn {
  url: string;
  prefix: string;
  mode: 'bus' | 'raw';
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
      { consumer: 'bench_consumer', prefetch: 512 },
    );
    parentPort!.postMessage({ type: 'ready' } satisfies WorkerMsg);
    parentPort!.once('message', () => void bus.close().then(() => process.exit(0)));
  } else {
    const nc = await connect({ servers: w.url });
    const c = await jetstream(nc).consumers.get(w.stream, 'raw_consumer');
    const msgs = await c.consume({ max_messages: 512 });
    parentPort!.postMessage({ type: 'ready' } satisfies WorkerMsg);
    parentPort!.once('message', () => void nc.drain().then(() => process.exit(0)));
    for await (const m of msgs) {
      const t = m.data;
      // Raw baseline: the send time is the first 8 bytes (float64), no JSON, no schema.
      lat[got++] = now() - Buffer.from(t.buffer, t.byteOffset, 8).readDoubleLE(0);
      m.ack();
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

async function jetStreamFlood(url: string, n: number, window: number): Promise<Record<string, number>> {
  const prefix = `BENCH${process.pid}F_`;
  const producer = await JetStreamEventBus.connect({
    servers: url,
    service: 'bench',
    streamPrefix: prefix,
    domains: [Ticked.domain],
  });
  const w = startWorker({ url, prefix, mode: 'bus', n, stream: '' });
  await w.ready;
  const blob = blobFor();
  const cpu = cpuMeter();
  const t0 = now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const p: Promise<unknown> = producer
      .publish(Ticked, { symbol: 'AAPL', seq: i, sentAt: now(), price: 187.25, blob })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const pubSecs = (now() - t0) / 1000;
  const { lastAt, lat } = await w.done;
  const used = cpu(n);
  const secs = (lastAt - t0) / 1000;
  await w.stop();
  await dropStreams(url, prefix);
  await producer.close();
  return {
    events: n,
    eventsPerSec: Math.round(n / secs),
    publishPerSec: Math.round(n / pubSecs),
    window,
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
    warmupEvents: warmup,
    ...quantiles(lat.subarray(warmup), n - warmup),
    p99MsInclWarmup: all.p99Ms,
    maxMsInclWarmup: all.maxMs,
  };
}

/**
 * The steady rate through the bus. The consumer is a fresh worker thread (cold JIT) on a fresh connection: its first
 * seconds are a catch-up, not the steady state (measured on the 2-core machine: events 0 … ~8,000 late by up to
 * 0.4–0.8 s, then ~1 ms). So the rate runs `warmupSeconds` first, and the p50/p99 are taken over the following
 * `seconds` (same rate, same events, same acks and validation); the figures with the warm-up are reported too.
 */
async function jetStreamSteady(
  url: string,
  rate: number,
  seconds: number,
  warmupSeconds: number,
): Promise<Record<string, number>> {
  const prefix = `BENCH${process.pid}S_`;
  const producer = await JetStreamEventBus.connect({
    servers: url,
    service: 'bench',
    streamPrefix: prefix,
    domains: [Ticked.domain],
  });
  const warmup = rate * warmupSeconds;
  const n = warmup + rate * seconds;
  const w = startWorker({ url, prefix, mode: 'bus', n, stream: '' });
  await w.ready;
  const cpu = cpuMeter();
  const r = await steady(producer, rate, warmupSeconds + seconds, '', () => new Float64Array(0));
  const { lat } = await w.done;
  const used = cpu(n);
  await w.stop();
  await dropStreams(url, prefix);
  await producer.close();
  return { rate, events: r.sent, ...steadyFigures(lat, n, warmup), ...used };
}

/** Baseline: the raw client, 1 KiB opaque bodies, no envelope, no validation, same stream settings and window. */
async function rawFlood(url: string, n: number, window: number): Promise<Record<string, number>> {
  const stream = `BENCH${process.pid}RAW`;
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: stream,
    subjects: ['benchraw.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
  });
  await jsm.consumers.add(stream, { durable_name: 'raw_consumer', ack_policy: AckPolicy.Explicit });
  const w = startWorker({ url, prefix: '', mode: 'raw', n, stream });
  await w.ready;
  const js = jetstream(nc);
  const body = Buffer.alloc(1024, 120);
  const cpu = cpuMeter();
  const t0 = now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < n; i++) {
    const b = Buffer.from(body);
    b.writeDoubleLE(now(), 0);
    const p: Promise<unknown> = js.publish('benchraw.tick', b).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= window) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const pubSecs = (now() - t0) / 1000;
  const { lastAt, lat } = await w.done;
  const used = cpu(n);
  await w.stop();
  await jsm.streams.delete(stream);
  await nc.close();
  return {
    events: n,
    eventsPerSec: Math.round(n / ((lastAt - t0) / 1000)),
    publishPerSec: Math.round(n / pubSecs),
    ...quantiles(lat, n),
    ...used,
  };
}

/**
 * Baseline for the steady run: the raw client publishing 1 KiB opaque bodies (`js.publish`, awaiting each PubAck) at the
 * same rate and with the same pacing loop, consumed by the raw consumer in a worker: what the machine gives any client.
 */
async function rawSteady(
  url: string,
  rate: number,
  seconds: number,
  warmupSeconds: number,
): Promise<Record<string, number>> {
  const stream = `BENCH${process.pid}RAWS`;
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({
    name: stream,
    subjects: ['benchraws.>'],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
  });
  await jsm.consumers.add(stream, { durable_name: 'raw_consumer', ack_policy: AckPolicy.Explicit });
  const warmup = rate * warmupSeconds;
  const n = warmup + rate * seconds;
  const w = startWorker({ url, prefix: '', mode: 'raw', n, stream });
  await w.ready;
  const js = jetstream(nc);
  const body = Buffer.alloc(1024, 120);
  const cpu = cpuMeter();
  const t0 = now();
  let sent = 0;
  const pending: Promise<unknown>[] = [];
  while (sent < n) {
    const due = Math.min(n, Math.floor(((now() - t0) / 1000) * rate));
    while (sent < due) {
      const b = Buffer.from(body);
      b.writeDoubleLE(now(), 0);
      pending.push(js.publish('benchraws.tick', b));
      sent++;
    }
    if (pending.length > 4096) await Promise.all(pending.splice(0));
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  const { lat } = await w.done;
  const used = cpu(n);
  await w.stop();
  await jsm.streams.delete(stream);
  await nc.close();
  return { rate, events: n, ...steadyFigures(lat, n, warmup), ...used };
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
  const out: Record<string, unknown> = { bench: 'bus', eventBytes: 1024, validation: 'publish+consume', acks: true };
  // Warm-up (JIT), not reported.
  await inProcessFlood(100_000);
  out.inProcess = await inProcessFlood(1_000_000);
  out.inProcessSteady = await inProcessSteady(50_000, 3);
  const dir = mkdtempSync(join(tmpdir(), 'bench-bus-'));
  out.inProcessJournal = await inProcessFlood(200_000, dir);
  rmSync(dir, { recursive: true, force: true });

  let nats: { url: string; child: ChildProcess; dir: string } | undefined;
  let url = process.env.NATS_URL;
  if (!url) {
    nats = await startNats();
    url = nats?.url;
    serverPid = nats?.child.pid;
  }
  if (!url) out.jetstream = 'skipped: NATS_URL unset and ~/.cache/strata-infra/bin/nats-server missing';
  else {
    try {
      out.jetstreamRawBaseline = await rawFlood(url, 50_000, 512);
      out.jetstream = await jetStreamFlood(url, 50_000, 512);
      out.jetstreamRawSteady = await rawSteady(url, 5000, 10, 3);
      out.jetstreamSteady = await jetStreamSteady(url, 5000, 10, 3);
      out.natsServer = nats ? 'started by the bench (file storage)' : `NATS_URL (${url})`;
    } finally {
      if (nats) {
        nats.child.kill();
        rmSync(nats.dir, { recursive: true, force: true });
      }
    }
  }
  out.targets = { inProcessEventsPerSec: 500_000, jetstreamEventsPerSec: 20_000, jetstreamSteadyP99Ms: 10 };
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
