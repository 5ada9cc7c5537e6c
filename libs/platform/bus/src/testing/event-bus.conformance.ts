import { context, trace } from '@opentelemetry/api';
import { node, tracing } from '@opentelemetry/sdk-node';
import { z } from 'zod';
import {
  defineCommand,
  defineEvent,
  type DeadLetter,
  type EventBus,
  type MessageContext,
} from '@strata/platform-contracts';
import { BusError } from '../bus-errors';

/** How the conformance suite obtains bus instances of one adapter. */
export interface EventBusFactory {
  /** Opens a bus instance (each call = one process/replica; several may be open at once). */
  open(service: string): Promise<EventBus>;
  /** Removes server-side state (streams, consumers) of the domains a test used. Called after each test. */
  cleanup?(domains: string[]): Promise<void>;
  /**
   * True when a closed bus's state survives into the next `open` (JetStream; in-process with a data directory):
   * enables the "whole bus restarts" test.
   */
  durableAcrossRestart: boolean;
}

/** Polls until `pred` holds or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let exporter: tracing.InMemorySpanExporter | undefined;
/**
 * Registers an OpenTelemetry SDK for the test file (W3C propagator, AsyncLocalStorage context, in-memory exporter),
 * as `main.ts` does with the real exporter. Idempotent.
 */
export function registerTestTracing(): tracing.InMemorySpanExporter {
  if (!exporter) {
    exporter = new tracing.InMemorySpanExporter();
    new node.NodeTracerProvider({ spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] }).register();
  }
  return exporter;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let counter = 0;
/** A domain (first subject token) unique to this test run, so every test has its own stream. */
export function uniqueDomain(): string {
  counter++;
  return `t${process.pid.toString(36)}${Date.now().toString(36)}${counter.toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`;
}

const ThingSchema = z.object({ n: z.number().int().nonnegative(), note: z.string().optional() });

function contracts(domain: string) {
  const Happened = defineEvent({
    subject: `${domain}.evt.thing.happened.v1`,
    schema: ThingSchema,
    description: 'test event',
  });
  /** Same subject, looser schema: a producer that publishes what a strict consumer must reject. */
  const HappenedLoose = defineEvent({
    subject: `${domain}.evt.thing.happened.v1`,
    schema: z.object({ n: z.number(), note: z.string().optional() }),
    description: 'test event, loose producer',
  });
  const Other = defineEvent({
    subject: `${domain}.evt.other.happened.v1`,
    schema: ThingSchema,
    description: 'another subject',
  });
  const Add = defineCommand({
    subject: `${domain}.cmd.add.v1`,
    schema: z.object({ a: z.number(), b: z.number() }),
    reply: z.object({ sum: z.number() }),
    description: 'adds two numbers',
  });
  return { Happened, HappenedLoose, Other, Add };
}

/**
 * The ONE conformance suite of the EventBus port (CONVENTIONS.md, Ports and adapters). Run it from each adapter's
 * spec with a factory; every guarantee of the port is exercised the same way on every adapter.
 */
export function eventBusConformance(adapter: string, makeFactory: () => EventBusFactory): void {
  describe(`EventBus conformance: ${adapter}`, () => {
    let factory: EventBusFactory;
    let open: EventBus[] = [];
    let domains: string[] = [];

    const bus = async (service = 'svc'): Promise<EventBus> => {
      const b = await factory.open(service);
      open.push(b);
      return b;
    };
    const domain = (): ReturnType<typeof contracts> => {
      const d = uniqueDomain();
      domains.push(d);
      return contracts(d);
    };

    let spans: tracing.InMemorySpanExporter;
    beforeAll(() => {
      factory = makeFactory();
      spans = registerTestTracing();
    });
    afterEach(async () => {
      for (const b of open.reverse()) await b.close();
      open = [];
      await factory.cleanup?.(domains);
      domains = [];
    });

    it('delivers one subject in publish order to one subscriber, with a valid envelope', async () => {
      const { Happened } = domain();
      const b = await bus('orders');
      const got: number[] = [];
      const ctxs: MessageContext<{ n: number }>[] = [];
      await b.subscribe(
        Happened,
        async (d, ctx) => {
          got.push(d.n);
          if (ctxs.length < 1) ctxs.push(ctx);
        },
        { consumer: 'c_order' },
      );
      const N = 300;
      const pubs = [];
      for (let i = 0; i < N; i++) pubs.push(b.publish(Happened, { n: i }));
      const envs = await Promise.all(pubs);
      await waitFor(() => got.length >= N, `${N} messages`);
      expect(got).toEqual([...Array(N).keys()]);
      const first = ctxs[0];
      expect(first.subject).toBe(Happened.subject);
      expect(first.deliveryCount).toBe(1);
      expect(first.envelope).toMatchObject({
        id: envs[0].id,
        type: Happened.subject,
        version: 1,
        producer: 'orders',
        causationId: null,
        data: { n: 0 },
      });
      expect(first.envelope.correlationId).toBe(envs[0].id);
      expect(new Date(first.envelope.occurredAt).toISOString()).toBe(first.envelope.occurredAt);
    });

    it('rejects an invalid payload on publish, naming the field', async () => {
      const { Happened } = domain();
      const b = await bus();
      const err = await b.publish(Happened, { n: -1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BusError);
      expect((err as BusError).code).toBe('invalid_payload');
      expect((err as BusError).issues[0].path).toBe('n');
    });

    it('redelivers with backoff after a handler throws', async () => {
      const { Happened } = domain();
      const b = await bus();
      const seen: Array<{ id: string; count: number; at: number }> = [];
      await b.subscribe(
        Happened,
        (_d, ctx) => {
          seen.push({ id: ctx.envelope.id, count: ctx.deliveryCount, at: Date.now() });
          if (ctx.deliveryCount === 1) throw new Error('transient');
        },
        { consumer: 'c_retry', backoffMs: [300], maxDeliver: 5 },
      );
      const env = await b.publish(Happened, { n: 1 });
      await waitFor(() => seen.length >= 2, 'a redelivery');
      await sleep(100);
      expect(seen.map((s) => s.count)).toEqual([1, 2]);
      expect(seen.every((s) => s.id === env.id)).toBe(true);
      expect(seen[1].at - seen[0].at).toBeGreaterThanOrEqual(250);
    });

    it('dead-letters after maxDeliver deliveries with the reason, and keeps going', async () => {
      const { Happened } = domain();
      const b = await bus();
      const dls: DeadLetter[] = [];
      await b.subscribeDeadLetters(Happened.subject, (dl) => {
        dls.push(dl);
      });
      const calls: number[] = [];
      const ok: number[] = [];
      await b.subscribe(
        Happened,
        (d, ctx) => {
          if (d.n === 13) {
            calls.push(ctx.deliveryCount);
            throw new Error('poisoned thirteen');
          }
          ok.push(d.n);
        },
        { consumer: 'c_dlq', maxDeliver: 3, backoffMs: [20, 40] },
      );
      const env = await b.publish(Happened, { n: 13 });
      await b.publish(Happened, { n: 14 });
      await waitFor(() => dls.length >= 1 && ok.length >= 1, 'a dead letter');
      await sleep(150);
      expect(calls).toEqual([1, 2, 3]);
      expect(dls).toHaveLength(1);
      expect(dls[0]).toMatchObject({
        subject: Happened.subject,
        consumer: 'c_dlq',
        reason: 'max_deliveries',
        deliveries: 3,
      });
      expect(dls[0].detail).toContain('poisoned thirteen');
      expect(JSON.parse(dls[0].payload)).toMatchObject({ id: env.id, data: { n: 13 } });
      expect(ok).toEqual([14]);
    });

    it('sends a message that fails the consumer schema straight to the DLQ, never to the handler', async () => {
      const { Happened, HappenedLoose } = domain();
      const b = await bus();
      const dls: DeadLetter[] = [];
      await b.subscribeDeadLetters(Happened.subject, (dl) => {
        dls.push(dl);
      });
      const got: number[] = [];
      await b.subscribe(Happened, (d) => void got.push(d.n), { consumer: 'c_schema', maxDeliver: 5, backoffMs: [10] });
      await b.publish(HappenedLoose, { n: 2.5 });
      await b.publish(Happened, { n: 3 });
      await waitFor(() => dls.length >= 1 && got.length >= 1, 'schema dead letter');
      await sleep(100);
      expect(got).toEqual([3]);
      expect(dls).toHaveLength(1);
      expect(dls[0]).toMatchObject({ reason: 'schema_invalid', deliveries: 1, consumer: 'c_schema' });
      expect(dls[0].detail).toContain('n');
    });

    it('a handler that never finishes is redelivered after ackWait, then dead-lettered after maxDeliver', async () => {
      const { Happened } = domain();
      const b = await bus();
      const dls: DeadLetter[] = [];
      await b.subscribeDeadLetters(Happened.subject, (dl) => {
        dls.push(dl);
      });
      const counts: number[] = [];
      await b.subscribe(
        Happened,
        (_d, ctx) => {
          counts.push(ctx.deliveryCount);
          return new Promise<void>(() => undefined); // hangs forever
        },
        { consumer: 'c_hang', ackWaitMs: 700, maxDeliver: 2, backoffMs: [10] },
      );
      await b.publish(Happened, { n: 5 });
      await waitFor(() => dls.length >= 1, 'ack-wait dead letter', 15_000);
      expect(counts).toEqual([1, 2]);
      expect(dls[0]).toMatchObject({ reason: 'max_deliveries', consumer: 'c_hang' });
      expect(dls[0].deliveries).toBeGreaterThanOrEqual(2);
    }, 20_000);

    it('stores a republished envelope id once', async () => {
      const { Happened } = domain();
      const b = await bus();
      const ids: string[] = [];
      await b.subscribe(Happened, (_d, ctx) => void ids.push(ctx.envelope.id), { consumer: 'c_dedup' });
      const first = await b.publish(Happened, { n: 1 });
      await b.publish(Happened, { n: 1 }, { id: first.id });
      await b.publish(Happened, { n: 1 }, { id: first.id });
      const last = await b.publish(Happened, { n: 2 });
      await waitFor(() => ids.includes(last.id), 'the message after the duplicates');
      await sleep(50);
      expect(ids).toEqual([first.id, last.id]);
    });

    it('splits the work between subscribers sharing a consumer name (replicas)', async () => {
      const { Happened } = domain();
      const producer = await bus('producer');
      const r1 = await bus('worker');
      const r2 = await bus('worker');
      const got1: number[] = [];
      const got2: number[] = [];
      const slow = (into: number[]) => async (d: { n: number }) => {
        into.push(d.n);
        await sleep(2);
      };
      await r1.subscribe(Happened, slow(got1), { consumer: 'c_shared', prefetch: 4 });
      await r2.subscribe(Happened, slow(got2), { consumer: 'c_shared', prefetch: 4 });
      const N = 120;
      await Promise.all([...Array(N).keys()].map((n) => producer.publish(Happened, { n })));
      await waitFor(() => new Set([...got1, ...got2]).size >= N, 'all messages across replicas');
      expect(got1.length).toBeGreaterThan(N / 10);
      expect(got2.length).toBeGreaterThan(N / 10);
      expect(new Set([...got1, ...got2]).size).toBe(N);
    });

    it('gives every consumer group its own copy, and keeps subjects apart', async () => {
      const { Happened, Other } = domain();
      const b = await bus();
      const a: number[] = [];
      const c: number[] = [];
      const o: number[] = [];
      await b.subscribe(Happened, (d) => void a.push(d.n), { consumer: 'c_a' });
      await b.subscribe(Happened, (d) => void c.push(d.n), { consumer: 'c_b' });
      await b.subscribe(Other, (d) => void o.push(d.n), { consumer: 'c_o' });
      for (let i = 0; i < 10; i++) await b.publish(Happened, { n: i });
      await b.publish(Other, { n: 99 });
      await waitFor(() => a.length >= 10 && c.length >= 10 && o.length >= 1, 'fan-out');
      expect(a).toEqual([...Array(10).keys()]);
      expect(c).toEqual([...Array(10).keys()]);
      expect(o).toEqual([99]);
    });

    it('loses nothing across a consumer restart (stop, publish, resubscribe with the same consumer)', async () => {
      const { Happened } = domain();
      const b = await bus();
      const got: number[] = [];
      const sub = await b.subscribe(Happened, (d) => void got.push(d.n), { consumer: 'c_restart' });
      for (let i = 0; i < 5; i++) await b.publish(Happened, { n: i });
      await waitFor(() => got.length >= 5, 'first batch');
      await sub.stop();
      for (let i = 5; i < 10; i++) await b.publish(Happened, { n: i });
      await sleep(100);
      expect(got).toEqual([0, 1, 2, 3, 4]);
      const again: number[] = [];
      await b.subscribe(Happened, (d) => void again.push(d.n), { consumer: 'c_restart' });
      await waitFor(() => again.length >= 5, 'messages published while stopped');
      await sleep(50);
      expect(again).toEqual([5, 6, 7, 8, 9]);
    });

    it('a new consumer with deliverFrom "new" skips history; with "all" it reads it', async () => {
      const { Happened } = domain();
      const b = await bus();
      await b.publish(Happened, { n: 1 });
      const fresh: number[] = [];
      const all: number[] = [];
      await b.subscribe(Happened, (d) => void fresh.push(d.n), { consumer: 'c_new', deliverFrom: 'new' });
      await b.subscribe(Happened, (d) => void all.push(d.n), { consumer: 'c_all', deliverFrom: 'all' });
      await b.publish(Happened, { n: 2 });
      await waitFor(() => fresh.length >= 1 && all.length >= 2, 'both consumers');
      await sleep(50);
      expect(fresh).toEqual([2]);
      expect(all).toEqual([1, 2]);
    });

    it('answers a command with request/reply, validating both sides', async () => {
      const { Add } = domain();
      const server = await bus('calc');
      const client = await bus('client');
      const noResp = await client.request(Add, { a: 1, b: 2 }, { timeoutMs: 1000 }).catch((e: unknown) => e);
      expect((noResp as BusError).code).toBe('no_responders');
      await server.reply(
        Add,
        async (d, ctx) => {
          expect(ctx.envelope.type).toBe(Add.subject);
          if (d.a < 0) throw new Error('negative a');
          if (d.a === 666) return { sum: 'nope' } as unknown as { sum: number };
          return { sum: d.a + d.b };
        },
        { queue: 'calc' },
      );
      await expect(client.request(Add, { a: 2, b: 40 })).resolves.toEqual({ sum: 42 });
      const failed = await client.request(Add, { a: -1, b: 0 }).catch((e: unknown) => e);
      expect((failed as BusError).code).toBe('handler_error');
      expect((failed as BusError).message).toContain('negative a');
      const bad = await client.request(Add, { a: 666, b: 0 }).catch((e: unknown) => e);
      expect((bad as BusError).code).toBe('invalid_reply');
      const invalid = await client
        .request(Add, { a: 'x', b: 0 } as unknown as { a: number; b: number })
        .catch((e: unknown) => e);
      expect((invalid as BusError).code).toBe('invalid_payload');
    });

    it('carries the W3C trace context from the publisher to a consumer span around the handler', async () => {
      const { Happened } = domain();
      const b = await bus();
      let seen: { header: string | undefined; traceId: string | undefined } | undefined;
      await b.subscribe(
        Happened,
        (_d, ctx) => {
          seen = { header: ctx.headers.traceparent, traceId: trace.getSpan(context.active())?.spanContext().traceId };
        },
        { consumer: 'c_trace' },
      );
      let producerTrace = '';
      await trace.getTracer('conformance').startActiveSpan('gateway request', async (span) => {
        producerTrace = span.spanContext().traceId;
        await b.publish(Happened, { n: 1 });
        span.end();
      });
      await waitFor(() => seen !== undefined, 'traced delivery');
      expect(seen!.header).toMatch(new RegExp(`^00-${producerTrace}-[0-9a-f]{16}-0[01]$`));
      expect(seen!.traceId).toBe(producerTrace);
      await waitFor(
        () => spans.getFinishedSpans().some((s) => s.name === `${Happened.subject} process`),
        'consumer span ended',
      );
      const consumerSpan = spans.getFinishedSpans().find((s) => s.name === `${Happened.subject} process`)!;
      expect(consumerSpan.spanContext().traceId).toBe(producerTrace);
      expect(consumerSpan.attributes['messaging.consumer.group.name']).toBe('c_trace');
    });

    it('drains in-flight handlers on close', async () => {
      const { Happened } = domain();
      const b = await factory.open('svc');
      const finished: number[] = [];
      await b.subscribe(
        Happened,
        async (d) => {
          await sleep(150);
          finished.push(d.n);
        },
        { consumer: 'c_drain' },
      );
      await b.publish(Happened, { n: 1 });
      await sleep(50); // the handler is now running
      await b.close();
      expect(finished).toEqual([1]);
      expect(b.health().status).toBe('down');
    });

    it('resumes a durable consumer after the whole bus restarts', async () => {
      if (!factory.durableAcrossRestart) return;
      const { Happened } = domain();
      const b1 = await factory.open('svc');
      const got: number[] = [];
      await b1.subscribe(Happened, (d) => void got.push(d.n), { consumer: 'c_durable' });
      for (let i = 0; i < 3; i++) await b1.publish(Happened, { n: i });
      await waitFor(() => got.length >= 3, 'before restart');
      await b1.close();
      const b2 = await bus('svc');
      for (let i = 3; i < 6; i++) await b2.publish(Happened, { n: i });
      const after: number[] = [];
      await b2.subscribe(Happened, (d) => void after.push(d.n), { consumer: 'c_durable' });
      await waitFor(() => after.length >= 3, 'after restart');
      await sleep(50);
      expect(after).toEqual([3, 4, 5]);
    });
  });
}
