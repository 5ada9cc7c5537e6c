import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { endRequestSpan } from './http-tracing.interceptor';

/** Header carrying the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id: the caller's `X-Request-Id` when it is a safe token (≤ 128 chars of `[A-Za-z0-9._:-]`), else a fresh UUID. */
export function requestIdFor(req: IncomingMessage): string {
  const h = req.headers[REQUEST_ID_HEADER];
  const v = Array.isArray(h) ? h[0] : h;
  return v && SAFE_ID.test(v) ? v : randomUUID();
}

/** Options of {@link createStrataFastifyAdapter}. */
export interface StrataFastifyOptions {
  /** pino logger for request logs (`incoming request` / `request completed` with `reqId`). */
  logger: Logger;
  /** Largest JSON or form body, bytes (default 64 MiB). */
  bodyLimitBytes?: number;
  /** Largest uploaded file in a multipart request, bytes (default 256 MiB). */
  uploadLimitBytes?: number;
}

/**
 * A Nest Fastify adapter with the platform's HTTP conventions: pino request logging with the request id as
 * `reqId`, request ids from {@link requestIdFor}, body limits, and `@fastify/multipart` (one file, ten fields).
 */
export function createStrataFastifyAdapter(opts: StrataFastifyOptions): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: opts.logger,
    genReqId: requestIdFor,
    requestIdHeader: false,
    bodyLimit: opts.bodyLimitBytes ?? 64 * 1024 * 1024,
    multipart: { limits: { fileSize: opts.uploadLimitBytes ?? 256 * 1024 * 1024, files: 1, fields: 10, parts: 11 } },
  });
}

/**
 * Adds the hooks every Strata HTTP app needs: echo the request id in `X-Request-Id`, end the request span with
 * the final status. Call once after `NestFactory.create`, before `listen`/`init`.
 */
export function configureStrataHttp(app: NestFastifyApplication): void {
  const f = app.getHttpAdapter().getInstance();
  f.addHook('onSend', async (req, reply, payload) => {
    void reply.header(REQUEST_ID_HEADER, req.id);
    return payload;
  });
  f.addHook('onResponse', async (req, reply) => {
    endRequestSpan(req, reply.statusCode);
  });
}
