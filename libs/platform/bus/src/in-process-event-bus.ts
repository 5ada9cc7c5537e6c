import {
  deadLetterSubject,
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
import { BusError, describeIssues, toBusIssues } from './bus-errors';
import { BusJournal, type JournalMessage } from './bus-journal';
import { compiledSchema } from './compiled-schema';
import { logDeadLetter, type BusLogger } from './dead-letter-log';
import { notifyPublished } from './publish-observer';
import { DedupIndex } from './dedup-index';
import { lastMintedSeq } from './fast-id';
import { newEnvelope } from './envelope.factory';
import { subjectMatches } from './subjects';
import { ensureTraceContext, inConsumerSpan, isPromiseLike, outgoingHeaders } from './tracing';

/** Options of {@link InProcessEventBus}. */
export interface InProcessEventBusOptions {
  /** Producer name written into envelopes. */
  service: string;
  /**
   * When set, messages, dead letters and consumer offsets are kept under `<dataDir>/bus` and survive a restart:
   * a durable consumer resumes after its last acknowledged message.
   */
  dataDir?: string;
  /** Dedup window for republished envelope ids, ms (default 120000, as JetStream's `duplicate_window`). */
  dedupWindowMs?: number;
  /** Upper bound of ids remembered per stream for dedup; the oldest are forgotten first (default 1048576). */
  dedupMaxIds?: number;
  /**
   * Messages kept per subject once every durable consumer acknowledged them, for consumers that join later with
   * `deliverFrom: 'all'` (default 1000). Messages not yet acknowledged by a known consumer are never discarded.
   */
  retainMessages?: number;
  /**
   * Journal batching: 0 (default) writes everything published in one event-loop turn together; > 0 waits that many ms
   * to gather larger batches. `publish` resolves once its batch is written.
   */
  flushIntervalMs?: number;
  /** fsync each journal batch (default false: survives a process crash, not a power loss). */
  fsync?: boolean;
  /** Default request timeout, ms (default 5000). */
  requestTimeoutMs?: number;
  /** Longest wait in `close()` for in-flight handlers and queued deliveries, ms (default 10000). */
  closeTimeoutMs?: number;
  /** Where each dead letter is logged (one `warn` line with the reason); unset: not logged. */
  logger?: BusLogger;
}

const EMPTY_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
/** Messages dispatched per drain turn before yielding to I/O. */
const DRAIN_BUDGET = 4096;
const DEFAULT_BACKOFF = [100, 500, 2000];
const COMPACT_BYTES = 64 * 1024 * 1024;

/** One stored message. */
class Entry {
  constructor(
    readonly seq: number,
    readonly env: Envelope<unknown>,
    readonly headers: Record<string, string> | undefined,
  ) {}
}

/** Handler context; the envelope (with the consumer's parsed payload) is built only when a handler reads it. */
class DeliveryContext implements MessageContext<unknown> {
  private env: Envelope<unknown> | undefined;
  constructor(
    private readonly stored: Envelope<unknown>,
    private readonly data: unknown,
    readonly subject: string,
    readonly deliveryCount: number,
    readonly headers: Record<string, string>,
  ) {}
  get envelope(): Envelope<unknown> {
    const e = this.stored;
    return (this.env ??= {
      id: e.id,
      type: e.type,
      version: e.version,
      occurredAt: e.occurredAt,
      producer: e.producer,
      correlationId: e.correlationId,
      causationId: e.causationId,
      data: this.data,
    });
  }
}

/** A delivery waiting for its backoff to pass, or ready to go again. */
interface Retry {
  entry: Entry;
  /** Deliveries so far. */
  deliveries: number;
}

/** Messages of one subject, in sequence order: `entries[i].seq === base + i`. */
class SubjectLog {
  entries: Entry[] = [];
  /** Index of the first retained entry in `entries`. */
  head = 0;
  /** Sequence of `entries[0]`. */
  base = 1;
  lastSeq = 0;
  readonly groups = new Map<string, ConsumerGroup>();
  constructor(
    readonly subject: string,
    readonly stream: string,
  ) {}
  firstSeq(): number {
    return this.base + this.head;
  }
  get(seq: number): Entry | undefined {
    const i = seq - this.base;
    return i >= this.head ? this.entries[i] : undefined;
  }
  append(e: Entry): void {
    this.entries.push(e);
    this.lastSeq = e.seq;
  }
  /** Drops entries with sequence <= `seq`. */
  trimThrough(seq: number): void {
    const idx = Math.min(seq - this.base + 1, this.entries.length);
    if (idx <= this.head) return;
    for (let i = this.head; i < idx; i++) (this.entries as Array<Entry | undefined>)[i] = undefined;
    this.head = idx;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
  retained(): number {
    return this.entries.length - this.head;
  }
}

/** A subscriber of a consumer group. */
class Member {
  /** The subscriber's payload schema, compiled ({@link compiledSchema}). */
  readonly schema: MessageDefinition<string, unknown>['schema'];
  busy = false;
  stopped = false;
  /** Bumped when a delivery is abandoned (ack wait), so its late completion is ignored. */
  token = 0;
  current: Retry | undefined;
  startedAt = 0;
  idleWaiters: Array<() => void> = [];
  constructor(
    readonly handler: MessageHandler<unknown>,
    readonly def: MessageDefinition<string, unknown>,
  ) {
    this.schema = compiledSchema(def.schema);
  }
}

/** A durable consumer: one position over a subject, shared by its members (competing consumers). */
class ConsumerGroup {
  readonly key: string;
  members: Member[] = [];
  rr = 0;
  /** Next never-delivered sequence. */
  cursor: number;
  /** Every sequence <= ackFloor is done (acknowledged or dead-lettered). */
  ackFloor: number;
  /** Done sequences above the floor (out-of-order completion with several members or retries). */
  readonly doneAbove = new Set<number>();
  /** Redeliveries whose backoff has passed, delivered before new messages. */
  ready: Retry[] = [];
  /** Redeliveries waiting for their backoff. */
  readonly waiting = new Set<NodeJS.Timeout>();
  scheduled = false;
  maxDeliver = 5;
  backoffMs = DEFAULT_BACKOFF;
  ackWaitMs = 30_000;
  constructor(
    readonly log: SubjectLog,
    readonly name: string,
    floor: number,
  ) {
    this.key = `${log.subject}|${name}`;
    this.ackFloor = floor;
    this.cursor = floor + 1;
  }
}

interface DeadLetterEntry {
  seq: number;
  dl: DeadLetter;
}

interface DeadLetterSub {
  pattern: string;
  handler: (dl: DeadLetter) => void | Promise<void>;
  stopped: boolean;
}

interface Responder {
  handler: (data: unknown, ctx: MessageContext<unknown>) => Promise<unknown>;
  stopped: boolean;
}

/**
 * The EventBus port in one process: the embedded default of `npm start` and of unit tests.
 *
 * Guarantees (the JetStream adapter's, as far as they apply to one process):
 * - payloads are validated on publish (invalid → `publish` rejects with `invalid_payload`) and on consume against the
 *   subscriber's contract (invalid → `dlq.<subject>` with reason `schema_invalid`, never retried); each handler gets
 *   its own parsed copy of the payload;
 * - at-least-once delivery: a handler that throws (or rejects, or exceeds `ackWaitMs`) is redelivered after
 *   `backoffMs[attempt]`, and after `maxDeliver` deliveries the message goes to `dlq.<subject>` (`max_deliveries`);
 * - a republished envelope id within `dedupWindowMs` is stored once;
 * - subscribers sharing a consumer name split the messages (round robin over idle members); one subscriber sees one
 *   subject in publish order, one message at a time (retries aside);
 * - a consumer keeps its position while it has no subscriber, and across restarts when `dataDir` is set
 *   (journal + offsets under `<dataDir>/bus`; delivery counts restart from 1 after a restart);
 * - request/reply for commands with a reply schema, both sides validated;
 * - `close()` stops accepting publishes, lets queued deliveries and in-flight handlers finish, flushes the journal.
 *
 * Dispatch runs in microtask/immediate loops over batches of messages, so a synchronous handler costs no promise.
 */
export class InProcessEventBus implements EventBus {
  private readonly logs = new Map<string, SubjectLog>();
  private readonly dedup = new Map<string, DedupIndex>();
  private readonly deadLetters = new Map<string, DeadLetterEntry[]>();
  private dlqSeq = 0;
  private readonly dlqSubs: DeadLetterSub[] = [];
  private readonly responders = new Map<string, { list: Responder[]; rr: number }>();
  private readonly dirty: ConsumerGroup[] = [];
  private drainScheduled = false;
  private readonly journal: BusJournal | undefined;
  private readonly persistedFloors = new Map<string, number>();
  private readonly dedupWindowMs: number;
  private readonly dedupMaxIds: number;
  private readonly retain: number;
  private publishCount = 0;
  private readonly sweepTimer: NodeJS.Timeout;
  private closing = false;
  private closed = false;
  private readonly inflightRequests = new Set<Promise<unknown>>();

  constructor(private readonly opts: InProcessEventBusOptions) {
    this.dedupWindowMs = opts.dedupWindowMs ?? 120_000;
    this.dedupMaxIds = opts.dedupMaxIds ?? 1 << 20;
    this.retain = opts.retainMessages ?? 1000;
    if (opts.dataDir) {
      this.journal = new BusJournal(opts.dataDir, opts.flushIntervalMs ?? 0, opts.fsync ?? false);
      this.restore(this.journal);
    }
    this.sweepTimer = setInterval(() => this.sweepAckWait(), 250);
    this.sweepTimer.unref();
    ensureTraceContext();
  }

  // ---------------------------------------------------------------- publish

  /** Validates, stores and schedules delivery; resolves with the envelope once stored (journal batch written). */
  publish<T>(def: MessageDefinition<string, T>, data: T, opts?: PublishOptions): Promise<Envelope<T>> {
    return this.publishAs(this.opts.service, def, data, opts);
  }

  /** {@link publish} with another producer name (used by {@link forService} views). */
  publishAs<T>(
    producer: string,
    def: MessageDefinition<string, T>,
    data: T,
    opts?: PublishOptions,
  ): Promise<Envelope<T>> {
    if (this.closing) return Promise.reject(new BusError('closed', 'event bus is closed', def.subject));
    const parsed = compiledSchema(def.schema).safeParse(data);
    if (!parsed.success) {
      return Promise.reject(
        new BusError(
          'invalid_payload',
          `invalid ${def.subject} payload: ${describeIssues(parsed.error.issues)}`,
          def.subject,
          toBusIssues(parsed.error.issues),
        ),
      );
    }
    const now = Date.now();
    const explicitId = opts?.id;
    const env = newEnvelope(def, parsed.data, producer, opts, now);
    const log = this.logFor(def.subject, def.domain);
    let ids = this.dedup.get(log.stream);
    if (!ids) this.dedup.set(log.stream, (ids = new DedupIndex(this.dedupWindowMs, this.dedupMaxIds)));
    if (explicitId === undefined) ids.addMinted(lastMintedSeq(), now);
    else if (ids.checkExplicit(explicitId, now)) return Promise.resolve(env);
    notifyPublished(def.subject, env, 'message');
    const entry = new Entry(log.lastSeq + 1, env as Envelope<unknown>, outgoingHeaders(def.subject, opts?.headers));
    log.append(entry);
    for (const g of log.groups.values()) if (g.members.length) this.schedule(g);
    if ((++this.publishCount & 1023) === 0) this.housekeep(now);
    if (this.journal) {
      const m: JournalMessage = { q: entry.seq, s: log.subject, e: env as Envelope<unknown> };
      if (entry.headers) m.h = entry.headers;
      return this.journal.append(log.stream, m).then(() => env);
    }
    return Promise.resolve(env);
  }

  /** Forgets expired dedup ids and trims acknowledged history (every 1024 publishes). */
  private housekeep(now: number): void {
    for (const ids of this.dedup.values()) ids.prune(now);
    for (const log of this.logs.values()) this.trim(log);
    if (this.journal) this.compact(this.journal);
  }

  private readonly compactAt = new Map<string, number>();

  /** Rewrites a stream log from the retained messages once it grew past its threshold (64 MiB, or twice its last size). */
  private compact(journal: BusJournal): void {
    const streams = new Set<string>();
    for (const log of this.logs.values()) streams.add(log.stream);
    for (const stream of streams) {
      const limit = this.compactAt.get(stream) ?? COMPACT_BYTES;
      if (journal.logBytes(stream) < limit) continue;
      journal.rewrite(stream, journalLines([...this.logs.values()].filter((l) => l.stream === stream)));
      this.compactAt.set(stream, Math.max(COMPACT_BYTES, 2 * journal.logBytes(stream)));
    }
  }

  private trim(log: SubjectLog, slack = 1024): void {
    // Hysteresis: trim in steps of `slack` so a busy subject is not trimmed on every call.
    if (log.retained() <= this.retain + slack) return;
    let floor = log.lastSeq - this.retain;
    for (const g of log.groups.values()) floor = Math.min(floor, g.ackFloor);
    for (const [key, f] of this.persistedFloors) if (key.startsWith(log.subject + '|')) floor = Math.min(floor, f);
    if (floor >= log.firstSeq()) log.trimThrough(floor);
  }

  private logFor(subject: string, stream: string): SubjectLog {
    let log = this.logs.get(subject);
    if (!log) this.logs.set(subject, (log = new SubjectLog(subject, stream)));
    return log;
  }

  // ---------------------------------------------------------------- subscribe

  /** Adds a subscriber to the durable consumer `opts.consumer` of `def.subject` (created on first use). */
  async subscribe<T>(
    def: MessageDefinition<string, T>,
    handler: MessageHandler<T>,
    opts: SubscribeOptions,
  ): Promise<BusSubscription> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    const log = this.logFor(def.subject, def.domain);
    let g = log.groups.get(opts.consumer);
    if (!g) {
      const key = `${def.subject}|${opts.consumer}`;
      const persisted = this.persistedFloors.get(key);
      const floor = persisted ?? (opts.deliverFrom === 'new' ? log.lastSeq : log.firstSeq() - 1);
      this.persistedFloors.delete(key);
      g = new ConsumerGroup(log, opts.consumer, floor);
      log.groups.set(opts.consumer, g);
      this.journal?.setFloor(g.key, g.ackFloor);
    }
    g.maxDeliver = Math.max(1, opts.maxDeliver ?? 5);
    g.backoffMs = opts.backoffMs?.length ? opts.backoffMs : DEFAULT_BACKOFF;
    g.ackWaitMs = opts.ackWaitMs ?? 30_000;
    const member = new Member(handler as MessageHandler<unknown>, def as MessageDefinition<string, unknown>);
    g.members.push(member);
    this.schedule(g);
    const group = g;
    return {
      stop: async () => {
        if (member.stopped) return;
        member.stopped = true;
        group.members = group.members.filter((m) => m !== member);
        if (member.busy) await new Promise<void>((r) => member.idleWaiters.push(r));
        if (group.members.length) this.schedule(group);
      },
    };
  }

  private schedule(g: ConsumerGroup): void {
    if (g.scheduled) return;
    g.scheduled = true;
    this.dirty.push(g);
    if (!this.drainScheduled) {
      this.drainScheduled = true;
      queueMicrotask(this.drain);
    }
  }

  private readonly drain = (): void => {
    this.drainScheduled = false;
    let budget = DRAIN_BUDGET;
    while (this.dirty.length && budget > 0) {
      const g = this.dirty[0];
      budget = this.drainGroup(g, budget);
      this.dirty.shift();
      // Out of budget with work left: go to the back of the line so other consumers get their turn.
      if (budget === 0 && this.hasWork(g)) this.dirty.push(g);
      else g.scheduled = false;
    }
    if (this.dirty.length && !this.drainScheduled) {
      this.drainScheduled = true;
      setImmediate(this.drain);
    }
  };

  private hasWork(g: ConsumerGroup): boolean {
    return g.ready.length > 0 || g.cursor <= g.log.lastSeq;
  }

  /** Delivers to idle members until they are all busy, the group is caught up, or the budget is spent. */
  private drainGroup(g: ConsumerGroup, budget: number): number {
    const members = g.members;
    while (budget > 0 && members.length) {
      let member: Member | undefined;
      for (let k = 0; k < members.length; k++) {
        const m = members[(g.rr + k) % members.length];
        if (!m.busy) {
          member = m;
          g.rr = (g.rr + k + 1) % members.length;
          break;
        }
      }
      if (!member) break;
      let retry: Retry | undefined;
      if (g.ready.length) retry = g.ready.shift();
      else if (g.cursor <= g.log.lastSeq) {
        const entry = g.log.get(g.cursor++);
        if (!entry) continue; // trimmed (cannot happen above the floor; defensive)
        retry = { entry, deliveries: 0 };
      } else break;
      budget--;
      this.deliver(g, member, retry!);
    }
    return budget;
  }

  private deliver(g: ConsumerGroup, member: Member, r: Retry): void {
    r.deliveries++;
    const entry = r.entry;
    const parsed = member.schema.safeParse(entry.env.data);
    if (!parsed.success) {
      this.deadLetter(g, r, 'schema_invalid', describeIssues(parsed.error.issues));
      return;
    }
    const env = entry.env;
    const ctx = new DeliveryContext(env, parsed.data, g.log.subject, r.deliveries, entry.headers ?? EMPTY_HEADERS);
    member.busy = true;
    member.current = r;
    member.startedAt = Date.now();
    const token = ++member.token;
    let out: unknown;
    try {
      out =
        entry.headers && entry.headers.traceparent
          ? inConsumerSpan(
              entry.headers,
              {
                subject: g.log.subject,
                consumer: g.name,
                messageId: env.id,
                deliveryCount: r.deliveries,
                system: 'in-process',
              },
              () => member.handler(parsed.data, ctx),
            )
          : member.handler(parsed.data, ctx);
    } catch (e) {
      this.settle(g, member, token, e, true);
      return;
    }
    if (isPromiseLike(out)) {
      out.then(
        () => this.settle(g, member, token, undefined, false),
        (e: unknown) => this.settle(g, member, token, e, true),
      );
    } else this.settle(g, member, token, undefined, false);
  }

  private settle(g: ConsumerGroup, member: Member, token: number, err: unknown, failed: boolean): void {
    if (member.token !== token) return; // abandoned after ack wait; its redelivery is already scheduled
    const r = member.current!;
    this.release(member);
    if (failed) this.fail(g, r, err instanceof Error ? err.message : String(err));
    else this.done(g, r.entry.seq);
    if (!this.closed && (g.ready.length || g.cursor <= g.log.lastSeq)) this.schedule(g);
  }

  private release(member: Member): void {
    member.busy = false;
    member.current = undefined;
    if (member.idleWaiters.length) {
      const ws = member.idleWaiters;
      member.idleWaiters = [];
      for (const w of ws) w();
    }
  }

  private fail(g: ConsumerGroup, r: Retry, reason: string): void {
    if (r.deliveries >= g.maxDeliver) {
      this.deadLetter(g, r, 'max_deliveries', reason);
      return;
    }
    const delay = g.backoffMs[Math.min(r.deliveries - 1, g.backoffMs.length - 1)];
    const t = setTimeout(() => {
      g.waiting.delete(t);
      g.ready.push(r);
      this.schedule(g);
    }, delay);
    g.waiting.add(t);
  }

  /** Marks a sequence done and advances the ack floor. */
  private done(g: ConsumerGroup, seq: number): void {
    if (seq === g.ackFloor + 1) {
      g.ackFloor = seq;
      if (g.doneAbove.size) {
        while (g.doneAbove.delete(g.ackFloor + 1)) g.ackFloor++;
      }
      this.journal?.setFloor(g.key, g.ackFloor);
    } else if (seq > g.ackFloor) g.doneAbove.add(seq);
  }

  /** Abandons deliveries that exceeded their ack wait: they count as failed and are redelivered (or dead-lettered). */
  private sweepAckWait(): void {
    const now = Date.now();
    for (const log of this.logs.values()) {
      for (const g of log.groups.values()) {
        for (const m of g.members) {
          if (m.busy && now - m.startedAt > g.ackWaitMs) {
            const r = m.current!;
            m.token++;
            this.release(m);
            this.fail(g, r, `ack wait of ${g.ackWaitMs} ms expired`);
            this.schedule(g);
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- dead letters

  private deadLetter(g: ConsumerGroup, r: Retry, reason: DeadLetterReason, detail: string): void {
    const dl: DeadLetter = {
      subject: g.log.subject,
      consumer: g.name,
      reason,
      detail,
      deliveries: r.deliveries,
      deadLetteredAt: new Date().toISOString(),
      payload: JSON.stringify(r.entry.env),
    };
    this.done(g, r.entry.seq);
    notifyPublished(deadLetterSubject(dl.subject), dl, 'dead-letter');
    this.storeDeadLetter(dl);
    logDeadLetter(this.opts.logger, dl);
  }

  private storeDeadLetter(dl: DeadLetter): void {
    const subject = deadLetterSubject(dl.subject);
    let list = this.deadLetters.get(subject);
    if (!list) this.deadLetters.set(subject, (list = []));
    const seq = ++this.dlqSeq;
    list.push({ seq, dl });
    if (this.journal) {
      this.journal.append('dlq', { q: seq, s: subject, d: dl }).catch(() => undefined);
    }
    for (const s of this.dlqSubs)
      if (!s.stopped && subjectMatches(s.pattern, subject)) void this.callDeadLetterHandler(s, dl);
  }

  private async callDeadLetterHandler(s: DeadLetterSub, dl: DeadLetter): Promise<void> {
    try {
      await s.handler(dl);
    } catch {
      // A failing dead-letter observer must not affect delivery; the dead letter stays stored.
    }
  }

  /**
   * Calls `handler` for every stored dead letter of `subject` (wildcards `*`/`>` allowed), then for each new one.
   * Dead letters are kept (and journalled with `dataDir`) until the process ends.
   */
  async subscribeDeadLetters(
    subject: string,
    handler: (dl: DeadLetter) => void | Promise<void>,
  ): Promise<BusSubscription> {
    const sub: DeadLetterSub = { pattern: deadLetterSubject(subject), handler, stopped: false };
    const backlog: DeadLetterEntry[] = [];
    for (const [s, list] of this.deadLetters) if (subjectMatches(sub.pattern, s)) backlog.push(...list);
    backlog.sort((a, b) => a.seq - b.seq);
    this.dlqSubs.push(sub);
    for (const e of backlog) await this.callDeadLetterHandler(sub, e.dl);
    return {
      stop: async () => {
        sub.stopped = true;
        const i = this.dlqSubs.indexOf(sub);
        if (i >= 0) this.dlqSubs.splice(i, 1);
      },
    };
  }

  // ---------------------------------------------------------------- request / reply

  /** Sends a command to one responder and returns its validated reply. */
  request<T, R>(
    def: CommandDefinition<string, T, R>,
    data: T,
    opts?: PublishOptions & { timeoutMs?: number },
  ): Promise<R> {
    return this.requestAs(this.opts.service, def, data, opts);
  }

  /** {@link request} with another producer name (used by {@link forService} views). */
  async requestAs<T, R>(
    producer: string,
    def: CommandDefinition<string, T, R>,
    data: T,
    opts?: PublishOptions & { timeoutMs?: number },
  ): Promise<R> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    if (!def.reply)
      throw new BusError('not_a_request', `${def.subject} has no reply schema; publish it instead`, def.subject);
    const parsed = compiledSchema(def.schema).safeParse(data);
    if (!parsed.success) {
      throw new BusError(
        'invalid_payload',
        `invalid ${def.subject} payload: ${describeIssues(parsed.error.issues)}`,
        def.subject,
        toBusIssues(parsed.error.issues),
      );
    }
    const group = this.responders.get(def.subject);
    const live = group?.list.filter((r) => !r.stopped) ?? [];
    if (!group || !live.length) throw new BusError('no_responders', `no responders for ${def.subject}`, def.subject);
    const responder = live[group.rr++ % live.length];
    const headers = outgoingHeaders(def.subject, opts?.headers);
    const env = newEnvelope(def, parsed.data, producer, opts);
    notifyPublished(def.subject, env, 'message');
    const id = env.id;
    const timeoutMs = opts?.timeoutMs ?? this.opts.requestTimeoutMs ?? 5000;
    const ctx: MessageContext<unknown> = {
      envelope: env as Envelope<unknown>,
      subject: def.subject,
      deliveryCount: 1,
      headers,
    };
    const call = Promise.resolve().then(() =>
      headers.traceparent
        ? inConsumerSpan(
            headers,
            { subject: def.subject, consumer: 'reply', messageId: id, deliveryCount: 1, system: 'in-process' },
            () => responder.handler(parsed.data, ctx),
          )
        : responder.handler(parsed.data, ctx),
    );
    this.inflightRequests.add(call);
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        call.then(
          (v) => ({ ok: true as const, v }),
          (e: unknown) => ({ ok: false as const, e }),
        ),
        new Promise<{ ok: 'timeout' }>((res) => {
          timer = setTimeout(() => res({ ok: 'timeout' }), timeoutMs);
        }),
      ]);
      if (reply.ok === 'timeout')
        throw new BusError('timeout', `no reply to ${def.subject} within ${timeoutMs} ms`, def.subject);
      if (!reply.ok) {
        if (reply.e instanceof BusError) throw reply.e;
        throw new BusError('handler_error', reply.e instanceof Error ? reply.e.message : String(reply.e), def.subject);
      }
      const r = compiledSchema(def.reply).safeParse(reply.v);
      if (!r.success)
        throw new BusError(
          'invalid_reply',
          `invalid ${def.subject} reply: ${describeIssues(r.error.issues)}`,
          def.subject,
          toBusIssues(r.error.issues),
        );
      return r.data;
    } finally {
      if (timer) clearTimeout(timer);
      this.inflightRequests.delete(call);
    }
  }

  /** Serves a command that answers; several responders of one subject take turns (queue group semantics). */
  async reply<T, R>(
    def: CommandDefinition<string, T, R>,
    handler: (data: T, ctx: MessageContext<T>) => Promise<R>,
    _opts: { queue: string },
  ): Promise<BusSubscription> {
    if (this.closing) throw new BusError('closed', 'event bus is closed', def.subject);
    let group = this.responders.get(def.subject);
    if (!group) this.responders.set(def.subject, (group = { list: [], rr: 0 }));
    const r: Responder = { handler: handler as Responder['handler'], stopped: false };
    group.list.push(r);
    const g = group;
    return {
      stop: async () => {
        r.stopped = true;
        g.list = g.list.filter((x) => x !== r);
      },
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * A view of this bus for one service of the all-in-one process: same messages, consumers and journal, but envelopes
   * name `service` as producer, and closing the view only stops the view's own subscriptions (draining their
   * in-flight handlers). Closing the root bus closes every view.
   */
  forService(service: string): EventBus {
    return new InProcessServiceView(this, service);
  }

  /** True once `close()` finished. */
  isClosed(): boolean {
    return this.closed;
  }

  /** Always up while open (there is no connection to lose). */
  health(): BusHealth {
    return this.closed
      ? { adapter: 'in-process', status: 'down', detail: 'closed' }
      : {
          adapter: 'in-process',
          status: 'up',
          detail: this.opts.dataDir ? `journal ${this.opts.dataDir}/bus` : 'memory only',
        };
  }

  /**
   * Stops accepting publishes and subscriptions, waits (up to `closeTimeoutMs`) until queued deliveries, in-flight
   * handlers and pending requests are finished, then flushes the journal. Retries still waiting for their backoff at
   * the deadline are cancelled; with `dataDir` they are redelivered after a restart (their offset was never acked).
   */
  async close(): Promise<void> {
    if (this.closing) {
      while (!this.closed) await new Promise((r) => setTimeout(r, 5));
      return;
    }
    this.closing = true;
    const deadline = Date.now() + (this.opts.closeTimeoutMs ?? 10_000);
    const groups = (): ConsumerGroup[] => [...this.logs.values()].flatMap((l) => [...l.groups.values()]);
    // Without a journal, retries waiting for their backoff would be lost, so they are awaited too.
    const waitRetries = !this.journal;
    while (Date.now() < deadline) {
      const busy = groups().some(
        (g) =>
          g.members.some((m) => m.busy) ||
          (g.members.length > 0 &&
            (g.cursor <= g.log.lastSeq || g.ready.length > 0 || (waitRetries && g.waiting.size > 0))),
      );
      if (!busy && this.inflightRequests.size === 0) break;
      await new Promise((r) => setTimeout(r, 2));
    }
    this.closed = true;
    clearInterval(this.sweepTimer);
    for (const g of groups()) {
      for (const t of g.waiting) clearTimeout(t);
      g.waiting.clear();
    }
    this.journal?.close();
  }

  // ---------------------------------------------------------------- restore

  private restore(journal: BusJournal): void {
    const state = journal.load();
    for (const [key, floor] of state.floors) this.persistedFloors.set(key, floor);
    const now = Date.now();
    for (const m of state.messages) {
      if (m.d) {
        let list = this.deadLetters.get(m.s);
        if (!list) this.deadLetters.set(m.s, (list = []));
        list.push({ seq: m.q, dl: m.d });
        this.dlqSeq = Math.max(this.dlqSeq, m.q);
        continue;
      }
      if (!m.e) continue;
      const stream = m.s.split('.')[0];
      const log = this.logFor(m.s, stream);
      if (m.q <= log.lastSeq) continue;
      if (log.lastSeq === 0 && log.entries.length === 0) log.base = m.q;
      log.append(new Entry(m.q, m.e, m.h));
      // Republishing an id seen within the window is still a duplicate after a restart.
      const at = Date.parse(m.e.occurredAt);
      if (now - at < this.dedupWindowMs) {
        let ids = this.dedup.get(stream);
        if (!ids) this.dedup.set(stream, (ids = new DedupIndex(this.dedupWindowMs, this.dedupMaxIds)));
        ids.restore(m.e.id, at);
      }
    }
    for (const [subject, last] of state.lastSeqs) {
      if (subject.startsWith('dlq.')) continue;
      const log = this.logFor(subject, subject.split('.')[0]);
      if (log.lastSeq < last) {
        if (log.entries.length === 0) log.base = last + 1;
        log.lastSeq = last;
      }
    }
    // Compaction: rewrite each stream log without messages every known consumer acknowledged (beyond `retain`).
    const byStream = new Map<string, SubjectLog[]>();
    for (const log of this.logs.values()) {
      this.trim(log, 0);
      let l = byStream.get(log.stream);
      if (!l) byStream.set(log.stream, (l = []));
      l.push(log);
    }
    const kept = [...this.logs.values()].reduce((n, l) => n + l.retained(), 0);
    const stored = state.messages.filter((m) => m.e).length;
    if (kept < stored) {
      for (const [stream, logs] of byStream) journal.rewrite(stream, journalLines(logs));
    }
  }
}

function* journalLines(logs: SubjectLog[]): Generator<JournalMessage> {
  for (const log of logs) {
    for (let i = log.head; i < log.entries.length; i++) {
      const e = log.entries[i];
      const m: JournalMessage = { q: e.seq, s: log.subject, e: e.env };
      if (e.headers) m.h = e.headers;
      yield m;
    }
  }
}

/** See {@link InProcessEventBus.forService}. */
class InProcessServiceView implements EventBus {
  private readonly subs = new Set<BusSubscription>();
  private closed = false;

  constructor(
    private readonly root: InProcessEventBus,
    private readonly service: string,
  ) {}

  publish<T>(def: MessageDefinition<string, T>, data: T, opts?: PublishOptions): Promise<Envelope<T>> {
    if (this.closed)
      return Promise.reject(new BusError('closed', `event bus view of ${this.service} is closed`, def.subject));
    return this.root.publishAs(this.service, def, data, opts);
  }

  subscribe<T>(
    def: MessageDefinition<string, T>,
    handler: MessageHandler<T>,
    opts: SubscribeOptions,
  ): Promise<BusSubscription> {
    return this.track(this.root.subscribe(def, handler, opts));
  }

  request<T, R>(
    def: CommandDefinition<string, T, R>,
    data: T,
    opts?: PublishOptions & { timeoutMs?: number },
  ): Promise<R> {
    if (this.closed)
      return Promise.reject(new BusError('closed', `event bus view of ${this.service} is closed`, def.subject));
    return this.root.requestAs(this.service, def, data, opts);
  }

  reply<T, R>(
    def: CommandDefinition<string, T, R>,
    handler: (data: T, ctx: MessageContext<T>) => Promise<R>,
    opts: { queue: string },
  ): Promise<BusSubscription> {
    return this.track(this.root.reply(def, handler, opts));
  }

  subscribeDeadLetters(subject: string, handler: (dl: DeadLetter) => void | Promise<void>): Promise<BusSubscription> {
    return this.track(this.root.subscribeDeadLetters(subject, handler));
  }

  health(): BusHealth {
    return this.closed
      ? { adapter: 'in-process', status: 'down', detail: `view of ${this.service} closed` }
      : this.root.health();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subs].map((s) => s.stop()));
    this.subs.clear();
  }

  private async track(p: Promise<BusSubscription>): Promise<BusSubscription> {
    if (this.closed) throw new BusError('closed', `event bus view of ${this.service} is closed`);
    const inner = await p;
    const sub: BusSubscription = {
      stop: async () => {
        this.subs.delete(sub);
        await inner.stop();
      },
    };
    this.subs.add(sub);
    return sub;
  }
}
