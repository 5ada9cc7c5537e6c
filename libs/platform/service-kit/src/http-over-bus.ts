import {
  createInbox,
  headers as natsHeaders,
  type Msg,
  type NatsConnection,
  type Subscription,
} from '@nats-io/nats-core';
import { InProcessEventBus, JetStreamEventBus, requestSubject } from '@strata/platform-bus';
import type { ArtifactStore, EventBus } from '@strata/platform-contracts';

/**
 * HTTP over the bus: the wire between the gateway and a route owner. A request is one core-NATS request on
 * {@link httpSubject} (queue group: the owner's replicas share requests) whose `Strata-Http` header holds the JSON of a
 * {@link ForwardedRequest} and whose data is the raw request body; the reply's `Strata-Http` header holds a
 * {@link ForwardedResponse} and its data the raw response body. A body above the inline limit travels through the
 * staging {@link ArtifactStore} instead and the message names its key (`bodyRef`). Raw headers + bytes rather than
 * the typed `EventBus.request` envelope: no JSON (or base64) encoding of bodies, no envelope, no schema pass on a path
 * that only relays bytes.
 */

/** NATS header carrying the request or response metadata (JSON). */
export const HTTP_META_HEADER = 'Strata-Http';
/** NATS header carrying a transport failure code on a reply ({@link ForwardErrorCode}). */
export const HTTP_ERROR_CODE_HEADER = 'Strata-Http-Error-Code';
/** NATS header carrying a transport failure message on a reply. */
export const HTTP_ERROR_HEADER = 'Strata-Http-Error';

/** Headroom kept under the server's max payload for the NATS headers of a message, bytes. */
const HEADER_HEADROOM_BYTES = 64 * 1024;

/**
 * Subject a service's HTTP app answers on: `rpc.<namespace><service>.cmd.http.v1`. Outside the domain streams
 * (`<domain>.>`) on purpose, like every request/reply subject (a stream would answer with its PubAck). `namespace`
 * isolates tests sharing one NATS server (e.g. `t1234.`); production leaves it empty.
 */
export function httpSubject(service: string, namespace = ''): string {
  return requestSubject(`${namespace}${service}.cmd.http.v1`);
}

/** Queue group of a service's HTTP responders: its replicas share the requests. */
export function httpQueue(service: string): string {
  return `${service}__http`;
}

/** An HTTP request as the gateway forwards it. */
export interface ForwardedRequest {
  method: string;
  /** Path and query, as received (`/market-data/bars?symbol=SPY&limit=100`). */
  url: string;
  /** Request headers to pass on (hop-by-hop headers, credentials and internal headers removed). */
  headers: Record<string, string | string[]>;
  /** Staged body's key in the staging store when the body was above the inline limit (the message data is empty). */
  bodyRef?: string;
}

/** An HTTP response as the owner sends it back. */
export interface ForwardedResponse {
  status: number;
  /** Response headers (without `content-length`, `transfer-encoding`, `connection`). */
  headers: Record<string, string | string[]>;
  /** Staged body's key when the body was above the inline limit (the message data is empty). */
  bodyRef?: string;
}

/**
 * Why a forward failed: nobody serves the subject; no answer in time; a message exceeded the server's max payload;
 * anything else (the owner failed to answer, a staged body is missing, the connection is closed).
 */
export type ForwardErrorCode = 'no_responders' | 'timeout' | 'too_large' | 'failed';

/** A failed forward; `code` maps to 503 (no_responders, timeout), 413 (too_large) or 500 (failed). */
export class ForwardError extends Error {
  constructor(
    readonly code: ForwardErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ForwardError';
  }
}

/** One raw message of the HTTP-over-bus wire: metadata JSON and body bytes. */
export interface HttpBusMessage {
  meta: string;
  body: Uint8Array;
  /** W3C trace context (`traceparent`, `tracestate`) sent as message headers, so the request message is traced too. */
  trace?: Record<string, string>;
}

/** A running responder. */
export interface HttpBusResponder {
  /** Stops taking requests and waits for those in flight. */
  stop(): Promise<void>;
}

/** The wire itself: NATS core request/reply in a split deployment, a direct call in one process. */
export interface HttpBusTransport {
  /** Largest message (headers + data) the transport carries, bytes. */
  readonly maxPayloadBytes: number;
  /** Sends one request and waits for its reply. @throws ForwardError */
  request(subject: string, msg: HttpBusMessage, timeoutMs: number): Promise<HttpBusMessage>;
  /** Answers requests on `subject` in queue group `queue`; resolves once the server registered the subscription. */
  serve(
    subject: string,
    queue: string,
    handler: (msg: HttpBusMessage) => Promise<HttpBusMessage>,
  ): Promise<HttpBusResponder>;
}

const EMPTY = new Uint8Array(0);
/** Longest a stopping responder waits for the requests it is answering, ms. */
const STOP_GRACE_MS = 10_000;

/** A request waiting for its reply. */
interface PendingRequest {
  subject: string;
  resolve: (msg: HttpBusMessage) => void;
  reject: (err: ForwardError) => void;
  timer: NodeJS.Timeout;
}

/**
 * {@link HttpBusTransport} over a NATS connection (core request/reply, headers + bytes). Requests share one reply
 * subscription (`<inbox>.<n>`) with their own timers, instead of `nc.request`, which captures two stack traces per
 * call (a tenth of the gateway's CPU at a few thousand requests per second).
 */
export class NatsHttpBusTransport implements HttpBusTransport {
  private readonly inbox: string;
  private readonly pending = new Map<number, PendingRequest>();
  private replies: Subscription | undefined;
  private seq = 0;
  private outbox: Array<() => void> = [];

  constructor(private readonly nc: NatsConnection) {
    // The connection's own inbox prefix (the implementation keeps its options), so NATS permissions on inboxes hold.
    this.inbox = createInbox((nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
  }

  get maxPayloadBytes(): number {
    return this.nc.info?.max_payload ?? 1024 * 1024;
  }

  request(subject: string, msg: HttpBusMessage, timeoutMs: number): Promise<HttpBusMessage> {
    this.replies ??= this.nc.subscribe(`${this.inbox}.*`, { callback: (err, m) => this.onReply(err, m) });
    const id = ++this.seq;
    return new Promise<HttpBusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ForwardError('timeout', `no answer on ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { subject, resolve, reject, timer });
      const h = natsHeaders();
      h.set(HTTP_META_HEADER, msg.meta);
      if (msg.trace) for (const k in msg.trace) h.set(k, msg.trace[k]);
      this.send(() => {
        try {
          this.nc.publish(subject, msg.body, { reply: `${this.inbox}.${id}`, headers: h });
        } catch (e) {
          clearTimeout(timer);
          this.pending.delete(id);
          const text = (e as Error).message ?? String(e);
          reject(
            /max_payload/i.test(text)
              ? new ForwardError(
                  'too_large',
                  `the request exceeds the NATS max payload of ${this.maxPayloadBytes} bytes`,
                )
              : new ForwardError('failed', `request on ${subject} failed: ${text}`),
          );
        }
      });
    });
  }

  /**
   * Runs `write` (a publish or a respond) with the others of this event-loop turn: the client flushes its buffer once
   * per batch, so under load one socket write carries many messages instead of one each.
   */
  private send(write: () => void): void {
    this.outbox.push(write);
    if (this.outbox.length > 1) return;
    setImmediate(() => {
      const batch = this.outbox;
      this.outbox = [];
      for (const w of batch) w();
    });
  }

  private onReply(err: Error | null, m: Msg): void {
    if (err) {
      // The reply subscription ended (connection closed): fail what waits now rather than at its timeout.
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(new ForwardError('failed', `request on ${p.subject} failed: ${err.message}`));
      }
      this.replies = undefined;
      return;
    }
    const id = Number(m.subject.slice(this.inbox.length + 1));
    const p = this.pending.get(id);
    if (!p) return; // timed out already
    clearTimeout(p.timer);
    this.pending.delete(id);
    const h = m.headers;
    // The server answers 503 itself when no subscription matches the subject (no responders).
    if (h?.hasError && h.code === 503)
      return p.reject(new ForwardError('no_responders', `no responder on ${p.subject}`));
    const code = h?.get(HTTP_ERROR_CODE_HEADER);
    if (code) return p.reject(new ForwardError(code as ForwardErrorCode, h?.get(HTTP_ERROR_HEADER) || code));
    const meta = h?.get(HTTP_META_HEADER);
    if (!meta)
      return p.reject(new ForwardError('failed', `the reply on ${p.subject} has no ${HTTP_META_HEADER} header`));
    p.resolve({ meta, body: m.data ?? EMPTY });
  }

  async serve(
    subject: string,
    queue: string,
    handler: (msg: HttpBusMessage) => Promise<HttpBusMessage>,
  ): Promise<HttpBusResponder> {
    const inflight = new Set<Promise<void>>();
    const answer = async (m: Msg): Promise<void> => {
      const fail = (code: ForwardErrorCode, message: string): void => {
        const h = natsHeaders();
        h.set(HTTP_ERROR_CODE_HEADER, code);
        h.set(HTTP_ERROR_HEADER, message.replace(/[\r\n]+/g, ' ').slice(0, 1024));
        m.respond(EMPTY, { headers: h });
      };
      try {
        const out = await handler({ meta: m.headers?.get(HTTP_META_HEADER) ?? '', body: m.data ?? EMPTY });
        const h = natsHeaders();
        h.set(HTTP_META_HEADER, out.meta);
        this.send(() => {
          try {
            m.respond(out.body, { headers: h });
          } catch (e) {
            const text = (e as Error).message ?? String(e);
            try {
              if (/max_payload/i.test(text))
                fail('too_large', `the response exceeds the NATS max payload of ${this.maxPayloadBytes} bytes`);
              else fail('failed', text);
            } catch {
              // The connection is gone: the requester times out.
            }
          }
        });
      } catch (e) {
        const err = e as Error;
        try {
          fail(e instanceof ForwardError ? e.code : 'failed', err.message ?? String(e));
        } catch {
          // The connection is gone: the requester times out.
        }
      }
    };
    const sub: Subscription = this.nc.subscribe(subject, {
      queue,
      callback: (err, m) => {
        if (err) return;
        const p = answer(m).finally(() => inflight.delete(p));
        inflight.add(p);
      },
    });
    // Resolve only once the server has the subscription, so a request sent right after finds a responder.
    await this.nc.flush();
    return {
      stop: async () => {
        await sub.drain().catch(() => undefined);
        // A hung handler must not hold shutdown: its requester has timed out long before.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(inflight),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS).unref())),
        ]);
        clearTimeout(timer);
      },
    };
  }
}

/** Responders of one in-process bus, by subject. */
const inProcessResponders = new WeakMap<object, Map<string, Array<(msg: HttpBusMessage) => Promise<HttpBusMessage>>>>();

/**
 * {@link HttpBusTransport} inside one process (apps sharing one in-process bus in tests): a direct call of a
 * responder registered on the same bus, round-robin among replicas, with the same timeout and no-responder answers.
 */
export class InProcessHttpBusTransport implements HttpBusTransport {
  readonly maxPayloadBytes = Number.POSITIVE_INFINITY;
  private turn = 0;

  constructor(private readonly scope: object) {}

  private table(): Map<string, Array<(msg: HttpBusMessage) => Promise<HttpBusMessage>>> {
    let t = inProcessResponders.get(this.scope);
    if (!t) inProcessResponders.set(this.scope, (t = new Map()));
    return t;
  }

  async request(subject: string, msg: HttpBusMessage, timeoutMs: number): Promise<HttpBusMessage> {
    const handlers = this.table().get(subject);
    if (!handlers?.length) throw new ForwardError('no_responders', `no responder on ${subject}`);
    const handler = handlers[this.turn++ % handlers.length];
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        handler(msg),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ForwardError('timeout', `no answer on ${subject} within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } catch (e) {
      if (e instanceof ForwardError) throw e;
      throw new ForwardError('failed', (e as Error).message ?? String(e));
    } finally {
      clearTimeout(timer);
    }
  }

  async serve(
    subject: string,
    _queue: string,
    handler: (msg: HttpBusMessage) => Promise<HttpBusMessage>,
  ): Promise<HttpBusResponder> {
    const t = this.table();
    const list = t.get(subject) ?? [];
    list.push(handler);
    t.set(subject, list);
    return {
      stop: async () => {
        const i = list.indexOf(handler);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }
}

/**
 * The HTTP-over-bus transport of a process's bus: NATS core request/reply on a JetStream bus's connection, a direct
 * call on an in-process bus (scoped to that bus instance, so apps sharing it in one test reach each other).
 */
export function httpBusTransportFor(bus: EventBus): HttpBusTransport {
  if (bus instanceof JetStreamEventBus) return new NatsHttpBusTransport(bus.connection());
  if (bus instanceof InProcessEventBus) return new InProcessHttpBusTransport(bus);
  throw new Error(`HTTP over the bus needs a JetStream or in-process bus (got ${bus.constructor.name})`);
}

/**
 * Bodies above this size travel through the staging store: `STRATA_INLINE_MAX_BYTES`, and never more than the
 * transport's max payload minus room for the headers.
 */
export function inlineLimit(transport: HttpBusTransport, inlineMaxBytes: number): number {
  return Math.max(0, Math.min(inlineMaxBytes, transport.maxPayloadBytes - HEADER_HEADROOM_BYTES));
}

/**
 * Puts a body inline or in the staging store: returns the message data and the staged key, if any.
 * @throws ForwardError `too_large` when the body is above the limit and there is no staging store.
 */
export async function stageBody(
  body: Uint8Array,
  limit: number,
  staging: Pick<ArtifactStore, 'put'> | undefined,
): Promise<{ data: Uint8Array; bodyRef?: string }> {
  if (body.length <= limit) return { data: body };
  if (!staging)
    throw new ForwardError(
      'too_large',
      `the body (${body.length} bytes) exceeds the inline limit of ${limit} bytes and no staging store is configured`,
    );
  const stored = await staging.put(body, { extension: '.body' });
  return { data: EMPTY, bodyRef: stored.key };
}

/** The body a message names: its data, or the staged bytes. @throws ForwardError `failed` when the staged key is gone. */
export async function unstageBody(
  data: Uint8Array,
  bodyRef: string | undefined,
  staging: Pick<ArtifactStore, 'get'> | undefined,
): Promise<Uint8Array> {
  if (!bodyRef) return data;
  if (!staging)
    throw new ForwardError('failed', `the body was staged as ${bodyRef} but no staging store is configured`);
  const bytes = await staging.get(bodyRef);
  if (!bytes) throw new ForwardError('failed', `the staged body ${bodyRef} is not in the staging store (expired?)`);
  return bytes;
}
