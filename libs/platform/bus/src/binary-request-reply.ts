import {
  headers as natsHeaders,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type NatsConnection,
} from '@nats-io/nats-core';
import type { CommandDefinition } from '@strata/platform-contracts';
import { BusError, describeIssues, type BusErrorCode } from './bus-errors';
import { requestSubject } from './subjects';
import { inConsumerSpan, NO_HEADERS, outgoingHeaders } from './tracing';

/** Header of a binary reply's metadata (JSON). */
export const BINARY_REPLY_META_HEADER = 'Strata-Reply-Meta';
/** Header of a binary request's metadata (JSON; e.g. the content hash the requester already holds). */
export const BINARY_REQUEST_META_HEADER = 'Strata-Request-Meta';
/** Error headers, the same as the JSON request/reply of `JetStreamEventBus`. */
const ERROR_CODE = 'Strata-Error-Code';
const ERROR = 'Strata-Error';

/**
 * Subject a binary request travels on: `rpc.<subject>`, or `<subjectPrefix>.<subject>` (tests isolate themselves from
 * other processes on a shared server with a prefix of their own).
 */
export function binarySubject(subject: string, subjectPrefix?: string): string {
  return subjectPrefix ? `${subjectPrefix}.${subject}` : requestSubject(subject);
}

/** A binary reply: the body bytes and the metadata the responder attached. */
export interface BinaryReply {
  body: Uint8Array;
  meta: Record<string, unknown>;
}

/**
 * An error a binary responder answers with: `code` travels as `Strata-Error-Code` (e.g. `not_found`), the message as
 * `Strata-Error`. The requester rethrows it as a {@link BusError} whose `code` is `handler_error` and whose
 * `remoteCode` is this code.
 */
export class BinaryReplyError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BinaryReplyError';
  }
}

/** A {@link BusError} raised for an error reply; `remoteCode` is the responder's `Strata-Error-Code`. */
export class BinaryRequestError extends BusError {
  constructor(
    code: BusErrorCode,
    readonly remoteCode: string,
    message: string,
    subject: string,
  ) {
    super(code, message, subject); // name stays 'BusError': HTTP layers map it like any bus failure
  }
}

/**
 * Request/reply whose reply body is bytes (Arrow IPC, Parquet), on core NATS `rpc.<subject>` like the JSON
 * request/reply of the bus: the request is the command's JSON payload (validated by the command schema on both sides)
 * plus optional JSON metadata (`Strata-Request-Meta`), the reply a body plus JSON metadata (`Strata-Reply-Meta`). No responder → `BusError('no_responders')`,
 * no reply in `timeoutMs` → `BusError('timeout')`, an error reply → {@link BinaryRequestError} (`invalid_payload` for a
 * refused request, else `handler_error` with `remoteCode`).
 */
export async function requestBinary<T>(
  nc: NatsConnection,
  def: CommandDefinition<string, T, unknown>,
  data: T,
  opts: { timeoutMs: number; subjectPrefix?: string; meta?: Record<string, unknown> },
): Promise<BinaryReply> {
  const parsed = def.schema.safeParse(data);
  if (!parsed.success)
    throw new BusError('invalid_payload', `invalid ${def.subject} payload: ${describeIssues(parsed.error.issues)}`);
  let m: Msg;
  try {
    const headers = natsHeaders();
    // The W3C trace context travels on reads too (continued from the active span, else started here).
    const trace = outgoingHeaders(def.subject, undefined);
    for (const k in trace) headers.set(k, trace[k]);
    if (opts.meta) headers.set(BINARY_REQUEST_META_HEADER, JSON.stringify(opts.meta));
    m = await nc.request(binarySubject(def.subject, opts.subjectPrefix), JSON.stringify(parsed.data), {
      timeout: opts.timeoutMs,
      headers,
    });
  } catch (e) {
    if (e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()))
      throw new BusError('no_responders', `no responders for ${def.subject}`, def.subject);
    if (e instanceof TimeoutError || (e instanceof RequestError && e.cause instanceof TimeoutError))
      throw new BusError('timeout', `no reply to ${def.subject} within ${opts.timeoutMs} ms`, def.subject);
    throw new BusError('unavailable', `request ${def.subject}: ${(e as Error).message}`, def.subject);
  }
  const code = m.headers?.get(ERROR_CODE);
  if (code) {
    const msg = m.headers?.get(ERROR) || code;
    throw new BinaryRequestError(
      code === 'invalid_payload' ? 'invalid_payload' : 'handler_error',
      code,
      msg,
      def.subject,
    );
  }
  const metaRaw = m.headers?.get(BINARY_REPLY_META_HEADER);
  let meta: Record<string, unknown> = {};
  if (metaRaw) {
    try {
      meta = JSON.parse(metaRaw) as Record<string, unknown>;
    } catch {
      throw new BusError('invalid_reply', `${def.subject} reply metadata is not JSON`, def.subject);
    }
  }
  return { body: m.data, meta };
}

/**
 * Serves binary request/reply for `def` on `rpc.<subject>` in queue group `queue` (replicas share requests); resolves
 * once the server has the subscription. The handler gets the validated request; a {@link BinaryReplyError} it throws
 * answers with its code, any other error with `handler_error`, an invalid request with `invalid_payload`.
 */
export async function serveBinary<T>(
  nc: NatsConnection,
  def: CommandDefinition<string, T, unknown>,
  handler: (data: T, meta: Record<string, unknown>) => Promise<BinaryReply>,
  opts: { queue: string; subjectPrefix?: string },
): Promise<{ stop(): Promise<void> }> {
  const inflight = new Set<Promise<void>>();
  const fail = (m: Msg, code: string, message: string): void => {
    const h = natsHeaders();
    h.set(ERROR_CODE, code);
    h.set(ERROR, message.replace(/[\r\n]+/g, ' ').slice(0, 1024));
    m.respond('', { headers: h });
  };
  const serve = async (m: Msg): Promise<void> => {
    let raw: unknown;
    try {
      raw = m.json<unknown>();
    } catch {
      return fail(m, 'invalid_payload', 'request body is not JSON');
    }
    const parsed = def.schema.safeParse(raw);
    if (!parsed.success)
      return fail(m, 'invalid_payload', `invalid ${def.subject} payload: ${describeIssues(parsed.error.issues)}`);
    try {
      let meta: Record<string, unknown> = {};
      const rawMeta = m.headers?.get(BINARY_REQUEST_META_HEADER);
      if (rawMeta) {
        try {
          meta = JSON.parse(rawMeta) as Record<string, unknown>;
        } catch {
          return fail(m, 'invalid_payload', `${BINARY_REQUEST_META_HEADER} is not JSON`);
        }
      }
      const reply = await inConsumerSpan(
        m.headers ?? NO_HEADERS,
        { subject: def.subject, consumer: opts.queue, messageId: '', deliveryCount: 1, system: 'nats' },
        () => handler(parsed.data, meta),
      );
      const h = natsHeaders();
      h.set(BINARY_REPLY_META_HEADER, JSON.stringify(reply.meta));
      m.respond(reply.body, { headers: h });
    } catch (e) {
      if (e instanceof BinaryReplyError) return fail(m, e.code, e.message);
      return fail(m, 'handler_error', (e as Error).message ?? String(e));
    }
  };
  const sub = nc.subscribe(binarySubject(def.subject, opts.subjectPrefix), {
    queue: opts.queue,
    callback: (err, m) => {
      if (err) return;
      const p = serve(m)
        .catch(() => undefined)
        .finally(() => inflight.delete(p));
      inflight.add(p);
    },
  });
  await nc.flush();
  return {
    stop: async () => {
      await sub.drain().catch(() => undefined);
      await Promise.all(inflight);
    },
  };
}
