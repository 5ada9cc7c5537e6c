import { trace } from '@opentelemetry/api';
import { startTelemetry } from './telemetry';

describe('startTelemetry', () => {
  it('is off without an endpoint or exporter: nothing starts, spans are no-ops', async () => {
    const t = startTelemetry({ serviceName: 'x' });
    expect(t.enabled).toBe(false);
    expect(t.describe).toBe('off');
    const span = trace.getTracer('t').startSpan('noop');
    expect(span.isRecording()).toBe(false);
    span.end();
    await t.shutdown();
  });

  it('targets <endpoint>/v1/traces when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const t = startTelemetry({ serviceName: 'x', otlpEndpoint: 'http://127.0.0.1:1/', instrumentHttp: false });
    expect(t.enabled).toBe(true);
    expect(t.describe).toBe('otlp http://127.0.0.1:1/v1/traces');
    expect(trace.getTracer('t').startSpan('real').isRecording()).toBe(true);
    await t.shutdown();
    await t.shutdown(); // idempotent
  });
});
