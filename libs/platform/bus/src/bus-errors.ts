/** Stable codes of {@link BusError}. */
export type BusErrorCode =
  /** The payload (or reply) failed its contract schema; `issues` names the fields. */
  | 'invalid_payload'
  | 'invalid_reply'
  /** Nobody serves the command (NATS 503 / no in-process responder). */
  | 'no_responders'
  /** The request did not get a reply within `timeoutMs`. */
  | 'timeout'
  /** The responder threw; `message` carries its error message. */
  | 'handler_error'
  /** The command has no reply schema, so it cannot be sent with `request`. */
  | 'not_a_request'
  /** The bus is closing or closed. */
  | 'closed'
  /** The server refused or failed an operation (stream, consumer, publish). */
  | 'unavailable'
  /**
   * The encoded message (or reply) is larger than the server's max payload (`nc.info.max_payload`, 1 MiB by default);
   * `size` names both. Large bodies belong in an artifact store, the message naming them (docs/split-topology.md).
   */
  | 'payload_too_large';

/** Sizes of a {@link BusError} `payload_too_large`, bytes. */
export interface BusPayloadSize {
  /** Encoded size of the message: payload plus headers. */
  bytes: number;
  /** The server's max payload. */
  maxBytes: number;
}

/** One schema problem: dotted path of the field and the reason. */
export interface BusIssue {
  path: string;
  message: string;
}

/**
 * Error raised by the bus adapters. `code` is stable (map it to a problem+json `type`); `issues` lists schema
 * problems field by field for `invalid_payload` / `invalid_reply`.
 */
export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
    readonly subject?: string,
    readonly issues: BusIssue[] = [],
    /** For `payload_too_large`: the message's size and the server's limit. */
    readonly size?: BusPayloadSize,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
}

/** Converts zod issues to {@link BusIssue}s (path joined with dots, `(root)` for the whole value). */
export function toBusIssues(issues: readonly ZodLikeIssue[]): BusIssue[] {
  return issues.map((i) => ({ path: i.path.length ? i.path.map(String).join('.') : '(root)', message: i.message }));
}

/** One line describing schema issues, for dead letters and error messages. */
export function describeIssues(issues: readonly ZodLikeIssue[]): string {
  return toBusIssues(issues)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
}
