/**
 * Validates what the buses send against the AsyncAPI document, as an outside client generated from it would: every
 * envelope against its message's payload schema, every dead letter against the DeadLetter message. Subjects the
 * document does not list (test-only contracts) are counted, not validated.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';

/** One message that does not match the document. */
export interface AsyncApiViolation {
  subject: string;
  schema: string;
  errors: string[];
}

/** A recorder over one AsyncAPI document. */
export interface AsyncApiRecorder {
  /** Validates one sent message (the bus's publish observer signature). */
  observe(subject: string, body: unknown, kind: 'message' | 'dead-letter'): void;
  /** Violations since the last call (and forgets them). */
  take(): AsyncApiViolation[];
  /** Messages validated and skipped (subject not in the document) so far. */
  readonly counts: { validated: number; undocumented: number };
}

/** A recorder over `doc` (the parsed AsyncAPI JSON). */
export function createAsyncApiRecorder(doc: Record<string, unknown>): AsyncApiRecorder {
  // strict: false, since the document carries AsyncAPI keywords around the schemas; formats are also patterns.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema(doc, 'asyncapi');
  const messages = ((doc.components as Record<string, unknown>)?.messages ?? {}) as Record<string, unknown>;
  const validators = new Map<string, ValidateFunction | undefined>();
  const validatorFor = (key: string): ValidateFunction | undefined => {
    if (!validators.has(key))
      validators.set(key, key in messages ? ajv.getSchema(`asyncapi#/components/messages/${key}/payload`) : undefined);
    return validators.get(key);
  };
  let violations: AsyncApiViolation[] = [];
  const counts = { validated: 0, undocumented: 0 };
  return {
    counts,
    observe(subject, body, kind) {
      const key = kind === 'dead-letter' ? 'DeadLetter' : subject.replace(/\./g, '_');
      const validate = validatorFor(key);
      if (!validate) {
        counts.undocumented++;
        return;
      }
      counts.validated++;
      // What goes on the wire: the JSON text of the value.
      const wire: unknown = JSON.parse(JSON.stringify(body));
      if (!validate(wire))
        violations.push({
          subject,
          schema: `#/components/messages/${key}/payload`,
          errors: (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`),
        });
    },
    take() {
      const out = violations;
      violations = [];
      return out;
    },
  };
}

/** Readable summary of violations for a failing test. */
export function describeViolations(v: readonly AsyncApiViolation[]): string {
  return v.map((x) => `${x.subject} does not match ${x.schema}: ${x.errors.join('; ')}`).join('\n');
}
