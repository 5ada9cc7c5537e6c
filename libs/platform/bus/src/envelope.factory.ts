import { type Envelope, type MessageDefinition, type PublishOptions } from '@strata/platform-contracts';
import { fastUuidv7, isoNow } from './fast-id';

/**
 * The envelope of an already validated payload, as both adapters publish it: id = `opts.id` or a fresh UUIDv7,
 * `occurredAt` = `now` (UTC), correlation id defaulting to the envelope id.
 */
export function newEnvelope<T>(
  def: MessageDefinition<string, T>,
  data: T,
  producer: string,
  opts: PublishOptions | undefined,
  now: number = Date.now(),
): Envelope<T> {
  const id = opts?.id ?? fastUuidv7(now);
  return {
    id,
    type: def.subject,
    version: def.version,
    occurredAt: isoNow(now),
    producer,
    correlationId: opts?.correlationId ?? id,
    causationId: opts?.causationId ?? null,
    data,
  };
}
