import { ProblemException, problemType } from './problem';

/** The shape of a `BusError` of `@strata/platform-bus` (matched by name and code; this kit does not import the bus). */
export interface BusErrorLike {
  name: 'BusError';
  code: string;
  message: string;
  subject?: string;
  /** For `payload_too_large`: encoded size and the server's max payload, bytes. */
  size?: { bytes: number; maxBytes: number };
}

/** Whether `e` is a bus error (`BusError` of `@strata/platform-bus`). */
export function isBusError(e: unknown): e is BusErrorLike {
  return (
    !!e &&
    typeof e === 'object' &&
    (e as { name?: unknown }).name === 'BusError' &&
    typeof (e as { code?: unknown }).code === 'string'
  );
}

/**
 * The HTTP answer to a failed bus call, as problem+json:
 * - `payload_too_large` → 413 naming the message size and the server's max payload;
 * - `no_responders`, `timeout`, `unavailable`, `closed` → 503 naming the service nobody answered for;
 * - anything else (a handler error, an invalid payload or reply) → 500 naming the cause (never 503).
 * `service` defaults to the subject's domain (`marketdata.cmd.ingest.v1` → `marketdata`).
 */
export function busErrorProblem(e: BusErrorLike, service?: string): ProblemException {
  const svc = service ?? e.subject?.split('.')[0] ?? 'the';
  if (e.code === 'payload_too_large') {
    return new ProblemException({
      type: problemType('payload-too-large'),
      status: 413,
      detail: `${e.message}; bodies above STRATA_INLINE_MAX_BYTES travel through the staging store instead`,
      ...(e.size ? { bytes: e.size.bytes, limitBytes: e.size.maxBytes } : {}),
    });
  }
  if (e.code === 'no_responders' || e.code === 'timeout' || e.code === 'unavailable' || e.code === 'closed') {
    return new ProblemException({
      type: problemType('unavailable'),
      status: 503,
      detail: `the ${svc} service is not available (${e.code}: ${e.message})`,
      service: svc,
    });
  }
  return new ProblemException({
    type: problemType('internal'),
    status: 500,
    detail: `the ${svc} service failed (${e.code}: ${e.message})`,
    service: svc,
  });
}
