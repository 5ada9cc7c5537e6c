import { deadLetterSubject, type DeadLetter } from '@strata/platform-contracts';

/** The logger a bus writes to (pino fits). */
export interface BusLogger {
  warn(obj: object, msg: string): void;
}

/**
 * Writes the one `warn` line of a dead letter: `dead letter <subject> (<consumer>): <reason>: <detail>`, with the
 * DLQ subject, consumer, reason, detail and delivery count as fields (and, on JetStream, the original stream
 * sequence), so an operator sees every poisoned or exhausted message without reading the DLQ stream.
 */
export function logDeadLetter(
  logger: BusLogger | undefined,
  dl: DeadLetter,
  origin?: { stream: string; seq: number },
): void {
  logger?.warn(
    {
      dlq: deadLetterSubject(dl.subject),
      subject: dl.subject,
      consumer: dl.consumer,
      reason: dl.reason,
      detail: dl.detail,
      deliveries: dl.deliveries,
      ...(origin ? { stream: origin.stream, streamSeq: origin.seq } : {}),
    },
    `dead letter ${dl.subject} (${dl.consumer}): ${dl.reason}: ${dl.detail}`,
  );
}
