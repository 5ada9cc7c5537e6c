import { busErrorProblem, isBusError } from './bus-problem';
import { toProblem } from './problem-json.filter';

/** A bus error as `@strata/platform-bus` raises it (this kit matches it structurally). */
function busError(code: string, message: string, size?: { bytes: number; maxBytes: number }) {
  return Object.assign(new Error(message), {
    name: 'BusError' as const,
    code,
    subject: 'marketdata.cmd.ingest.v1',
    size,
  });
}

describe('busErrorProblem', () => {
  it('answers 413 naming both sizes for payload_too_large', () => {
    const e = busError('payload_too_large', 'marketdata.cmd.ingest.v1 message is 2000000 bytes, over 1048576', {
      bytes: 2_000_000,
      maxBytes: 1_048_576,
    });
    expect(isBusError(e)).toBe(true);
    const p = busErrorProblem(e).problem;
    expect(p).toMatchObject({ status: 413, bytes: 2_000_000, limitBytes: 1_048_576 });
    expect(p.detail).toContain('1048576');
  });

  it.each(['no_responders', 'timeout', 'unavailable', 'closed'])('answers 503 naming the service for %s', (code) => {
    const p = busErrorProblem(busError(code, 'x'), 'ingestion').problem;
    expect(p).toMatchObject({ status: 503, service: 'ingestion' });
    expect(p.detail).toContain('the ingestion service is not available');
  });

  it.each(['handler_error', 'invalid_reply', 'invalid_payload'])('answers 500 naming the cause for %s', (code) => {
    const p = busErrorProblem(busError(code, 'disk full')).problem;
    expect(p).toMatchObject({ status: 500, service: 'marketdata' });
    expect(p.detail).toContain(`${code}: disk full`);
  });

  it('is applied by the problem filter to a bus error nobody handled', () => {
    expect(toProblem(busError('payload_too_large', 'too big')).problem.status).toBe(413);
    expect(toProblem(busError('no_responders', 'nobody')).problem.status).toBe(503);
    expect(toProblem(busError('handler_error', 'boom')).problem.status).toBe(500);
    expect(isBusError(new Error('plain'))).toBe(false);
  });
});
