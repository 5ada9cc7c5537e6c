import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK, resources, tracing } from '@opentelemetry/sdk-node';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` resource attribute, e.g. `strata-gateway`. */
  serviceName: string;
  /**
   * OTLP/HTTP base endpoint (the value of `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://localhost:4318`); spans go to
   * `<endpoint>/v1/traces` in batches. Unset (and no `spanExporter`) means tracing is off.
   */
  otlpEndpoint?: string;
  /** Export to this exporter instead, synchronously per span (tests: an `InMemorySpanExporter`). */
  spanExporter?: tracing.SpanExporter;
  /** Auto-instrument `node:http` server and client (default true). Needs this call to run before `http` is loaded. */
  instrumentHttp?: boolean;
}

/** A started (or disabled) telemetry pipeline. */
export interface TelemetryHandle {
  /** True when an SDK was started and spans are recorded. */
  readonly enabled: boolean;
  /** Human-readable state for logs: `off`, `otlp <url>` or `custom exporter`. */
  readonly describe: string;
  /** Flushes pending spans and stops the SDK; safe to call more than once. */
  shutdown(): Promise<void>;
}

const OFF: TelemetryHandle = { enabled: false, describe: 'off', shutdown: async () => undefined };

/**
 * Starts OpenTelemetry tracing for a process: W3C trace-context propagation, AsyncLocalStorage context, HTTP
 * auto-instrumentation, and an exporter: OTLP/HTTP when `otlpEndpoint` is set, the given `spanExporter`, or none
 * (then nothing is started and every span is a no-op). Call it first in `main.ts`, before NestJS, Fastify or
 * `node:http` are loaded, so the instrumentation can patch them; then load the app module.
 */
export function startTelemetry(opts: TelemetryOptions): TelemetryHandle {
  const endpoint = opts.otlpEndpoint?.trim();
  if (!endpoint && !opts.spanExporter) return OFF;
  const url = endpoint ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : undefined;
  const processor = opts.spanExporter
    ? new tracing.SimpleSpanProcessor(opts.spanExporter)
    : new tracing.BatchSpanProcessor(new OTLPTraceExporter({ url }));
  const sdk = new NodeSDK({
    resource: resources.resourceFromAttributes({ 'service.name': opts.serviceName }),
    spanProcessors: [processor],
    instrumentations: opts.instrumentHttp === false ? [] : [new HttpInstrumentation()],
  });
  sdk.start();
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    describe: opts.spanExporter ? 'custom exporter' : `otlp ${url}`,
    shutdown: () => (stopped ??= sdk.shutdown().catch(() => undefined)),
  };
}
