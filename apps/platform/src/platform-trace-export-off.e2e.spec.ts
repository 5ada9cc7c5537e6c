/**
 * W3C trace context with tracing export off (no OpenTelemetry SDK, as with OTEL_EXPORTER_OTLP_ENDPOINT unset): an
 * HTTP request's traceparent reaches every message it causes: the ingest command, the bars.ingested event the
 * ingestion handler publishes, and the features.evt.set.refreshed event the features handler publishes in turn. A
 * request without traceparent still yields messages that carry one (started by the producer).
 */
import { trace } from '@opentelemetry/api';
import { FeatureSetRefreshedV1 } from '@strata/features-contracts';
import { BarsIngestedV1 } from '@strata/marketdata-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { InProcessEventBus } from '@strata/platform-bus';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';
import { ingestTwoBars } from './testing/trace-ingest';

jest.setTimeout(60_000);

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;
const traceId = (tp: string | undefined): string | undefined => (tp ? TRACEPARENT.exec(tp)?.[1] : undefined);

describe('platform: trace context on every message with tracing export off', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  const seen: { subject: string; symbol: string; traceparent: string | undefined }[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-trace-off-'));
    bus = new InProcessEventBus({ service: 'platform' });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir }),
      logger: createLogger({ service: 'trace-off', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver([{ role: 'operator', key: 'operator-key-0001' }]),
    });
    await bus.subscribe(
      BarsIngestedV1,
      (d, ctx) => void seen.push({ subject: ctx.subject, symbol: d.symbol, traceparent: ctx.headers.traceparent }),
      { consumer: 'traceoff__bars_ingested', deliverFrom: 'new' },
    );
    await bus.subscribe(
      FeatureSetRefreshedV1,
      (d, ctx) => void seen.push({ subject: ctx.subject, symbol: d.symbol, traceparent: ctx.headers.traceparent }),
      { consumer: 'traceoff__features_refreshed', deliverFrom: 'new' },
    );
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ingest = (symbol: string, headers: Record<string, string> = {}) =>
    ingestTwoBars((r) => platform.gateway.inject(r), symbol, headers);

  const both = async (symbol: string) => {
    const end = Date.now() + 20_000;
    const of = () => seen.filter((s) => s.symbol === symbol);
    while (new Set(of().map((s) => s.subject)).size < 2 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    return of();
  };

  it('finds the caller trace id on the events an HTTP request caused', async () => {
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false); // no SDK: export off
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await ingest('TRCOFF', { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` });
    expect(r.statusCode).toBe(201);
    const events = await both('TRCOFF');
    expect([...new Set(events.map((e) => e.subject))].sort()).toEqual(
      [FeatureSetRefreshedV1.subject, BarsIngestedV1.subject].sort(),
    );
    for (const e of events)
      expect({ subject: e.subject, traceId: traceId(e.traceparent) }).toEqual({
        subject: e.subject,
        traceId: callerTrace,
      });
  });

  it('starts a trace at the producer when the request has none: every event still carries a traceparent', async () => {
    const r = await ingest('TRCNEW');
    expect(r.statusCode).toBe(201);
    const events = await both('TRCNEW');
    expect(new Set(events.map((e) => e.subject)).size).toBe(2);
    for (const e of events) expect(e.traceparent).toMatch(TRACEPARENT);
    // The features event continues the trace of the bars event its handler consumed.
    expect(new Set(events.map((e) => traceId(e.traceparent))).size).toBe(1);
  });
});
