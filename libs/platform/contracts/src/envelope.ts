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

/** Reason codes for dead-lettered messages. */
export type DeadLetterReason = 'schema_invalid' | 'max_deliveries' | 'undecodable' | 'handler_rejected';

/** What lands on `dlq.<subject>`: the original raw message plus why it was dead-lettered. */
export interface DeadLetter {
  subject: string;
  consumer: string;
  reason: DeadLetterReason;
  detail: string;
  deliveries: number;
  deadLetteredAt: string;
  /** Original message body as UTF-8 text (the envelope JSON when decodable). */
  payload: string;
}
