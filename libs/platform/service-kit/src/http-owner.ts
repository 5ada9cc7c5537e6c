import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ArtifactStore } from '@strata/platform-contracts';
import {
  INTERNAL_TOKEN_HEADER,
  internalRequestToken,
  isInternalRequest,
  PROBLEM_JSON,
  problemType,
} from '@strata/platform-http';
import type { Logger } from 'pino';
import {
  ForwardError,
  httpQueue,
  httpSubject,
  inlineLimit,
  stageBody,
  unstageBody,
  type ForwardedRequest,
  type ForwardedResponse,
  type HttpBusResponder,
  type HttpBusTransport,
} from './http-over-bus';

/** Response headers that describe one hop, not the resource: never relayed. */
const HOP_RESPONSE_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** Options of {@link serveHttpOverBus}. */
export interface HttpOwnerOptions {
  /** The owning service (`marketdata`): subject {@link httpSubject} and queue group {@link httpQueue}. */
  service: string;
  transport: HttpBusTransport;
  /** Where bodies above the inline limit are staged (request bodies read, response bodies written). */
  staging?: Pick<ArtifactStore, 'put' | 'get'>;
  /** `STRATA_INLINE_MAX_BYTES`. */
  inlineMaxBytes: number;
  /** Test isolation on a shared NATS server (see {@link httpSubject}). */
  namespace?: string;
  logger?: Logger;
}

/**
 * Answers `rpc.<service>.cmd.http.v1` from `app`'s own routes via Fastify `inject` (no socket): the forwarded
 * request gets this process's internal token just before `inject`, so the principal the gateway forwarded is trusted
 * here and nowhere else. Bodies above the inline limit are read from / written to the staging store. Call after
 * `app.init()`.
 */
export async function serveHttpOverBus(app: NestFastifyApplication, opts: HttpOwnerOptions): Promise<HttpBusResponder> {
  const fastify = app.getHttpAdapter().getInstance();
  const limit = inlineLimit(opts.transport, opts.inlineMaxBytes);
  const token = internalRequestToken();
  return opts.transport.serve(httpSubject(opts.service, opts.namespace), httpQueue(opts.service), async (msg) => {
    let req: ForwardedRequest;
    try {
      req = JSON.parse(msg.meta) as ForwardedRequest;
    } catch {
      throw new ForwardError('failed', 'the forwarded request has no valid Strata-Http metadata');
    }
    const body = await unstageBody(msg.body, req.bodyRef, opts.staging);
    const res = await fastify.inject({
      method: req.method as 'GET',
      url: req.url,
      headers: { ...req.headers, [INTERNAL_TOKEN_HEADER]: token },
      ...(body.length ? { payload: Buffer.from(body.buffer, body.byteOffset, body.byteLength) } : {}),
    });
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(res.headers))
      if (v !== undefined && !HOP_RESPONSE_HEADERS.has(k)) headers[k] = typeof v === 'number' ? String(v) : v;
    const out = await stageBody(res.rawPayload, limit, opts.staging);
    const meta: ForwardedResponse = {
      status: res.statusCode,
      headers,
      ...(out.bodyRef ? { bodyRef: out.bodyRef } : {}),
    };
    return { meta: JSON.stringify(meta), body: out.data };
  });
}

/**
 * Keeps a bus-served app's API off its port: a request that was not injected by this process's bus handler gets 404
 * problem+json unless its path is under one of `open` (the health probes). Add before `app.init()`.
 */
export function restrictToBus(app: NestFastifyApplication, open: readonly string[] = ['/health']): void {
  const fastify = app.getHttpAdapter().getInstance();
  const isOpen = (url: string): boolean =>
    open.some((p) => url === p || url.startsWith(`${p}/`) || url.startsWith(`${p}?`));
  // Callback style: no promise per request on the hot path.
  fastify.addHook('onRequest', (req, reply, done) => {
    if (isInternalRequest(req.headers[INTERNAL_TOKEN_HEADER]) || isOpen(req.url)) return done();
    void reply
      .code(404)
      .type(PROBLEM_JSON)
      .send({
        type: problemType('not-found'),
        title: 'Not Found',
        status: 404,
        detail: `${req.url.split('?')[0]} is served through the gateway only; this port answers /health.`,
        instance: req.url,
        requestId: req.id,
      });
  });
}
