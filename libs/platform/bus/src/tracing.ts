import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

const TRACER_NAME = '@strata/platform-bus';

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

/**
 * Copies `extra` and injects the active trace context (W3C `traceparent`/`tracestate` with the default propagator)
 * into a plain header record. Returns undefined when there is nothing to send, so the hot path allocates nothing more.
 */
export function outgoingHeaders(extra: Record<string, string> | undefined): Record<string, string> | undefined {
  if (extra) {
    const carrier: Record<string, string> = { ...extra };
    propagation.inject(context.active(), carrier, recordSetter);
    return carrier;
  }
  // Common case: no extra headers. Inject into a scratch record and copy only when the propagator wrote something.
  propagation.inject(context.active(), scratch, recordSetter);
  let out: Record<string, string> | undefined;
  for (const k in scratch) {
    out ??= {};
    out[k] = scratch[k];
    delete scratch[k];
  }
  return out;
}

const scratch: Record<string, string> = {};

/** Received headers read in place (NATS `MsgHdrs` fits), so a delivery needs no header record to be traced. */
export interface HeaderCarrier {
  has(key: string): boolean;
  get(key: string): string;
  keys(): string[];
}

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

/** Extracts the remote trace context from a header record or carrier (exact header names). */
export function incomingContext(headers: Record<string, string> | HeaderCarrier): Context {
  return isCarrier(headers)
    ? propagation.extract(context.active(), headers, carrierGetter)
    : propagation.extract(context.active(), headers, recordGetter);
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
 * returned value (or promise) settles, recording a thrown error. With no OpenTelemetry SDK registered this is a no-op
 * span, so the cost is a few calls.
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
