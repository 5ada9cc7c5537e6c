/**
 * W3C trace context with tracing export off (no OpenTelemetry SDK in this file): every message carries a
 * `traceparent`, a handler's publishes continue the trace of the message it handles, and a message published
 * inside a caller's context (an HTTP request's traceparent) carries that trace id.
 */
import { context, trace } from '@opentelemetry/api';
import { z } from 'zod';
import { defineEvent, type DeadLetter } from '@strata/platform-contracts';
import { InProcessEventBus } from './in-process-event-bus';
import { incomingContext, newTraceparent, outgoingHeaders } from './tracing';
import { waitFor } from './testing/event-bus.conformance';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

const First = defineEvent({
  subject: 'tracing.evt.first.happened.v1',
  schema: z.object({ n: z.number() }),
  description: 'first',
});
const Second = defineEvent({
  subject: 'tracing.evt.second.happened.v1',
  schema: z.object({ n: z.number() }),
  description: 'second, published by the handler of first',
});

describe('trace context without an OpenTelemetry SDK', () => {
  let bus: InProcessEventBus;
  beforeAll(() => {
    bus = new InProcessEventBus({ service: 'tracing' });
  });
  afterAll(() => bus.close());

  it('newTraceparent: version 00, random non-zero ids, not sampled', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    expect(a).toMatch(TRACEPARENT);
    expect(a.endsWith('-00')).toBe(true);
    expect(a).not.toBe(b);
    expect(a.slice(3, 35)).not.toBe('0'.repeat(32));
  });

  it('a producer with nothing active starts a trace; inside a caller context it continues it', () => {
    expect(trace.getTracerProvider().getTracer('x').startSpan('probe').isRecording()).toBe(false); // export off
    const started = outgoingHeaders('tracing.evt.first.happened.v1', { extra: '1' });
    expect(started.extra).toBe('1');
    expect(started.traceparent).toMatch(TRACEPARENT);
    const caller = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const inside = context.with(incomingContext({ traceparent: caller, tracestate: 'k=v' }), () =>
      outgoingHeaders('tracing.evt.first.happened.v1', undefined),
    );
    expect(inside.traceparent).toBe(caller);
    expect(inside.tracestate).toBe('k=v');
  });

  it('every delivered message has a traceparent, and a handler publishing continues the trace', async () => {
    const firsts: string[] = [];
    const seconds: string[] = [];
    await bus.subscribe(
      First,
      async (d, ctx) => {
        firsts.push(ctx.headers.traceparent);
        await bus.publish(Second, { n: d.n });
      },
      { consumer: 'tracing__first' },
    );
    await bus.subscribe(Second, (_d, ctx) => void seconds.push(ctx.headers.traceparent), {
      consumer: 'tracing__second',
    });
    await bus.publish(First, { n: 1 });
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await context.with(incomingContext({ traceparent: caller }), () => bus.publish(First, { n: 2 }));
    await waitFor(() => seconds.length === 2, 'two second events');
    const traceId = (tp: string) => TRACEPARENT.exec(tp)![1];
    for (const tp of [...firsts, ...seconds]) expect(tp).toMatch(TRACEPARENT);
    // Each first event's trace continues into the second event its handler published.
    expect(new Set(seconds.map(traceId))).toEqual(new Set(firsts.map(traceId)));
    expect(firsts.map(traceId)).toContain('0af7651916cd43dd8448eb211c80319c');
    expect(firsts[0]).not.toBe(firsts[1]);
  });

  it('logs one warn line with the reason for every dead letter', async () => {
    const lines: { obj: Record<string, unknown>; msg: string }[] = [];
    const logged = new InProcessEventBus({
      service: 'tracing-dlq',
      logger: { warn: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }) },
    });
    const dead: DeadLetter[] = [];
    await logged.subscribeDeadLetters(First.subject, (dl) => void dead.push(dl));
    await logged.subscribe(
      First,
      () => {
        throw new Error('boom');
      },
      { consumer: 'tracing__dlq', maxDeliver: 2, backoffMs: [1] },
    );
    await logged.publish(First, { n: 3 });
    await waitFor(() => dead.length === 1, 'a dead letter');
    await logged.close();
    expect(lines).toHaveLength(1);
    expect(lines[0].obj).toMatchObject({
      dlq: `dlq.${First.subject}`,
      subject: First.subject,
      consumer: 'tracing__dlq',
      reason: 'max_deliveries',
      detail: 'boom',
      deliveries: 2,
    });
    expect(lines[0].msg).toBe(`dead letter ${First.subject} (tracing__dlq): max_deliveries: boom`);
  });
});
