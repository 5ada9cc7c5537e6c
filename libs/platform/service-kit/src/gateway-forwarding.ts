import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { context, propagation } from '@opentelemetry/api';
import { newTraceparent, TRACEPARENT_HEADER, TRACESTATE_HEADER } from '@strata/platform-bus';
import type { ArtifactStore } from '@strata/platform-contracts';
import {
  encodeForwardedPrincipal,
  extractApiKey,
  FORWARDED_PRINCIPAL_HEADER,
  httpTracingActive,
  INTERNAL_TOKEN_HEADER,
  PROBLEM_JSON,
  problemType,
  REQUEST_ID_HEADER,
  statusTitle,
  type ApiKeyResolver,
} from '@strata/platform-http';
import type { FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Logger } from 'pino';
import {
  ForwardError,
  httpSubject,
  inlineLimit,
  stageBody,
  unstageBody,
  type ForwardedRequest,
  type ForwardedResponse,
  type HttpBusTransport,
} from './http-over-bus';

/** One REST path prefix and the service that owns it (the shape of `GATEWAY_ROUTES` in `@strata/catalog-contracts`). */
export interface ForwardedRoute {
  /** `/market-data`: the prefix itself and every path below it. */
  readonly prefix: string;
  /** Owning service (`marketdata`). */
  readonly service: string;
}

/** Default budget of a forwarded request, ms (`GATEWAY_FORWARD_TIMEOUT_MS`). */
export const DEFAULT_FORWARD_TIMEOUT_MS = 30_000;
/** Default budget of a forwarded request whose body was staged (large uploads), ms (`GATEWAY_UPLOAD_TIMEOUT_MS`). */
export const DEFAULT_UPLOAD_TIMEOUT_MS = 300_000;

/** Options of {@link registerGatewayForwarding}. */
export interface GatewayForwardingOptions {
  routes: readonly ForwardedRoute[];
  transport: HttpBusTransport;
  /** Authenticates the presented API key (the gateway's resolver: issued keys in the document store, then config keys). */
  apiKeys: ApiKeyResolver;
  /** Where bodies above the inline limit are staged. */
  staging?: Pick<ArtifactStore, 'put' | 'get'>;
  /** `STRATA_INLINE_MAX_BYTES`. */
  inlineMaxBytes: number;
  /** Budget of a forwarded request, ms. */
  timeoutMs: number;
  /** Budget when the request body was staged, ms (ingesting 100 MB takes a while). */
  uploadTimeoutMs: number;
  /** Largest request body, bytes. */
  bodyLimitBytes: number;
  /** Test isolation on a shared NATS server (see `httpSubject`). */
  namespace?: string;
  logger?: Logger;
}

/** Request headers never forwarded: hop-by-hop, credentials (the principal replaces them), internal markers. */
const DROPPED_REQUEST_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'proxy-authorization',
  'proxy-connection',
  'authorization',
  'x-api-key',
  FORWARDED_PRINCIPAL_HEADER,
  INTERNAL_TOKEN_HEADER,
]);
const DROPPED_RESPONSE_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  REQUEST_ID_HEADER,
]);

const CHALLENGE = 'Bearer realm="strata", ApiKey header="X-API-Key"';
const EMPTY = new Uint8Array(0);

function problem(
  req: FastifyRequest,
  reply: FastifyReply,
  status: number,
  slug: string,
  detail: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type(PROBLEM_JSON)
    .send({
      type: problemType(slug),
      title: statusTitle(status),
      status,
      detail,
      instance: req.url,
      requestId: req.id,
      ...extra,
    });
}

/**
 * Registers the gateway's forwarding routes on `app` (before `app.init()`): every path under a route's prefix, any
 * method, is authenticated here (401 problem+json without or with an unknown key), then sent to its owner over the
 * bus with the principal in `Strata-Forwarded-Principal` (authorization by role happens in the owner). Bodies are
 * relayed as bytes (JSON, CSV, multipart alike); above the inline limit they go through the staging store in both
 * directions. The owner down (no responder) or silent past the budget answers 503 problem+json naming the service;
 * a message over the NATS max payload 413; any other failure 500 naming the cause.
 */
export function registerGatewayForwarding(app: NestFastifyApplication, opts: GatewayForwardingOptions): void {
  const fastify = app.getHttpAdapter().getInstance();
  const limit = inlineLimit(opts.transport, opts.inlineMaxBytes);
  // Telemetry starts before Nest (main.ts), so whether spans are recorded is known here.
  const tracing = httpTracingActive();

  const forward = (route: ForwardedRoute) => {
    const subject = httpSubject(route.service, opts.namespace);
    return async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const key = extractApiKey(req.headers);
      if (!key) {
        void reply.header('www-authenticate', CHALLENGE);
        return problem(
          req,
          reply,
          401,
          'unauthorized',
          'An API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>".',
        );
      }
      const principal = await opts.apiKeys.resolve(key);
      if (!principal) {
        void reply.header('www-authenticate', CHALLENGE);
        return problem(req, reply, 401, 'unauthorized', 'The API key is not valid.');
      }
      const headers: Record<string, string | string[]> = {};
      for (const name in req.headers) {
        const v = req.headers[name];
        if (v !== undefined && !DROPPED_REQUEST_HEADERS.has(name)) headers[name] = v;
      }
      headers[FORWARDED_PRINCIPAL_HEADER] = encodeForwardedPrincipal(principal);
      headers[REQUEST_ID_HEADER] = req.id;
      headers['x-forwarded-for'] = req.ip;
      // The owner's request span continues the gateway's trace (W3C traceparent of the active span, when recorded).
      if (tracing) propagation.inject(context.active(), headers, { set: (c, k, v) => (c[k] = v) });
      // Without a span (tracing export off) the caller's traceparent is forwarded as sent; with none, the gateway
      // starts the trace, so the owner's handling and the events it publishes share one trace id.
      const traceparent = headers[TRACEPARENT_HEADER];
      if (typeof traceparent !== 'string') headers[TRACEPARENT_HEADER] = newTraceparent();
      const trace: Record<string, string> = { [TRACEPARENT_HEADER]: headers[TRACEPARENT_HEADER] as string };
      const tracestate = headers[TRACESTATE_HEADER];
      if (typeof tracestate === 'string') trace[TRACESTATE_HEADER] = tracestate;
      const raw = req.body;
      const body = raw instanceof Uint8Array ? raw : EMPTY;
      try {
        const staged = await stageBody(body, limit, opts.staging);
        const meta: ForwardedRequest = { method: req.method, url: req.url, headers };
        if (staged.bodyRef) meta.bodyRef = staged.bodyRef;
        const timeout = staged.bodyRef ? opts.uploadTimeoutMs : opts.timeoutMs;
        const answer = await opts.transport.request(
          subject,
          { meta: JSON.stringify(meta), body: staged.data, trace },
          timeout,
        );
        const res = JSON.parse(answer.meta) as ForwardedResponse;
        const out = await unstageBody(answer.body, res.bodyRef, opts.staging);
        reply.code(res.status);
        for (const name in res.headers)
          if (!DROPPED_RESPONSE_HEADERS.has(name)) void reply.header(name, res.headers[name]);
        return reply.send(Buffer.from(out.buffer, out.byteOffset, out.byteLength));
      } catch (e) {
        const err = e instanceof ForwardError ? e : new ForwardError('failed', (e as Error).message ?? String(e));
        opts.logger?.warn({ service: route.service, code: err.code, err: err.message, url: req.url }, 'forward failed');
        if (err.code === 'no_responders' || err.code === 'timeout') {
          void reply.header('retry-after', '1');
          return problem(
            req,
            reply,
            503,
            'service-unavailable',
            `The ${route.service} service is not available: ${err.code === 'timeout' ? err.message : `no instance answers (${err.message})`}.`,
            { service: route.service },
          );
        }
        if (err.code === 'too_large')
          return problem(req, reply, 413, 'payload-too-large', err.message, { service: route.service });
        return problem(
          req,
          reply,
          500,
          'forward-failed',
          `Forwarding to the ${route.service} service failed: ${err.message}`,
          {
            service: route.service,
          },
        );
      }
    };
  };

  void fastify.register(async (scope) => {
    // Bodies are relayed as they came: no JSON or multipart parsing here, the owner parses.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) =>
      done(null, body),
    );
    // Every method goes to the owner: it knows its paths, and answers a method one does not declare with 405 + Allow.
    const methods = fastify.supportedMethods as HTTPMethods[];
    for (const route of opts.routes) {
      const handler = forward(route);
      scope.route({ method: methods, url: route.prefix, handler });
      scope.route({ method: methods, url: `${route.prefix}/*`, handler });
    }
  });
}
