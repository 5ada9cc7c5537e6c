import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { z } from 'zod';
import { defineCommand, defineEvent, type DeadLetter, type EventBus } from '@strata/platform-contracts';
import { BusError } from './bus-errors';
import { natsTarget, uniqueName } from '../../../../test/infra';
import { JetStreamEventBus } from './jetstream-event-bus';
import { eventBusConformance, uniqueDomain, waitFor, type EventBusFactory } from './testing/event-bus.conformance';

const nats = natsTarget();

/** Every bus of one test run uses its own stream prefix; streams of a test's domains are deleted after it. */
function jetStreamFactory(url: string): EventBusFactory {
  const streamPrefix = `${uniqueName('T').toUpperCase()}_`;
  const buses: JetStreamEventBus[] = [];
  return {
    durableAcrossRestart: true,
    async open(service: string): Promise<EventBus> {
      const b = await JetStreamEventBus.connect({
        servers: url,
        service,
        streamPrefix,
        storage: 'memory',
        closeTimeoutMs: 3000,
      });
      buses.push(b);
      return b;
    },
    async cleanup(domains: string[]): Promise<void> {
      await deleteStreams(url, streamPrefix, domains);
    },
  };
}

async function deleteStreams(url: string, prefix: string, domains: string[]): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const d of domains) {
      const up = d.toUpperCase().replace(/-/g, '_');
      for (const name of [`${prefix}${up}`, `${prefix}DLQ_${up}`]) await jsm.streams.delete(name).catch(() => false);
    }
  } finally {
    await nc.close();
  }
}

nats.describeIf('JetStreamEventBus against a real nats-server', () => {
  const url = nats.url!;
  eventBusConformance('jetstream', () => jetStreamFactory(url));

  describe('JetStream specifics', () => {
    const prefix = `${uniqueName('S').toUpperCase()}_`;
    const domains: string[] = [];
    afterAll(() => deleteStreams(url, prefix, domains));

    it('creates the domain and DLQ streams idempotently, with the dedup window', async () => {
      const domain = uniqueDomain();
      domains.push(domain);
      const a = await JetStreamEventBus.connect({
        servers: url,
        service: 'a',
        streamPrefix: prefix,
        domains: [domain],
      });
      const b = await JetStreamEventBus.connect({
        servers: url,
        service: 'b',
        streamPrefix: prefix,
        domains: [domain],
      });
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(a.streamName(domain));
      expect(info.config.subjects).toEqual([`${domain}.>`]);
      expect(info.config.duplicate_window).toBe(120_000 * 1e6);
      const dlq = await jsm.streams.info(a.deadLetterStreamName(domain));
      expect(dlq.config.subjects).toEqual([`dlq.${domain}.>`]);
      await Promise.all([a.close(), b.close(), nc.close()]);
    });

    it('applies the stream limits: defaults (a year; dead letters bounded), overrides, and updates an existing stream', async () => {
      const domain = uniqueDomain();
      domains.push(domain);
      const key = domain.toUpperCase();
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      const a = await JetStreamEventBus.connect({
        servers: url,
        service: 'a',
        streamPrefix: prefix,
        domains: [domain],
      });
      const limits = async (name: string) => {
        const c = (await jsm.streams.info(name)).config;
        return { max_age: c.max_age, max_bytes: c.max_bytes, discard: c.discard };
      };
      const DAY_NS = 86_400 * 1e9;
      expect(await limits(a.streamName(domain))).toEqual({ max_age: 365 * DAY_NS, max_bytes: -1, discard: 'old' });
      expect(await limits(a.deadLetterStreamName(domain))).toEqual({
        max_age: 30 * DAY_NS,
        max_bytes: 64 * 1024 * 1024,
        discard: 'old',
      });
      await a.close();
      // A redeployment with other limits updates the existing streams.
      const b = await JetStreamEventBus.connect({
        servers: url,
        service: 'b',
        streamPrefix: prefix,
        domains: [domain],
        streamLimits: {
          [key]: { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 * 1024, discard: 'new' },
          DLQ: { maxBytes: 2048 * 1024 },
        },
      });
      expect(await limits(b.streamName(domain))).toEqual({
        max_age: 7 * DAY_NS,
        max_bytes: 1024 * 1024,
        discard: 'new',
      });
      expect(await limits(b.deadLetterStreamName(domain))).toEqual({
        max_age: 30 * DAY_NS,
        max_bytes: 2048 * 1024,
        discard: 'old',
      });
      await Promise.all([b.close(), nc.close()]);
    });

    it('puts a traceparent on every stored message and logs each dead letter with its reason and stream sequence', async () => {
      const domain = uniqueDomain();
      domains.push(domain);
      const Ev = defineEvent({
        subject: `${domain}.evt.job.started.v1`,
        schema: z.object({ n: z.number() }),
        description: 'x',
      });
      const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
      const bus = await JetStreamEventBus.connect({
        servers: url,
        service: 'logged',
        streamPrefix: prefix,
        logger: { warn: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }) },
      });
      const dead: DeadLetter[] = [];
      await bus.subscribeDeadLetters(Ev.subject, (dl) => void dead.push(dl));
      await bus.subscribe(
        Ev,
        () => {
          throw new Error('cannot start job');
        },
        { consumer: 'logged_jobs', maxDeliver: 2, backoffMs: [10] },
      );
      await bus.publish(Ev, { n: 1 });
      await waitFor(() => dead.length === 1, 'a dead letter');
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      const stored = await jsm.streams.getMessage(bus.streamName(domain), { seq: 1 });
      expect(stored?.header.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const dl = await jsm.streams.getMessage(bus.deadLetterStreamName(domain), { seq: 1 });
      expect(dl?.header.get('traceparent')).toBe(stored?.header.get('traceparent'));
      expect(lines).toHaveLength(1);
      expect(lines[0].obj).toMatchObject({
        dlq: `dlq.${Ev.subject}`,
        consumer: 'logged_jobs',
        reason: 'max_deliveries',
        detail: 'cannot start job',
        deliveries: 2,
        stream: bus.streamName(domain),
        streamSeq: 1,
      });
      expect(lines[0].msg).toBe(`dead letter ${Ev.subject} (logged_jobs): max_deliveries: cannot start job`);
      await Promise.all([bus.close(), nc.close()]);
    });

    it('redelivers the message of a worker that died mid-message to another replica', async () => {
      const domain = uniqueDomain();
      domains.push(domain);
      const Ev = defineEvent({
        subject: `${domain}.evt.job.started.v1`,
        schema: z.object({ n: z.number() }),
        description: 'x',
      });
      const dying = await JetStreamEventBus.connect({ servers: url, service: 'w', streamPrefix: prefix });
      const seenByDying: number[] = [];
      await dying.subscribe(
        Ev,
        (d) => {
          seenByDying.push(d.n);
          return new Promise<void>(() => undefined); // never finishes: the process "dies" below
        },
        { consumer: 'w_jobs', ackWaitMs: 1000, prefetch: 1 },
      );
      await dying.publish(Ev, { n: 7 });
      await waitFor(() => seenByDying.length === 1, 'first delivery');
      await dying.connection().close(); // abrupt: no ack, no drain
      const survivor = await JetStreamEventBus.connect({ servers: url, service: 'w', streamPrefix: prefix });
      const got: Array<{ n: number; count: number }> = [];
      await survivor.subscribe(Ev, (d, ctx) => void got.push({ n: d.n, count: ctx.deliveryCount }), {
        consumer: 'w_jobs',
        ackWaitMs: 1000,
        prefetch: 1,
      });
      await waitFor(() => got.length === 1, 'redelivery to the survivor', 10_000);
      expect(got[0]).toEqual({ n: 7, count: 2 });
      await survivor.close();
    }, 20_000);

    it('dead-letters from the max-deliveries advisory when the server gives up on a message', async () => {
      const domain = uniqueDomain();
      domains.push(domain);
      const Ev = defineEvent({
        subject: `${domain}.evt.job.started.v1`,
        schema: z.object({ n: z.number() }),
        description: 'x',
      });
      const watcher = await JetStreamEventBus.connect({
        servers: url,
        service: 'w',
        streamPrefix: prefix,
        domains: [domain],
      });
      const dls: DeadLetter[] = [];
      await watcher.subscribeDeadLetters(Ev.subject, (dl) => void dls.push(dl));
      // A worker outside the bus (think: crashed twice mid-message) pulls the message and never acks it.
      const nc = await connect({ servers: url });
      const jsm = await jetstreamManager(nc);
      const stream = watcher.streamName(domain);
      await jsm.consumers.add(stream, {
        durable_name: 'raw_worker',
        ack_policy: AckPolicy.Explicit,
        filter_subject: Ev.subject,
        ack_wait: nanos(300),
        max_deliver: 2,
      });
      const env = await watcher.publish(Ev, { n: 1 });
      const c = await jetstream(nc).consumers.get(stream, 'raw_worker');
      for (let i = 0; i < 4 && dls.length === 0; i++) {
        const batch = await c.fetch({ max_messages: 1, expires: 1000 });
        for await (const _m of batch) {
          // not acknowledged
        }
        await new Promise((r) => setTimeout(r, 350));
      }
      await waitFor(() => dls.length >= 1, 'dead letter from the advisory', 10_000);
      expect(dls[0]).toMatchObject({
        subject: Ev.subject,
        consumer: 'raw_worker',
        reason: 'max_deliveries',
        deliveries: 2,
      });
      expect(JSON.parse(dls[0].payload)).toMatchObject({ id: env.id });
      await Promise.all([watcher.close(), nc.close()]);
    }, 20_000);

    it('refuses messages and replies above the server max payload as payload_too_large, naming both sizes', async () => {
      const domain = uniqueDomain();
      domains.push(domain);
      const Ev = defineEvent({
        subject: `${domain}.evt.blob.stored.v1`,
        schema: z.object({ s: z.string() }),
        description: 'x',
      });
      const Echo = defineCommand({
        subject: `${domain}.cmd.echo.v1`,
        schema: z.object({ n: z.number() }),
        reply: z.object({ s: z.string() }),
        description: 'answers n bytes',
      });
      const bus = await JetStreamEventBus.connect({
        servers: url,
        service: 'p',
        streamPrefix: prefix,
        domains: [domain],
      });
      const max = bus.connection().info!.max_payload;
      const big = 'x'.repeat(max);
      const rejected = async (p: Promise<unknown>): Promise<BusError> => {
        try {
          await p;
        } catch (e) {
          return e as BusError;
        }
        throw new Error('expected a rejection');
      };
      const pub = await rejected(bus.publish(Ev, { s: big }));
      expect(pub).toBeInstanceOf(BusError);
      expect(pub.code).toBe('payload_too_large');
      expect(pub.size!.maxBytes).toBe(max);
      expect(pub.size!.bytes).toBeGreaterThan(max);
      expect(pub.message).toContain(`${max} bytes`);
      await bus.reply(Echo, async ({ n }) => ({ s: 'y'.repeat(n) }), { queue: 'echo' });
      expect(await bus.request(Echo, { n: 10 })).toEqual({ s: 'y'.repeat(10) });
      const req = await rejected(bus.request(Echo, { n: 0 }, { headers: { pad: big } }));
      expect(req.code).toBe('payload_too_large');
      const reply = await rejected(bus.request(Echo, { n: max }));
      expect(reply.code).toBe('payload_too_large');
      expect(reply.message).toMatch(/reply is \d+ bytes, over the NATS server's max payload/);
      // The bus still works afterwards.
      expect(await bus.request(Echo, { n: 3 })).toEqual({ s: 'yyy' });
      await bus.close();
    }, 20_000);
  });
});
