/**
 * Every message a bus sends during the test suite is validated against docs/asyncapi.json (the document outside
 * clients use; test/asyncapi-committed.spec.ts keeps it equal to the contracts): a message that does not match fails
 * the test that was running (or, if sent after the last test, the file). STRATA_ASYNCAPI_RECORDER=0 turns it off.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAsyncApiRecorder, describeViolations, type AsyncApiRecorder } from './asyncapi-recorder';

if (process.env.STRATA_ASYNCAPI_RECORDER !== '0') {
  let recorder: AsyncApiRecorder | undefined;
  // Symbol.for('strata.bus.publish-observer') is PUBLISH_OBSERVER_KEY of @strata/platform-bus, set without importing it.
  (globalThis as Record<symbol, unknown>)[Symbol.for('strata.bus.publish-observer')] = (
    subject: string,
    body: unknown,
    kind: 'message' | 'dead-letter',
  ) => {
    recorder ??= createAsyncApiRecorder(
      JSON.parse(readFileSync(join(__dirname, '..', 'docs', 'asyncapi.json'), 'utf8')) as Record<string, unknown>,
    );
    recorder.observe(subject, body, kind);
  };
  const check = (): void => {
    const v = recorder?.take() ?? [];
    if (v.length) throw new Error(`messages sent that do not match docs/asyncapi.json:\n${describeViolations(v)}`);
  };
  afterEach(check);
  afterAll(check);
}
