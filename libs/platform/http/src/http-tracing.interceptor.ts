import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import {
  context,
  propagation,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';

const TRACER = '@strata/platform-http';

const headerGetter: TextMapGetter<FastifyRequest['headers']> = {
  get: (h, k) => {
    const v = h[k];
    return Array.isArray(v) ? v[0] : v;
  },
  keys: (h) => Object.keys(h),
};

/** The request span, kept on the request so the `onResponse` hook can end it with the final status. */
export type TracedRequest = FastifyRequest & { strataSpan?: Span };

/**
 * Starts a span per HTTP route (`POST /market-data/ingest`) and runs the handler inside it, so bus messages the
 * handler publishes carry its `traceparent`. The parent is the active span (HTTP auto-instrumentation) or the
 * caller's W3C `traceparent` header. The span is ended by {@link endRequestSpan} when the response is sent.
 * Without an OpenTelemetry SDK registered the spans are no-ops.
 */
@Injectable()
export class HttpTracingInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<TracedRequest>();
    const active = context.active();
    // A recording span is the HTTP auto-instrumentation's server span; a non-recording one is the caller's context
    // set by continueRequestTraces. Either is the parent; with neither, read the caller's traceparent here.
    const current = trace.getSpan(active);
    const local = current?.isRecording() === true;
    const parent = current ? active : propagation.extract(active, req.headers, headerGetter);
    const route = req.routeOptions?.url ?? req.url.split('?')[0];
    const span = trace.getTracer(TRACER).startSpan(
      `${req.method} ${route}`,
      {
        kind: local ? SpanKind.INTERNAL : SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'http.route': route,
          'url.path': req.url.split('?')[0],
          'strata.request_id': String(req.id),
        },
      },
      parent,
    );
    req.strataSpan = span;
    // Nest binds the handler's async context when handle() is called, so the handler (and its awaits) see the span.
    return context.with(trace.setSpan(parent, span), () => next.handle());
  }
}

/**
 * True when an OpenTelemetry tracer provider is registered (the telemetry SDK started), so request spans are
 * recorded. Without one every span is a no-op and {@link HttpTracingInterceptor} would only cost time.
 */
export function httpTracingActive(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegateTracer(TRACER) !== undefined;
}

/** Ends the request span with the response status (5xx marks it as an error). Called from an `onResponse` hook. */
export function endRequestSpan(req: FastifyRequest, statusCode: number): void {
  const span = (req as TracedRequest).strataSpan;
  if (!span) return;
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
  (req as TracedRequest).strataSpan = undefined;
}
