/**
 * A process-wide observer of what the buses send: every envelope published or requested, and every dead letter,
 * as the JSON value that goes on the wire. Test suites set one (test/jest.after-env.ts validates each message against
 * the AsyncAPI document); production sets none, so the cost is one global lookup per message.
 */
export type PublishObserver = (subject: string, body: unknown, kind: 'message' | 'dead-letter') => void;

/** Key of the observer on `globalThis`: a setup file can set it without importing the bus. */
export const PUBLISH_OBSERVER_KEY = Symbol.for('strata.bus.publish-observer');

/** Tells the observer, if any, about a message about to be sent. */
export function notifyPublished(subject: string, body: unknown, kind: 'message' | 'dead-letter'): void {
  const observer = (globalThis as { [PUBLISH_OBSERVER_KEY]?: PublishObserver })[PUBLISH_OBSERVER_KEY];
  if (observer) observer(subject, body, kind);
}
