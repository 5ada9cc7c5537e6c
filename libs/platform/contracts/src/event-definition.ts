import { type z } from 'zod';

/**
 * Subject grammar: `<domain>.evt.<entity>.<past-tense-verb>.v<N>` (facts) or `<domain>.cmd.[<entity>.]<verb>.v<N>`
 * (requests, e.g. `marketdata.cmd.ingest.v1`, `marketdata.cmd.read.bars.v1`).
 */
export const SUBJECT_PATTERN =
  /^[a-z][a-z0-9-]*\.(evt\.[a-z][a-z0-9-]*\.[a-z][a-z0-9-]*|cmd\.[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)?)\.v[1-9][0-9]*$/;

/** A fact or a request on the bus: subject literal, version and payload schema travel together. */
export interface MessageDefinition<S extends string = string, T = unknown> {
  readonly kind: 'event' | 'command';
  /** Full subject, e.g. `marketdata.evt.bars.ingested.v1`. */
  readonly subject: S;
  /** Schema version; equals the `.v<N>` suffix of the subject. */
  readonly version: number;
  /** First subject token; one JetStream stream per domain. */
  readonly domain: string;
  /** Subject without its `.v<N>` suffix, used in durable consumer names. */
  readonly baseSubject: string;
  /** Payload schema, checked on publish and on consume. */
  readonly schema: z.ZodType<T>;
  /** One line for humans and for the AsyncAPI document. */
  readonly description: string;
}

/** An event definition: an immutable fact, named in the past tense. */
export interface EventDefinition<S extends string = string, T = unknown> extends MessageDefinition<S, T> {
  readonly kind: 'event';
}

/** A command definition; `reply` is present when the command answers (request/reply). */
export interface CommandDefinition<S extends string = string, T = unknown, R = unknown> extends MessageDefinition<
  S,
  T
> {
  readonly kind: 'command';
  readonly reply?: z.ZodType<R>;
  /**
   * `binary`: a read served by `serveBinary` (`@strata/platform-bus`): the request body is the bare payload JSON (no
   * envelope), the reply body is bytes (Arrow IPC, JSON) and the `reply` schema describes its metadata, sent in the
   * `Strata-Reply-Meta` header. Unset: the envelope request/reply of the EventBus.
   */
  readonly transport?: 'binary';
}

/** Payload type carried by a definition. */
export type PayloadOf<D> = D extends MessageDefinition<string, infer T> ? T : never;
/** Reply type of a command definition. */
export type ReplyOf<D> = D extends CommandDefinition<string, unknown, infer R> ? R : never;

function parseSubject(
  subject: string,
  kind: 'event' | 'command',
): { domain: string; version: number; baseSubject: string } {
  if (!SUBJECT_PATTERN.test(subject))
    throw new Error(
      `invalid subject "${subject}": expected <domain>.evt.<entity>.<verb>.v<N> or <domain>.cmd.[<entity>.]<verb>.v<N>`,
    );
  const parts = subject.split('.');
  if ((parts[1] === 'evt') !== (kind === 'event')) throw new Error(`subject "${subject}" does not match kind ${kind}`);
  const version = Number(parts[parts.length - 1].slice(1));
  return { domain: parts[0], version, baseSubject: parts.slice(0, -1).join('.') };
}

/** Defines an event; throws at module load when the subject breaks the naming rules. */
export function defineEvent<S extends string, T>(spec: {
  subject: S;
  schema: z.ZodType<T>;
  description: string;
}): EventDefinition<S, T> {
  return Object.freeze({ kind: 'event' as const, ...parseSubject(spec.subject, 'event'), ...spec });
}

/** Defines a command, optionally with a reply schema. */
export function defineCommand<S extends string, T, R = void>(spec: {
  subject: S;
  schema: z.ZodType<T>;
  reply?: z.ZodType<R>;
  description: string;
  transport?: 'binary';
}): CommandDefinition<S, T, R> {
  return Object.freeze({ kind: 'command' as const, ...parseSubject(spec.subject, 'command'), ...spec });
}

/** Durable consumer name: `<service>__<subject-without-version>__v<N>` with dots replaced (NATS forbids dots in names). */
export function durableConsumerName(service: string, def: MessageDefinition): string {
  return `${service}__${def.baseSubject.replace(/\./g, '_')}__v${def.version}`;
}

/** Dead-letter subject of a message subject. */
export function deadLetterSubject(subject: string): string {
  return `dlq.${subject}`;
}
