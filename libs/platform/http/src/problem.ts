import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

/** Media type of every error body (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json';

/** One field- or line-level problem inside a validation error. */
export interface ProblemItem {
  /** Dotted path of the offending field (body, query or multipart field). */
  field?: string;
  /** 1-based line in an uploaded file (header = line 1). */
  line?: number;
  /** Stable machine-readable reason (a zod issue code or a domain reason such as `high_below_low`). */
  reason: string;
  message: string;
}

/**
 * An RFC 9457 problem document. `type` is a URI naming the problem kind (`urn:strata:problem:<slug>` or
 * `about:blank`), `instance` the request path, `requestId` the id echoed in `X-Request-Id`; `errors` lists field or
 * line problems for validation failures.
 */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId?: string;
  errors?: ProblemItem[];
  [extension: string]: unknown;
}

/**
 * JSON Schema source of every error body ({@link ProblemDetails}): the OpenAPI document's `Problem` component, served
 * as `application/problem+json` for every 4xx/5xx an operation documents. Open to extension members (`service`,
 * `ingestionId`, `allow` …).
 */
export const ProblemDocumentSchema = z
  .looseObject({
    type: z.string().min(1).describe('URI of the problem kind: urn:strata:problem:<slug>.'),
    title: z.string().describe('Reason phrase of the status.'),
    status: z.number().int().min(400).max(599),
    detail: z.string().optional().describe('What went wrong with this request, in words.'),
    instance: z.string().optional().describe('The request path.'),
    requestId: z.string().optional().describe('Also in X-Request-Id; quote it when reporting a problem.'),
    errors: z
      .array(
        z.looseObject({
          field: z.string().optional().describe('Dotted path: body.symbol, query.limit, params.id, form.file.'),
          line: z.number().int().positive().optional().describe('1-based line of an uploaded file.'),
          reason: z.string().describe('Stable machine-readable reason (a zod issue code or a domain reason).'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('Every field or line problem of a validation failure.'),
  })
  .describe('RFC 9457 problem details (application/problem+json).');

/** `urn:strata:problem:<slug>`: the `type` of a Strata problem kind. */
export function problemType(slug: string): string {
  return `urn:strata:problem:${slug}`;
}

/** Standard reason phrase of an HTTP status (`Bad Request` for 400). */
export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** What a {@link ProblemException} is built from: a problem without `instance`/`requestId`; `title` defaults to the status phrase. */
export interface ProblemInit {
  type: string;
  title?: string;
  status: number;
  detail?: string;
  errors?: ProblemItem[];
  [extension: string]: unknown;
}

/**
 * An exception that renders as the given problem document (with `instance` and `requestId` filled in by
 * `ProblemJsonExceptionFilter`). Extra response headers (e.g. `WWW-Authenticate`) go in `headers`.
 */
export class ProblemException extends HttpException {
  constructor(
    readonly problem: ProblemInit,
    readonly headers: Record<string, string> = {},
  ) {
    super({ ...problem, title: problem.title ?? statusTitle(problem.status) }, problem.status);
    this.name = 'ProblemException';
  }

  /** 400 with a list of field or line problems. */
  static validation(detail: string, errors: ProblemItem[], extra: Record<string, unknown> = {}): ProblemException {
    return new ProblemException({
      type: problemType('validation'),
      title: 'Invalid request',
      status: 400,
      detail,
      errors,
      ...extra,
    });
  }

  /** 404 for a resource that does not exist. */
  static notFound(detail: string): ProblemException {
    return new ProblemException({ type: problemType('not-found'), title: 'Not Found', status: 404, detail });
  }
}
