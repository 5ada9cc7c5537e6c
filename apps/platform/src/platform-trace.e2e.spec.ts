/**
 * One trace from the HTTP request through the bus to the service handler and on to an event subscriber:
 * gateway request span → ingest command (traceparent in the message headers) → ingestion handler span →
 * bars.ingested event → subscriber span, all with the same trace id (OpenTelemetry on, in-memory exporter).
 */
import { tracing } from '@opentelemetry/sdk-node';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { startTelemetry, type TelemetryHandle } from '@strata/platform-telemetry';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

describe('platform tracing', () => {
  const exporter = new tracing.InMemorySpanExporter();
  let telemetry: TelemetryHandle;
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  let handled = 0;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'strata-test', spanExporter: exporter, instrumentHttp: false });
    dataDir = mkdtempSync(join(tmpdir(), 'strata-trace-'));
    bus = new InProcessEventBus({ service: 'platform' });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir }),
      logger: createLogger({ service: 'trace', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: 'operator-key-0001' }]),
    });
    await bus.subscribe(BarsIngestedV1, () => void handled++, { consumer: 'trace__bars_ingested', deliverFrom: 'new' });
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    await telemetry?.shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shares one trace id across gateway, bus and handlers, continuing the caller traceparent', async () => {
    expect(telemetry.enabled).toBe(true);
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await platform.gateway.inject({
      method: 'POST',
      url: '/market-data/ingest',
      headers: { 'x-api-key': 'operator-key-0001', traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
      payload: {
        symbol: 'TRC',
        timeframe: '1h',
        csv: 'timestamp,open,high,low,close,volume\n2024-01-02T14:00:00Z,1,2,0.5,1.5,10\n',
      },
    });
    expect(r.statusCode).toBe(201);
    const end = Date.now() + 2000;
    const find = (pred: (s: tracing.ReadableSpan) => boolean) => exporter.getFinishedSpans().find(pred);
    while ((!find((s) => s.name.startsWith(BarsIngestedV1.subject)) || handled === 0) && Date.now() < end)
      await new Promise((res) => setTimeout(res, 10));

    const http = find((s) => s.name === 'POST /market-data/ingest');
    const command = find((s) => s.name === 'marketdata.cmd.ingest.v1 process');
    const event = find((s) => s.name === `${BarsIngestedV1.subject} process`);
    expect(http).toBeDefined();
    expect(command).toBeDefined();
    expect(event).toBeDefined();
    for (const s of [http!, command!, event!]) expect(s.spanContext().traceId).toBe(callerTrace);
    // Parent chain: HTTP span → command handler span → event handler span.
    expect(command!.parentSpanContext?.spanId).toBe(http!.spanContext().spanId);
    expect(event!.parentSpanContext?.spanId).toBe(command!.spanContext().spanId);
  });
});
