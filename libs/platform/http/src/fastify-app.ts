import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { endRequestSpan } from './http-tracing.interceptor';
import { registerMethodNotAllowed } from './method-not-allowed';

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
  /** pino logger for request logs (one `request completed` line per request with `reqId`, see {@link configureStrataHttp}). */
  logger: Logger;
  /** Largest JSON or form body, bytes (default 64 MiB). */
  bodyLimitBytes?: number;
  /** Largest uploaded file in a multipart request, bytes (default 256 MiB). */
  uploadLimitBytes?: number;
}

/**
 * Fastify's log lines minus the two per request (`incoming request`, `request completed`), which
 * {@link configureStrataHttp} replaces with one; errors (failed responses, the default error handler, stream errors)
 * are still logged by Fastify.
 */
class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
  }
}

/**
 * A Nest Fastify adapter with the platform's HTTP conventions: pino logger with the request id as `reqId`, request
 * ids from {@link requestIdFor}, body limits, prototype-poisoning keys of JSON bodies removed, path parameters up to
 * 16 KiB (the route validates them), and `@fastify/multipart` (one file, a hundred fields). Fastify's own two
 * lines per request (`incoming request`, `request completed`) are off: {@link configureStrataHttp} writes one.
 */
export function createStrataFastifyAdapter(opts: StrataFastifyOptions): FastifyAdapter {
  return new FastifyAdapter({
    loggerInstance: opts.logger,
    genReqId: requestIdFor,
    requestIdHeader: false,
    logController: new AccessLogController(),
    bodyLimit: opts.bodyLimitBytes ?? 64 * 1024 * 1024,
    // A path parameter of any length reaches the route (which validates it: 400 or 404 problem+json) instead of the
    // router's bare 414 at 100 characters.
    maxParamLength: 16 * 1024,
    // A JSON body with `__proto__` or `constructor.prototype` keys is valid JSON: the keys are dropped, never applied.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    // Fields a route does not read are ignored; a hundred of them is still a small form (the body limit holds).
    multipart: { limits: { fileSize: opts.uploadLimitBytes ?? 256 * 1024 * 1024, files: 1, fields: 100, parts: 101 } },
  });
}

/** Paths of the health probes, whose request lines are logged at `debug` (a kubelet calls them every few seconds). */
const PROBE_PATH = /^\/health(?:\/live|\/ready)?(?:\?|$)/;

/**
 * Adds the hooks every Strata HTTP app needs: echo the request id in `X-Request-Id`, end the request span with
 * the final status, log one `request completed` line per request (`reqId`, `req.method`, `req.url`,
 * `res.statusCode`, `responseTime` ms; at `debug` for `/health`, `/health/live` and `/health/ready`, else `info`),
 * and answer a method a known path does not declare with 405 and `Allow` ({@link registerMethodNotAllowed}).
 * Callback-style hooks: no promise per request. Call once after `NestFactory.create`, before `listen`/`init`.
 */
export function configureStrataHttp(app: NestFastifyApplication): void {
  const f = app.getHttpAdapter().getInstance();
  registerMethodNotAllowed(f);
  f.addHook('onSend', (req, reply, payload, done) => {
    void reply.header(REQUEST_ID_HEADER, req.id);
    done(null, payload);
  });
  f.addHook('onResponse', (req, reply, done) => {
    endRequestSpan(req, reply.statusCode);
    const level = PROBE_PATH.test(req.url) ? 'debug' : 'info';
    const log = req.log as unknown as Logger;
    if (log.isLevelEnabled(level))
      log[level](
        {
          req: { method: req.method, url: req.url, remoteAddress: req.ip },
          res: { statusCode: reply.statusCode },
          responseTime: reply.elapsedTime,
        },
        'request completed',
      );
    done();
  });
}
