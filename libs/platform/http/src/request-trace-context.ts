import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { context, trace, type TextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';

const w3c = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<FastifyRequest['headers']> = {
  get: (h, k) => {
    const v = h[k];
    return Array.isArray(v) ? v[0] : v;
  },
  keys: (h) => Object.keys(h),
};

/**
 * Continues the caller's W3C trace context (`traceparent`, `tracestate`) in every route registered after this call:
 * the handler (Nest guards, pipes, the controller and everything it awaits) runs with the caller's span context
 * active, so the bus messages it sends carry the caller's trace id, with or without an OpenTelemetry SDK (the bus
 * registers the context manager). A request without `traceparent`, or one already traced by the HTTP
 * auto-instrumentation, is passed through untouched. Call right after `NestFactory.create`, before `init`.
 */
export function continueRequestTraces(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      const handler = route.handler as RouteHandlerMethod;
      route.handler = function (this: unknown, req: FastifyRequest, reply: FastifyReply) {
        if (req.headers.traceparent === undefined) return handler.call(this as never, req, reply);
        const active = context.active();
        if (trace.getSpan(active)) return handler.call(this as never, req, reply);
        return context.with(w3c.extract(active, req.headers, headerGetter), () =>
          handler.call(this as never, req, reply),
        );
      };
    });
}
