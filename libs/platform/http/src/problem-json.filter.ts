import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_JSON, ProblemException, problemType, statusTitle, type ProblemDetails } from './problem';
import { busErrorProblem, isBusError } from './bus-problem';

/**
 * An error that knows its HTTP answer without this library knowing its class: an `Error` with a numeric
 * `httpStatus` and a stable string `code` (e.g. `DocumentStoreError` of the document-store port: `duplicate_key`
 * 409, `version_conflict` 409, `document_not_found` 404, `invalid_cursor` 404). Matched structurally, so libraries
 * of any kind can throw such errors while this `type:util` library imports none of them.
 */
export interface HttpStatusError extends Error {
  /** Status the REST layer answers with. */
  readonly httpStatus: number;
  /** Stable machine-readable code, snake case; the problem `type` is `urn:strata:problem:<code with - for _>`. */
  readonly code: string;
}

/** True for an {@link HttpStatusError}: an `Error` whose `httpStatus` is an HTTP error status and `code` a non-empty string. */
export function isHttpStatusError(err: unknown): err is HttpStatusError {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { httpStatus?: unknown; code?: unknown };
  return (
    typeof e.httpStatus === 'number' &&
    Number.isInteger(e.httpStatus) &&
    e.httpStatus >= 400 &&
    e.httpStatus <= 599 &&
    typeof e.code === 'string' &&
    e.code.length > 0
  );
}

interface StatusCarrier {
  statusCode?: unknown;
  status?: unknown;
  code?: unknown;
  message?: unknown;
}

/** Problem `type` slugs for the statuses the platform answers with. */
const SLUGS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  406: 'not-acceptable',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
  429: 'too-many-requests',
  500: 'internal',
  502: 'bad-gateway',
  503: 'unavailable',
  504: 'timeout',
};

/** Builds the problem document for any thrown value (without `instance`/`requestId`). */
export function toProblem(err: unknown): { problem: ProblemDetails; headers: Record<string, string> } {
  if (err instanceof ProblemException) {
    const body = err.getResponse() as ProblemDetails;
    return { problem: { ...body }, headers: err.headers };
  }
  // A bus call that failed and was not handled by the caller: 413 / 503 / 500 by its code (see busErrorProblem).
  if (isBusError(err)) return toProblem(busErrorProblem(err));
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const res = err.getResponse();
    let detail: string | undefined;
    if (typeof res === 'string') detail = res;
    else if (res && typeof res === 'object') {
      const m = (res as { message?: unknown }).message;
      detail = Array.isArray(m) ? m.map(String).join('; ') : typeof m === 'string' ? m : undefined;
    }
    if (detail === statusTitle(status)) detail = undefined;
    return {
      problem: {
        type: problemType(SLUGS[status] ?? `http-${status}`),
        title: statusTitle(status),
        status,
        ...(detail ? { detail } : {}),
      },
      headers: {},
    };
  }
  if (isHttpStatusError(err)) {
    const status = err.httpStatus;
    // Client errors explain themselves; server errors reveal nothing (the filter logs them with the request id).
    if (status < 500) {
      return {
        problem: {
          type: problemType(err.code.replace(/_/g, '-')),
          title: statusTitle(status),
          status,
          detail: err.message,
          code: err.code,
        },
        headers: {},
      };
    }
    return {
      problem: {
        type: problemType(SLUGS[status] ?? `http-${status}`),
        title: statusTitle(status),
        status,
        detail: 'An unexpected error occurred; see the server log for this request id.',
      },
      headers: {},
    };
  }
  // Errors raised by Fastify itself and its plugins carry `statusCode` (bad JSON, 413, 415, multipart limits).
  const e = (err && typeof err === 'object' ? err : {}) as StatusCarrier;
  const sc = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  if (sc !== undefined && sc >= 400 && sc < 500) {
    return {
      problem: {
        type: problemType(SLUGS[sc] ?? `http-${sc}`),
        title: statusTitle(sc),
        status: sc,
        detail: typeof e.message === 'string' ? e.message : undefined,
      },
      headers: {},
    };
  }
  return {
    problem: {
      type: problemType('internal'),
      title: statusTitle(500),
      status: 500,
      detail: 'An unexpected error occurred; see the server log for this request id.',
    },
    headers: {},
  };
}

/** Sends `problem` as `application/problem+json`, filling `instance` and `requestId` from the request. */
export function sendProblem(
  req: FastifyRequest,
  reply: FastifyReply,
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): void {
  const body: ProblemDetails = {
    ...problem,
    instance: problem.instance ?? req.url.split('?')[0],
    requestId: String(req.id),
  };
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  void reply.status(body.status).header('content-type', `${PROBLEM_JSON}; charset=utf-8`).send(JSON.stringify(body));
}

/**
 * Renders every error of an HTTP request as `application/problem+json` (RFC 9457): {@link ProblemException}s as
 * given, Nest `HttpException`s and Fastify errors with their status, {@link HttpStatusError}s (store errors) with
 * their `httpStatus` and `code`, anything else as a 500 whose detail reveals
 * nothing (the error is logged with the request id). Non-HTTP contexts are rethrown untouched.
 */
@Catch()
export class ProblemJsonExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const { problem, headers } = toProblem(err);
    if (problem.status >= 500) {
      this.logger.error({
        msg: 'request failed',
        reqId: req.id,
        err: err instanceof Error ? { message: err.message, stack: err.stack, name: err.name } : String(err),
      });
    }
    if (reply.sent) return;
    sendProblem(req, reply, problem, headers);
  }
}
