import { z } from 'zod';

/** The envelope every bus message travels in. `id` doubles as the `Nats-Msg-Id` header for server-side dedup. */
export const EnvelopeSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime(),
  producer: z.string().min(1),
  correlationId: z.string().min(1),
  causationId: z.string().min(1).nullable(),
  data: z.unknown(),
});

/** A typed envelope around payload `T`. Times are ISO-8601 UTC. */
export interface Envelope<T = unknown> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  producer: string;
  correlationId: string;
  causationId: string | null;
  data: T;
}

/** Why a message was dead-lettered (`Strata-Dlq-Reason`). */
export const DeadLetterReasonSchema = z
  .enum(['schema_invalid', 'max_deliveries', 'undecodable', 'handler_rejected'])
  .describe(
    "schema_invalid: the payload failed the consumer's schema (never retried); max_deliveries: the handler failed or timed out on every allowed delivery; undecodable: the body is not a JSON envelope; handler_rejected: reserved.",
  );

/** Reason codes for dead-lettered messages. */
export type DeadLetterReason = z.infer<typeof DeadLetterReasonSchema>;

/** The body of a message on `dlq.<subject>`: the original raw message plus why it was dead-lettered. */
export const DeadLetterSchema = z.object({
  subject: z.string().min(1).describe('Subject the message was published on.'),
  consumer: z.string().min(1).describe('Durable consumer that gave up on it.'),
  reason: DeadLetterReasonSchema,
  detail: z.string().describe('Human-readable cause: the failing fields, the handler error or the timeout.'),
  deliveries: z.number().int().nonnegative().describe('Deliveries made before dead-lettering.'),
  deadLetteredAt: z.iso.datetime().describe('When it was dead-lettered (ISO-8601 UTC).'),
  payload: z.string().describe('Original message body as UTF-8 text (the envelope JSON when decodable).'),
});

/** What lands on `dlq.<subject>`: the original raw message plus why it was dead-lettered. */
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

/**
 * Headers of a dead letter on JetStream (the in-process bus keeps the {@link DeadLetter} body only). The original
 * message's `traceparent` / `tracestate` are copied too.
 */
export const DeadLetterHeaders = {
  /** {@link DeadLetterReason}. */
  Reason: 'Strata-Dlq-Reason',
  /** Durable consumer name. */
  Consumer: 'Strata-Dlq-Consumer',
  /** Deliveries made, decimal. */
  Deliveries: 'Strata-Dlq-Deliveries',
  /** The detail, on one line, at most 512 characters. */
  Detail: 'Strata-Dlq-Detail',
  /** `<stream>:<sequence>` of the original message. */
  StreamSeq: 'Strata-Dlq-Stream-Seq',
} as const;
