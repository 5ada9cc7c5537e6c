import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import {
  headers as natsHeaders,
  nanos,
  NoRespondersError,
  RequestError,
  TimeoutError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  DeadLetterHeaders,
  deadLetterSubject,
  EnvelopeSchema,
  type BusHealth,
  type BusSubscription,
  type CommandDefinition,
  type DeadLetter,
  type DeadLetterReason,
  type Envelope,
  type EventBus,
  type MessageContext,
  type MessageDefinition,
  type MessageHandler,
  type PublishOptions,
  type SubscribeOptions,
} from '@strata/platform-contracts';
import {
  DEAD_LETTER_STREAM_PREFIX,
  resolveStreamLimits,
  streamKey,
  type StreamLimitsConfig,
} from '@strata/shared-util';
import { BusError, describeIssues, toBusIssues, type BusErrorCode } from './bus-errors';
import { logDeadLetter, type BusLogger } from './dead-letter-log';
import { notifyPublished } from './publish-observer';
import { compiledSchema } from './compiled-schema';
import { newEnvelope } from './envelope.factory';
import { PubAckPipeline } from './pub-ack-pipeline';
import { requestSubject } from './subjects';
import { ensureTraceContext, inConsumerSpan, isPromiseLike, NO_HEADERS, outgoingHeaders } from './tracing';

/** Options of {@link JetStreamEventBus}. */
export interface JetStreamEventBusOptions {
  /** NATS server URL(s), e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  /** Producer name written into envelopes; also the connection name. */
  service: string;
  /**
   * Prefix of stream names (default ''): domain `marketdata` → stream `<prefix>MARKETDATA`, its dead letters →
   * `<prefix>DLQ_MARKETDATA`. Subjects are not prefixed, so two prefixes cannot share a domain on one server.
   */
  streamPrefix?: string;
  /** Domains whose streams are created or updated at connect (default: none; each domain is ensured on first use). */
  domains?: readonly string[];
  /** Server-side dedup window for `Nats-Msg-Id`, ms (default 120000). */
  duplicateWindowMs?: number;
  /** Stream storage (default 'file'). */
  storage?: 'file' | 'memory';
  /**
   * Retention limits per stream (max age, max bytes, discard policy), keyed by stream name without `streamPrefix`;
   * unset keys get `DEFAULT_STREAM_LIMITS` (a year for domain streams; the data-quality and dead-letter streams bounded
   * by age and size). Applied when a stream is created, and updated on an existing stream that differs.
   */
  streamLimits?: StreamLimitsConfig;
  /** Where each dead letter is logged (one `warn` line with the reason); unset: not logged. */
  logger?: BusLogger;
  /** Default request timeout, ms (default 5000). */
  requestTimeoutMs?: number;
  /** Longest wait for a stream's PubAck, ms (default 5000). */
  publishTimeoutMs?: number;
  /** Longest wait in `close()` for in-flight handlers, ms (default 10000). */
  closeTimeoutMs?: number;
}

/** Header names written by the bus. */
export const BusHeaders = {
  MsgId: 'Nats-Msg-Id',
  DlqReason: DeadLetterHeaders.Reason,
  DlqConsumer: DeadLetterHeaders.Consumer,
  DlqDeliveries: DeadLetterHeaders.Deliveries,
  DlqDetail: DeadLetterHeaders.Detail,
  DlqStreamSeq: DeadLetterHeaders.StreamSeq,
  ErrorCode: 'Strata-Error-Code',
  Error: 'Strata-Error',
} as const;

const DEFAULT_BACKOFF = [100, 500, 2000];
const TERMINAL_ERRORS: ReadonlySet<BusErrorCode> = new Set<BusErrorCode>([
  'invalid_payload',
  'invalid_reply',
  'handler_error',
  'not_a_request',
  'payload_too_large',
]);

const utf8 = new TextEncoder();

/**
 * Encodes a message body and checks it (with its headers) against the server's max payload, so an oversized message
 * fails as `payload_too_large` naming both sizes instead of as an unexplained client error.
 */
function encodeWithin(nc: NatsConnection, subject: string, json: string, h?: MsgHdrs, what = 'message'): Uint8Array {
  const body = utf8.encode(json);
  const maxBytes = nc.info?.max_payload;
  if (maxBytes && body.length > maxBytes - 4096) {
    const hdr = h && typeof (h as { encode?: () => Uint8Array }).encode === 'function';
    const bytes = body.length + (hdr ? (h as unknown as { encode(): Uint8Array }).encode().length : 0);
    if (bytes > maxBytes)
      throw new BusError(
        'payload_too_large',
        `${subject} ${what} is ${bytes} bytes, over the NATS server's max payload of ${maxBytes} bytes`,
        subject,
        [],
        { bytes, maxBytes },
      );
  }
  return body;
}

/** A running subscription's consume loop. */
interface ConsumeLoop {
  messages: ConsumerMessages;
  done: Promise<void>;
  /** Time the current handler started (0 when idle). */
  startedAt: number;
  ackWaitMs: number;
  /** Resolves the current handler's race when its ack wait passed. */
  abandon: (() => void) | undefined;
  stopped: boolean;
}

/** Max-deliveries advisory payload (`io.nats.jetstream.advisory.v1.max_deliver`). */
interface MaxDeliverAdvisory {
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

/**
 * The EventBus port on NATS JetStream (official JavaScript client v3).
 *
 * - One stream per domain (`<prefix><DOMAIN>`, subjects `<domain>.>`, dedup window 2 min) and one dead-letter stream
 *   per domain (`<prefix>DLQ_<DOMAIN>`, subjects `dlq.<domain>.>`), created or updated idempotently.
 * - Publish waits for the stream's PubAck; `Nats-Msg-Id` = envelope id, so a republished id is stored once; the W3C
 *   trace context travels in headers.
 * - Durable pull consumers with explicit ack (`consume()` in batches of `prefetch`); replicas sharing the durable name
 *   split the work. One subscriber handles one message at a time, so it sees a subject in stream order.
 * - A handler that throws is `nak`ed with `backoffMs[attempt]`; at `maxDeliver` the message is published to
 *   `dlq.<subject>` (DeadLetter JSON body + `Strata-Dlq-*` headers) and then `term`ed. A payload failing the
 *   subscriber's schema (or an undecodable message) goes to the DLQ at once.
 * - A handler that outlives `ackWaitMs` is abandoned (not acked): the server redelivers it. The server allows
 *   `maxDeliver + 1` deliveries, so a message whose deliveries all timed out comes back once more and is dead-lettered
 *   instead of handled; should that last delivery be lost too, the server's max-deliveries advisory is turned into a
 *   dead letter (fetched by stream sequence). Dead letters are deduplicated by `<stream>:<seq>:<consumer>`.
 * - Request/reply on core NATS subject `rpc.<subject>` with a queue group (outside the domain stream, which would
 *   otherwise answer the request with its PubAck).
 * - `close()` stops pulling, lets buffered and in-flight messages finish, then drains the connection.
 */
export class JetStreamEventBus implements EventBus {
  private readonly streamsReady = new Map<string, Promise<void>>();
  private readonly loops = new Set<ConsumeLoop>();
  private readonly subs = new Set<Subscription>();
  private readonly sweep: NodeJS.Timeout;
  private closing = false;
  private closed = false;
  private connected = true;
  private readonly prefix: string;
  private readonly acks: PubAckPipeline;
  private pendingAcks: JsMsg[] = [];

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: JetStreamEventBusOptions,
  ) {
    this.prefix = opts.streamPrefix ?? '';
    this.acks = new PubAckPipeline(nc, opts.publishTimeoutMs ?? 5000);
    this.sweep = setInterval(() => this.sweepAckWait(), 100);
    this.sweep.unref();
    ensureTraceContext();
    void this.watchStatus();
  }

  /** Connects, checks JetStream is enabled and ensures the streams of `opts.domains`. */
  static async connect(opts: JetStreamEventBusOptions): Promise<JetStreamEventBus> {
    const nc = await connect({ servers: opts.servers, name: opts.service, maxReconnectAttempts: -1 });
    try {
      const jsm = await jetstreamManager(nc);
      const bus = new JetStreamEventBus(nc, jetstream(nc), jsm, opts);
      for (const d of opts.domains ?? []) await bus.ensureDomain(d);
      return bus;
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  /** Stream holding a domain's messages. */
  streamName(domain: string): string {
    return `${this.prefix}${streamKey(domain)}`;
  }

  /** Stream holding a domain's dead letters. */
  deadLetterStreamName(domain: string): string {
    return `${this.prefix}${DEAD_LETTER_STREAM_PREFIX}${streamKey(domain)}`;
  }

  /** The underlying connection (for tests and health details). */
  connection(): NatsConnection {
    return this.nc;
  }

  /** Creates or updates the domain's message and dead-letter streams (once per bus instance). */
  ensureDomain(domain: string): Promise<void> {
    let p = this.streamsReady.get(domain);
    if (!p) {
      p = (async () => {
        const stream = this.streamName(domain);
        const key = streamKey(domain);
        await this.ensureStream(stream, key, [`${domain}.>`]);
        await this.ensureStream(this.deadLetterStreamName(domain), `${DEAD_LETTER_STREAM_PREFIX}${key}`, [
          `dlq.${domain}.>`,
        ]);
        // Safety net for deliveries the server gave up on; one listener per stream across all replicas (queue group).
        const sub = this.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.*`, {
          queue: `${stream}_max_deliveries`,
          callback: (err, m) => {
            if (!err) void this.onMaxDeliveries(m);
          },
        });
        this.subs.add(sub);
      })();
      this.streamsReady.set(domain, p);
      p.catch(() => this.streamsReady.delete(domain));
    }
    return p;
  }

  /** Creates stream `name` (limits key `key`), or updates its subjects, dedup window and limits when they differ. */
  private async ensureStream(name: string, key: string, subjects: string[]): Promise<void> {
    const limits = resolveStreamLimits(key, this.opts.streamLimits);
    const cfg: Partial<StreamConfig> & { name: string; subjects: string[] } = {
      name,
      subjects,
      retention: RetentionPolicy.Limits,
      storage: this.opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
      discard: limits.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
      duplicate_window: nanos(this.opts.duplicateWindowMs ?? 120_000),
      max_age: nanos(limits.maxAgeMs),
      max_bytes: limits.maxBytes,
    };
    try {
      const info = await this.jsm.streams.info(name);
      const have = info.config;
      const same =
        have.duplicate_window === cfg.duplicate_window &&
        have.max_age === cfg.max_age &&
        have.max_bytes === cfg.max_bytes &&
        have.discard === cfg.discard &&
        subjects.every((s) => have.subjects.includes(s));
      if (!same)
        await this.jsm.streams.update(name, {
          ...have,
          subjects: [...new Set([...have.subjects, ...subjects])],
          duplicate_window: cfg.duplicate_window,
          max_age: cfg.max_age,
          max_bytes: cfg.max_bytes,
          discard: cfg.discard,
        });
    } catch (e) {
      if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound))
        throw this.unavailable(`stream ${name}`, e);
      try {
        await this.jsm.streams.add(cfg);
      } catch (e2) {
        // A replica created it meanwhile with the same config: fine.
        await this.jsm.streams.info(name).catch(() => {
          throw this.unavailable(`stream ${name}`, e2);
        });
      }
    }
  }

  private unavailable(what: string, e: unknown): BusError {
    const message = e instanceof Error ? e.message : String(e);
    // The client's own size check (headers larger than encodeWithin's margin): still the caller's payload, not the server.
    if (/max_payload/i.test(message))
      return new BusError('payload_too_large', `${what}: ${message} (max payload ${this.nc.info?.max_payload} bytes)`);
    return new BusError('unavailable', `${what}: ${message}`);
  }

  // ---------------------------------------------------------------- publish

  /** Validates, publishes with `Nats-Msg-Id` = envelope id and waits for the stream's PubAck. */
  async publish<T>(def: MessageDefinition<string, T>, data: T, opts?: PublishOptions): Promise<Envelope<T>> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    const env = this.envelope(def, data, opts);
    const ready = this.streamsReady.get(def.domain);
    // Fast path once the stream is known to exist; the first publish of a domain waits for it.
    if (!ready) await this.ensureDomain(def.domain);
    else await ready;
    const h = natsHeaders();
    h.set(BusHeaders.MsgId, env.id);
    const extra = outgoingHeaders(def.subject, opts?.headers);
    for (const k in extra) h.set(k, extra[k]);
    const body = encodeWithin(this.nc, def.subject, JSON.stringify(env), h);
    try {
      await this.acks.publish(def.subject, body, h);
    } catch (e) {
      throw this.unavailable(`publish ${def.subject}`, e);
    }
    return env;
  }

  private envelope<T>(def: MessageDefinition<string, T>, data: T, opts: PublishOptions | undefined): Envelope<T> {
    const parsed = compiledSchema(def.schema).safeParse(data);
    if (!parsed.success) {
      throw new BusError(
        'invalid_payload',
        `invalid ${def.subject} payload: ${describeIssues(parsed.error.issues)}`,
        def.subject,
        toBusIssues(parsed.error.issues),
      );
    }
    const env = newEnvelope(def, parsed.data, this.opts.service, opts);
    notifyPublished(def.subject, env, 'message');
    return env;
  }

  // ---------------------------------------------------------------- subscribe

  /**
   * Creates or updates the durable consumer (`ackWaitMs`, `maxDeliver`, `prefetch` are updated on an existing one;
   * `deliverFrom` only applies when it is created) and starts a consume loop on it.
   */
  async subscribe<T>(
    def: MessageDefinition<string, T>,
    handler: MessageHandler<T>,
    opts: SubscribeOptions,
  ): Promise<BusSubscription> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    await this.ensureDomain(def.domain);
    const stream = this.streamName(def.domain);
    const maxDeliver = Math.max(1, opts.maxDeliver ?? 5);
    const backoffMs = opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF;
    const ackWaitMs = opts.ackWaitMs ?? 30_000;
    await this.ensureConsumer(stream, def.subject, opts.consumer, {
      ack_wait: nanos(ackWaitMs),
      // One delivery more than the handler may see: the extra one dead-letters a message whose deliveries timed out.
      max_deliver: maxDeliver + 1,
      max_ack_pending: Math.max(1000, (opts.prefetch ?? 256) * 4),
      deliverFrom: opts.deliverFrom ?? 'all',
    });
    const consumer = await this.js.consumers.get(stream, opts.consumer);
    const messages = await consumer.consume({ max_messages: Math.max(1, opts.prefetch ?? 256) });
    const loop: ConsumeLoop = {
      messages,
      done: Promise.resolve(),
      startedAt: 0,
      ackWaitMs,
      abandon: undefined,
      stopped: false,
    };
    const schema = compiledSchema(def.schema as MessageDefinition<string, unknown>['schema']);
    const handle = (m: JsMsg): Promise<void> | void =>
      this.handle(
        m,
        def.subject,
        schema,
        handler as MessageHandler<unknown>,
        opts.consumer,
        loop,
        maxDeliver,
        backoffMs,
      );
    // Iterator mode on purpose: the client sends its next pull request only once the iterator reaches it, i.e. after
    // the messages before it were handled. That bounds what a replica holds (fair work sharing, no ack-wait expiry
    // while queued). Callback mode would pull ahead without limit.
    loop.done = (async () => {
      for await (const m of messages) {
        const r = handle(m);
        if (r) await r;
      }
    })().catch(() => undefined);
    this.loops.add(loop);
    return { stop: () => this.stopLoop(loop) };
  }

  private async ensureConsumer(
    stream: string,
    subject: string,
    name: string,
    want: { ack_wait: number; max_deliver: number; max_ack_pending: number; deliverFrom: 'all' | 'new' },
  ): Promise<void> {
    const cfg: Partial<ConsumerConfig> = {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: want.deliverFrom === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
      filter_subject: subject,
      ack_wait: want.ack_wait,
      max_deliver: want.max_deliver,
      max_ack_pending: want.max_ack_pending,
    };
    try {
      const info = await this.jsm.consumers.info(stream, name);
      const c = info.config;
      if (c.filter_subject !== subject) {
        throw new BusError(
          'unavailable',
          `consumer ${name} on ${stream} already filters ${c.filter_subject ?? '(none)'}, not ${subject}`,
          subject,
        );
      }
      if (
        c.ack_wait !== want.ack_wait ||
        c.max_deliver !== want.max_deliver ||
        c.max_ack_pending !== want.max_ack_pending
      ) {
        await this.jsm.consumers.update(stream, name, {
          ack_wait: want.ack_wait,
          max_deliver: want.max_deliver,
          max_ack_pending: want.max_ack_pending,
        });
      }
    } catch (e) {
      if (e instanceof BusError) throw e;
      if (!(e instanceof JetStreamApiError && e.code === JetStreamApiCodes.ConsumerNotFound))
        throw this.unavailable(`consumer ${name}`, e);
      try {
        await this.jsm.consumers.add(stream, cfg);
      } catch (e2) {
        await this.jsm.consumers.info(stream, name).catch(() => {
          throw this.unavailable(`consumer ${name}`, e2);
        });
      }
    }
  }

  /** Handles one delivery; returns a promise only when something asynchronous is pending. */
  private handle(
    m: JsMsg,
    subject: string,
    schema: MessageDefinition<string, unknown>['schema'],
    handler: MessageHandler<unknown>,
    consumer: string,
    loop: ConsumeLoop,
    maxDeliver: number,
    backoffMs: number[],
  ): Promise<void> | void {
    const count = m.info.deliveryCount;
    if (count > maxDeliver) {
      return this.deadLetter(
        m,
        consumer,
        'max_deliveries',
        `not acknowledged within the ack wait of ${loop.ackWaitMs} ms in ${maxDeliver} deliveries`,
        maxDeliver,
      );
    }
    let raw: unknown;
    try {
      raw = JSON.parse(safeText(m.data));
    } catch (e) {
      return this.deadLetter(
        m,
        consumer,
        'undecodable',
        `body is not JSON: ${e instanceof Error ? e.message : String(e)}`,
        count,
      );
    }
    const envCheck = envelopeSchema().safeParse(raw);
    if (!envCheck.success)
      return this.deadLetter(
        m,
        consumer,
        'undecodable',
        `not an envelope: ${describeIssues(envCheck.error.issues)}`,
        count,
      );
    const env = envCheck.data;
    if (env.type !== subject)
      return this.deadLetter(m, consumer, 'schema_invalid', `envelope type ${env.type} on subject ${subject}`, count);
    const parsed = schema.safeParse(env.data);
    if (!parsed.success)
      return this.deadLetter(m, consumer, 'schema_invalid', describeIssues(parsed.error.issues), count);
    const ctx = new JsDeliveryContext(env, parsed.data, m.subject, count, m.headers);
    loop.startedAt = Date.now();
    const onError = (e: unknown): Promise<void> | void => {
      loop.startedAt = 0;
      const reason = e instanceof Error ? e.message : String(e);
      if (count >= maxDeliver) return this.deadLetter(m, consumer, 'max_deliveries', reason, count);
      m.nak(backoffMs[Math.min(count - 1, backoffMs.length - 1)]);
    };
    let out: unknown;
    try {
      out = inConsumerSpan(
        m.headers ?? NO_HEADERS,
        { subject: m.subject, consumer, messageId: env.id, deliveryCount: count, system: 'nats' },
        () => handler(parsed.data, ctx),
      );
    } catch (e) {
      return onError(e);
    }
    if (!isPromiseLike(out)) {
      loop.startedAt = 0;
      this.ack(m);
      return;
    }
    return new Promise<void>((resolve) => {
      let settled = false;
      loop.abandon = () => {
        // Ack wait passed: leave the message unacknowledged; the server redelivers it (and counts the delivery).
        if (settled) return;
        settled = true;
        loop.startedAt = 0;
        resolve();
      };
      out.then(
        () => {
          if (settled) return;
          settled = true;
          loop.startedAt = 0;
          loop.abandon = undefined;
          this.ack(m);
          resolve();
        },
        (e: unknown) => {
          if (settled) return;
          settled = true;
          loop.abandon = undefined;
          const r = onError(e);
          if (r) r.then(resolve, resolve);
          else resolve();
        },
      );
    });
  }

  /**
   * Acks are sent together once per event-loop turn: the iterator hands over each message in its own microtask and
   * the client flushes its socket buffer in a microtask too, so acking inline would cost one socket write per message.
   */
  private ack(m: JsMsg): void {
    this.pendingAcks.push(m);
    if (this.pendingAcks.length === 1) setImmediate(this.flushAcks);
  }

  private readonly flushAcks = (): void => {
    const acks = this.pendingAcks;
    if (!acks.length) return;
    this.pendingAcks = [];
    if (this.nc.isClosed()) return; // unacked: the server redelivers them
    for (const m of acks) m.ack();
  };

  private sweepAckWait(): void {
    const now = Date.now();
    for (const loop of this.loops) {
      if (loop.startedAt && loop.abandon && now - loop.startedAt > loop.ackWaitMs) {
        const a = loop.abandon;
        loop.abandon = undefined;
        a();
      }
    }
  }

  /** Publishes a dead letter (awaiting the DLQ stream's ack), then terms the message; on failure naks it for later. */
  private async deadLetter(
    m: JsMsg,
    consumer: string,
    reason: DeadLetterReason,
    detail: string,
    deliveries: number,
  ): Promise<void> {
    const dl: DeadLetter = {
      subject: m.subject,
      consumer,
      reason,
      detail,
      deliveries,
      deadLetteredAt: new Date().toISOString(),
      payload: safeText(m.data),
    };
    try {
      await this.publishDeadLetter(dl, m.info.stream, m.seq, m.headers);
      m.term(`${reason}: ${detail}`.slice(0, 200));
    } catch {
      // Could not store the dead letter: keep the message (redelivered after a short pause) rather than lose it.
      m.nak(1000);
    }
  }

  private async publishDeadLetter(
    dl: DeadLetter,
    stream: string,
    seq: number,
    original: MsgHdrs | undefined,
  ): Promise<void> {
    const h = natsHeaders();
    if (original)
      for (const k of original.keys())
        if (k.toLowerCase() === 'traceparent' || k.toLowerCase() === 'tracestate') h.set(k, original.get(k));
    h.set(BusHeaders.DlqReason, dl.reason);
    h.set(BusHeaders.DlqConsumer, dl.consumer);
    h.set(BusHeaders.DlqDeliveries, String(dl.deliveries));
    h.set(BusHeaders.DlqDetail, dl.detail.replace(/[\r\n]+/g, ' ').slice(0, 512));
    h.set(BusHeaders.DlqStreamSeq, `${stream}:${seq}`);
    h.set(BusHeaders.MsgId, `${stream}:${seq}:${dl.consumer}`);
    await this.ensureDomain(dl.subject.split('.')[0]);
    notifyPublished(deadLetterSubject(dl.subject), dl, 'dead-letter');
    await this.acks.publish(deadLetterSubject(dl.subject), JSON.stringify(dl), h);
    logDeadLetter(this.opts.logger, dl, { stream, seq });
  }

  /** The server gave up on a message (its last delivery timed out too): store it as a dead letter. */
  private async onMaxDeliveries(m: Msg): Promise<void> {
    try {
      const adv = JSON.parse(m.string()) as MaxDeliverAdvisory;
      const stored = await this.jsm.streams.getMessage(adv.stream, { seq: adv.stream_seq });
      if (!stored) return;
      await this.publishDeadLetter(
        {
          subject: stored.subject,
          consumer: adv.consumer,
          reason: 'max_deliveries',
          detail: `server stopped after ${adv.deliveries} deliveries without acknowledgement (ack wait expired)`,
          deliveries: adv.deliveries,
          deadLetteredAt: new Date().toISOString(),
          payload: safeText(stored.data),
        },
        adv.stream,
        adv.stream_seq,
        stored.header,
      );
    } catch {
      // Best effort safety net; the message stays in the stream for inspection.
    }
  }

  private async stopLoop(loop: ConsumeLoop): Promise<void> {
    if (loop.stopped) return;
    loop.stopped = true;
    // Stop pulling; messages already buffered are still handled, then the iterator ends. (Not awaited alone: the close
    // promise settles only once the loop reaches it, which a hung handler may prevent.)
    const closed = loop.messages.close();
    await withTimeout(Promise.all([closed, loop.done]), this.opts.closeTimeoutMs ?? 10_000);
    this.flushAcks();
    this.loops.delete(loop);
    // Make sure acks, naks and terms of this loop reached the server.
    if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
  }

  // ---------------------------------------------------------------- dead letters

  /**
   * Replays every stored dead letter of `subject` (`dlq.<subject>`, wildcards allowed after the domain), then follows
   * new ones, with an ordered (ephemeral) consumer on the domain's DLQ stream.
   */
  async subscribeDeadLetters(
    subject: string,
    handler: (dl: DeadLetter) => void | Promise<void>,
  ): Promise<BusSubscription> {
    const domain = subject.split('.')[0];
    await this.ensureDomain(domain);
    const c = await this.js.consumers.get(this.deadLetterStreamName(domain), {
      filter_subjects: [deadLetterSubject(subject)],
    });
    const messages = await c.consume();
    const done = (async () => {
      for await (const m of messages) {
        try {
          await handler(m.json<DeadLetter>());
        } catch {
          // An observer failing must not stop the feed.
        }
      }
    })().catch(() => undefined);
    return {
      stop: async () => {
        await messages.close();
        await withTimeout(done, 5000);
      },
    };
  }

  // ---------------------------------------------------------------- request / reply

  /** Sends the command on `rpc.<subject>` and validates the reply. */
  async request<T, R>(
    def: CommandDefinition<string, T, R>,
    data: T,
    opts?: PublishOptions & { timeoutMs?: number },
  ): Promise<R> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    if (!def.reply)
      throw new BusError('not_a_request', `${def.subject} has no reply schema; publish it instead`, def.subject);
    const env = this.envelope(def, data, opts);
    const h = natsHeaders();
    const extra = outgoingHeaders(def.subject, opts?.headers);
    for (const k in extra) h.set(k, extra[k]);
    const timeout = opts?.timeoutMs ?? this.opts.requestTimeoutMs ?? 5000;
    const body = encodeWithin(this.nc, def.subject, JSON.stringify(env), h);
    let m: Msg;
    try {
      m = await this.nc.request(requestSubject(def.subject), body, { timeout, headers: h });
    } catch (e) {
      if (e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()))
        throw new BusError('no_responders', `no responders for ${def.subject}`, def.subject);
      if (e instanceof TimeoutError || (e instanceof RequestError && e.cause instanceof TimeoutError)) {
        throw new BusError('timeout', `no reply to ${def.subject} within ${timeout} ms`, def.subject);
      }
      throw this.unavailable(`request ${def.subject}`, e);
    }
    const code = m.headers?.get(BusHeaders.ErrorCode);
    if (code) {
      const known = TERMINAL_ERRORS.has(code as BusErrorCode) ? (code as BusErrorCode) : 'handler_error';
      throw new BusError(known, m.headers?.get(BusHeaders.Error) || code, def.subject);
    }
    let raw: unknown;
    try {
      raw = m.json<unknown>();
    } catch {
      throw new BusError('invalid_reply', `${def.subject} reply is not JSON`, def.subject);
    }
    const r = compiledSchema(def.reply).safeParse(raw);
    if (!r.success)
      throw new BusError(
        'invalid_reply',
        `invalid ${def.subject} reply: ${describeIssues(r.error.issues)}`,
        def.subject,
        toBusIssues(r.error.issues),
      );
    return r.data;
  }

  /**
   * Serves `rpc.<subject>` in queue group `queue`; resolves once the server registered the responder. Errors travel
   * back as `Strata-Error-Code` / `Strata-Error` headers.
   */
  async reply<T, R>(
    def: CommandDefinition<string, T, R>,
    handler: (data: T, ctx: MessageContext<T>) => Promise<R>,
    opts: { queue: string },
  ): Promise<BusSubscription> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    const inflight = new Set<Promise<void>>();
    const sub = this.nc.subscribe(requestSubject(def.subject), {
      queue: opts.queue,
      callback: (err, m) => {
        if (err) return;
        const p = this.serve(def, handler, m).finally(() => inflight.delete(p));
        inflight.add(p);
      },
    });
    this.subs.add(sub);
    // Resolve only once the server has the subscription (PING/PONG), so a request sent right after finds a responder.
    await this.nc.flush();
    return {
      stop: async () => {
        this.subs.delete(sub);
        await sub.drain().catch(() => undefined);
        await Promise.all(inflight);
      },
    };
  }

  private async serve<T, R>(
    def: CommandDefinition<string, T, R>,
    handler: (data: T, ctx: MessageContext<T>) => Promise<R>,
    m: Msg,
  ): Promise<void> {
    const fail = (code: BusErrorCode, message: string): void => {
      const h = natsHeaders();
      h.set(BusHeaders.ErrorCode, code);
      h.set(BusHeaders.Error, message.replace(/[\r\n]+/g, ' ').slice(0, 1024));
      m.respond('', { headers: h });
    };
    let env: Envelope<unknown>;
    try {
      const e = envelopeSchema().safeParse(m.json<unknown>());
      if (!e.success) return fail('invalid_payload', `not an envelope: ${describeIssues(e.error.issues)}`);
      env = e.data;
    } catch {
      return fail('invalid_payload', 'request body is not JSON');
    }
    const parsed = compiledSchema(def.schema).safeParse(env.data);
    if (!parsed.success)
      return fail('invalid_payload', `invalid ${def.subject} payload: ${describeIssues(parsed.error.issues)}`);
    const hdrs = headerRecord(m.headers);
    const ctx: MessageContext<T> = {
      envelope: { ...env, data: parsed.data },
      subject: def.subject,
      deliveryCount: 1,
      headers: hdrs,
    };
    let out: R;
    try {
      out = await inConsumerSpan(
        hdrs,
        { subject: def.subject, consumer: 'reply', messageId: env.id, deliveryCount: 1, system: 'nats' },
        () => handler(parsed.data, ctx),
      );
    } catch (e) {
      return fail(e instanceof BusError ? e.code : 'handler_error', e instanceof Error ? e.message : String(e));
    }
    if (def.reply) {
      const r = compiledSchema(def.reply).safeParse(out);
      if (!r.success) return fail('invalid_reply', `invalid ${def.subject} reply: ${describeIssues(r.error.issues)}`);
    }
    let body: Uint8Array;
    try {
      body = encodeWithin(this.nc, def.subject, JSON.stringify(out ?? null), undefined, 'reply');
    } catch (e) {
      return fail('payload_too_large', (e as Error).message);
    }
    m.respond(body);
  }

  // ---------------------------------------------------------------- lifecycle

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') this.connected = false;
      else if (s.type === 'reconnect') this.connected = true;
    }
  }

  /** Up while connected to a server; down while reconnecting or after close. */
  health(): BusHealth {
    if (this.closed || this.nc.isClosed()) return { adapter: 'jetstream', status: 'down', detail: 'connection closed' };
    if (!this.connected) return { adapter: 'jetstream', status: 'down', detail: 'reconnecting' };
    return { adapter: 'jetstream', status: 'up', detail: this.nc.getServer() };
  }

  /** Stops every consume loop (finishing buffered and in-flight messages), drains reply subscriptions, drains the connection. */
  async close(): Promise<void> {
    if (this.closing) {
      await this.nc.closed();
      return;
    }
    this.closing = true;
    clearInterval(this.sweep);
    await Promise.all([...this.loops].map((l) => this.stopLoop(l)));
    await Promise.all([...this.subs].map((s) => s.drain().catch(() => undefined)));
    await this.acks.close();
    await this.nc.drain().catch(() => undefined);
    this.closed = true;
  }
}

/** The envelope schema, compiled (the consumer checks every delivered message against it). */
const envelopeSchema = (): typeof EnvelopeSchema => compiledSchema(EnvelopeSchema);

/** Handler context of a delivery; the header record and the envelope with the parsed payload are built on first read. */
class JsDeliveryContext implements MessageContext<unknown> {
  private env: Envelope<unknown> | undefined;
  private hdrs: Record<string, string> | undefined;
  constructor(
    private readonly stored: Envelope<unknown>,
    private readonly data: unknown,
    readonly subject: string,
    readonly deliveryCount: number,
    private readonly raw: MsgHdrs | undefined,
  ) {}
  get envelope(): Envelope<unknown> {
    return (this.env ??= { ...this.stored, data: this.data });
  }
  get headers(): Record<string, string> {
    return (this.hdrs ??= headerRecord(this.raw));
  }
}

function headerRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k] = h.get(k);
  return out;
}

function safeText(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
}

async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (t = setTimeout(r, ms)))]);
  if (t) clearTimeout(t);
}
