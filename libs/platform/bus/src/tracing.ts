import {
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TraceState, W3CTraceContextPropagator } from '@opentelemetry/core';
import { randomFillSync } from 'node:crypto';

const TRACER_NAME = '@strata/platform-bus';
/** A proxy: it follows whatever tracer provider is registered, now or later. */
const tracer = trace.getTracer(TRACER_NAME);
/** The provider the global proxy delegates to while no SDK is registered. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True when an OpenTelemetry SDK is registered (spans may be recorded). Without one the bus skips span objects
 * altogether and only carries the W3C headers: the hot path of tracing export off.
 */
function sdkRegistered(): boolean {
  return proxyProvider ? proxyProvider.getDelegate() !== NOOP_PROVIDER : true;
}

/** The global provider: the API's proxy, whose delegate becomes the SDK's provider when one registers. */
const globalProvider = trace.getTracerProvider();
const proxyProvider = globalProvider instanceof ProxyTracerProvider ? globalProvider : undefined;

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
/**
 * The W3C headers of the message being handled, kept as received in the handler's context when no SDK records spans:
 * what the handler publishes carries them on, without parsing or building span objects per message.
 */
const RECEIVED = createContextKey('strata.trace-context.received');

interface ReceivedTrace {
  traceparent: string;
  tracestate: string | undefined;
}

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

const recordGetter: TextMapGetter<Record<string, string>> = {
  get(carrier, key) {
    return carrier[key];
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

/** Random bytes for 256 ids at a time, as one hex string (one native call per 256 ids; slices are cheap). */
const POOL = Buffer.allocUnsafe(24 * 256);
let poolHex = '';
let poolAt = POOL.length;

/**
 * A new W3C `traceparent` (version 00, random 16-byte trace id and 8-byte parent id, not sampled): the trace a
 * producer starts when nothing is active.
 */
export function newTraceparent(): string {
  if (poolAt === POOL.length) {
    randomFillSync(POOL);
    // All-zero ids are invalid (W3C); with 2^-64 odds per id, set one bit rather than draw again.
    for (let o = 0; o < POOL.length; o += 24) {
      POOL[o] |= 1;
      POOL[o + 16] |= 1;
    }
    poolHex = POOL.toString('hex');
    poolAt = 0;
  }
  const h = poolAt * 2;
  poolAt += 24;
  return `00-${poolHex.slice(h, h + 32)}-${poolHex.slice(h + 32, h + 48)}-00`;
}

/** `traceparent` of a span context (W3C version 00). */
function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & 1 ? '01' : '00'}`;
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
  const received = active.getValue(RECEIVED) as ReceivedTrace | undefined;
  if (received) {
    carrier[TRACEPARENT_HEADER] = received.traceparent;
    if (received.tracestate) carrier[TRACESTATE_HEADER] = received.tracestate;
    return carrier;
  }
  const sc = trace.getSpanContext(active);
  if (sc && isSpanContextValid(sc)) {
    carrier[TRACEPARENT_HEADER] = formatTraceparent(sc);
    if (sc.traceState) carrier[TRACESTATE_HEADER] = sc.traceState.serialize();
    return carrier;
  }
  if (sdkRegistered()) {
    const span = tracer.startSpan(`${subject} publish`, { kind: SpanKind.PRODUCER }, active);
    const started = span.spanContext();
    span.end();
    if (isSpanContextValid(started)) {
      carrier[TRACEPARENT_HEADER] = formatTraceparent(started);
      return carrier;
    }
  }
  carrier[TRACEPARENT_HEADER] = newTraceparent();
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

/** True when `s[from, to)` is lowercase hex and not all zeros. */
function lowerHexNonZero(s: string, from: number, to: number): boolean {
  let nonZero = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 48) continue;
    if (!((c > 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
    nonZero = true;
  }
  return nonZero;
}

/**
 * Parses a version-00 `traceparent` (the only version this bus writes; other versions go through the W3C propagator)
 * without a regular expression: the consumer side of every message runs this.
 */
function parseTraceparent00(tp: string): SpanContext | undefined {
  if (tp.length !== 55 || tp.charCodeAt(0) !== 48 || tp.charCodeAt(1) !== 48) return undefined;
  if (tp.charCodeAt(2) !== 45 || tp.charCodeAt(35) !== 45 || tp.charCodeAt(52) !== 45) return undefined;
  if (!lowerHexNonZero(tp, 3, 35) || !lowerHexNonZero(tp, 36, 52)) return undefined;
  const flags = parseInt(tp.slice(53), 16);
  if (!(flags >= 0)) return undefined;
  return { traceId: tp.slice(3, 35), spanId: tp.slice(36, 52), traceFlags: flags & 1, isRemote: true };
}

/**
 * The received W3C headers when the `traceparent` has the version-00 shape (else undefined: nothing to continue);
 * `trusted` headers (written by this process's own bus) are not parsed.
 */
function receivedTrace(headers: Record<string, string> | HeaderCarrier, trusted: boolean): ReceivedTrace | undefined {
  const carrier = isCarrier(headers);
  const tp = carrier
    ? headers.has(TRACEPARENT_HEADER)
      ? headers.get(TRACEPARENT_HEADER)
      : undefined
    : headers[TRACEPARENT_HEADER];
  // The in-process bus wrote its headers itself (outgoingHeaders); what arrives over NATS is checked.
  if (tp === undefined || (!trusted && !parseTraceparent00(tp))) return undefined;
  const ts = carrier
    ? headers.has(TRACESTATE_HEADER)
      ? headers.get(TRACESTATE_HEADER)
      : undefined
    : headers[TRACESTATE_HEADER];
  return { traceparent: tp, tracestate: ts || undefined };
}

/** Extracts the remote W3C trace context from a header record or carrier (exact header names). */
export function incomingContext(headers: Record<string, string> | HeaderCarrier): Context {
  const carrier = isCarrier(headers);
  const tp = carrier
    ? headers.has(TRACEPARENT_HEADER)
      ? headers.get(TRACEPARENT_HEADER)
      : undefined
    : headers[TRACEPARENT_HEADER];
  const active = context.active();
  if (tp === undefined) return active;
  const sc = parseTraceparent00(tp);
  if (!sc) return carrier ? w3c.extract(active, headers, carrierGetter) : w3c.extract(active, headers, recordGetter);
  const ts = carrier
    ? headers.has(TRACESTATE_HEADER)
      ? headers.get(TRACESTATE_HEADER)
      : undefined
    : headers[TRACESTATE_HEADER];
  if (ts) sc.traceState = new TraceState(ts);
  return trace.setSpanContext(active, sc);
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
  // Export off: no span to start or end; the handler runs with the message's trace context as received.
  if (!sdkRegistered()) {
    // From the root context: the dispatch loop may run in the async context of whoever published last.
    const received = receivedTrace(headers, info.system === 'in-process');
    return received ? context.with(ROOT_CONTEXT.setValue(RECEIVED, received), fn) : fn();
  }
  const parent = incomingContext(headers);
  const span = tracer.startSpan(
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
