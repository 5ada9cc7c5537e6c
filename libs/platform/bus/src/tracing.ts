import {
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { randomFillSync } from 'node:crypto';

const TRACER_NAME = '@strata/platform-bus';

/** W3C header names of the trace context every bus message carries. */
export const TRACEPARENT_HEADER = 'traceparent';
/** Vendor-specific trace state travelling with {@link TRACEPARENT_HEADER}. */
export const TRACESTATE_HEADER = 'tracestate';

/**
 * The bus always speaks W3C trace context on its messages, whatever propagator (if any) the process registered, so a
 * message carries `traceparent` with or without an OpenTelemetry SDK.
 */
const w3c = new W3CTraceContextPropagator();

const PROBE = createContextKey('strata.trace-context.probe');

/** True when a context manager is registered that keeps a context across `context.with` (not the no-op default). */
function contextManagerWorks(): boolean {
  return context.with(ROOT_CONTEXT.setValue(PROBE, true), () => context.active().getValue(PROBE) === true);
}

/**
 * Makes trace context flow without an OpenTelemetry SDK (tracing export off): registers an AsyncLocalStorage context
 * manager and the W3C trace-context propagator unless the process already has them (the SDK registers its own when
 * it starts first). Idempotent and cheap; called by both bus adapters' constructors, so a handler that publishes
 * continues the trace of the message (or HTTP request) it handles.
 */
export function ensureTraceContext(): void {
  if (!contextManagerWorks()) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (!propagation.fields().includes(TRACEPARENT_HEADER)) propagation.setGlobalPropagator(w3c);
}

const recordSetter: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

const recordGetter: TextMapGetter<Record<string, string>> = {
  get(carrier, key) {
    return carrier[key];
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = Buffer.allocUnsafe(24 * 256);
let poolAt = POOL.length;

/**
 * A new W3C `traceparent` (version 00, random 16-byte trace id and 8-byte parent id, not sampled): the trace a
 * producer starts when nothing is active. Random bytes come from a pooled `randomFillSync`, refilled every 256 ids.
 */
export function newTraceparent(): string {
  if (poolAt === POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const b = POOL;
  const o = poolAt;
  poolAt += 24;
  // All-zero ids are invalid (W3C); with 2^-128 odds, force one bit rather than draw again.
  if (b[o] === 0) b[o] = 1;
  if (b[o + 16] === 0) b[o + 16] = 1;
  let s = '00-';
  for (let i = 0; i < 16; i++) s += HEX[b[o + i]];
  s += '-';
  for (let i = 16; i < 24; i++) s += HEX[b[o + i]];
  return s + '-00';
}

/**
 * The headers of an outgoing message: `extra` plus the W3C trace context (`traceparent`, `tracestate`). The trace is
 * continued from the active span (an HTTP request, the message being handled); with none active the producer starts
 * one: a `<subject> publish` PRODUCER span when an OpenTelemetry SDK records spans, else a fresh `traceparent`
 * ({@link newTraceparent}). Every message therefore carries a `traceparent`, with or without tracing export.
 */
export function outgoingHeaders(subject: string, extra: Record<string, string> | undefined): Record<string, string> {
  const carrier: Record<string, string> = extra ? { ...extra } : {};
  const active = context.active();
  if (trace.getSpanContext(active)) {
    w3c.inject(active, carrier, recordSetter);
    if (carrier[TRACEPARENT_HEADER] !== undefined) return carrier;
  }
  const span = trace.getTracer(TRACER_NAME).startSpan(`${subject} publish`, { kind: SpanKind.PRODUCER }, active);
  if (span.isRecording()) {
    w3c.inject(trace.setSpan(active, span), carrier, recordSetter);
    span.end();
  } else carrier[TRACEPARENT_HEADER] = newTraceparent();
  return carrier;
}

/** Received headers read in place (NATS `MsgHdrs` fits), so a delivery needs no header record to be traced. */
export interface HeaderCarrier {
  has(key: string): boolean;
  get(key: string): string;
  keys(): string[];
}

/** A message without headers. */
export const NO_HEADERS: HeaderCarrier = { has: () => false, get: () => '', keys: () => [] };

const carrierGetter: TextMapGetter<HeaderCarrier> = {
  get(carrier, key) {
    return carrier.has(key) ? carrier.get(key) : undefined;
  },
  keys(carrier) {
    return carrier.keys();
  },
};

function isCarrier(h: Record<string, string> | HeaderCarrier): h is HeaderCarrier {
  return typeof (h as HeaderCarrier).get === 'function' && typeof (h as HeaderCarrier).has === 'function';
}

/** Extracts the remote W3C trace context from a header record or carrier (exact header names). */
export function incomingContext(headers: Record<string, string> | HeaderCarrier): Context {
  return isCarrier(headers)
    ? w3c.extract(context.active(), headers, carrierGetter)
    : w3c.extract(context.active(), headers, recordGetter);
}

/** Attributes of a consumer span. */
export interface ConsumerSpanInfo {
  subject: string;
  consumer: string;
  messageId: string;
  deliveryCount: number;
  system: 'nats' | 'in-process';
}

/**
 * Runs `fn` inside a CONSUMER span whose parent is the trace context carried in `headers`; ends the span when the
 * returned value (or promise) settles, recording a thrown error. With no OpenTelemetry SDK registered the span is the
 * remote context itself (no-op), so what `fn` publishes continues the message's trace at the cost of a few calls.
 */
export function inConsumerSpan<R>(
  headers: Record<string, string> | HeaderCarrier,
  info: ConsumerSpanInfo,
  fn: () => R,
): R {
  const parent = incomingContext(headers);
  const span = trace.getTracer(TRACER_NAME).startSpan(
    `${info.subject} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': info.system,
        'messaging.destination.name': info.subject,
        'messaging.consumer.group.name': info.consumer,
        'messaging.message.id': info.messageId,
        'messaging.delivery_count': info.deliveryCount,
      },
    },
    parent,
  );
  const fail = (e: unknown): void => {
    span.recordException(e instanceof Error ? e : String(e));
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    span.end();
  };
  let out: R;
  try {
    out = context.with(trace.setSpan(parent, span), fn);
  } catch (e) {
    fail(e);
    throw e;
  }
  if (isPromiseLike(out)) {
    out.then(
      () => span.end(),
      (e: unknown) => fail(e),
    );
  } else span.end();
  return out;
}

/** True for thenables (handler results). */
export function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}
