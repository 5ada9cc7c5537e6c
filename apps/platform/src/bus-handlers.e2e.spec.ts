/**
 * Every production event and command handler is a decorated controller method bound by the bus transport: the
 * handlers are read from the controllers each service's Nest context registers (the `@OnEvent` / `@OnCommand`
 * extras), compared message by message with the catalog registry, and with what each service definition says it owns.
 * A handler written another way (a provider calling `bus.subscribe` / `bus.reply`) is caught by the source scan.
 */
import type { INestMicroservice, Type } from '@nestjs/common';
import { backtestsService } from '@strata/backtests-feature';
import { ALL_MESSAGES } from '@strata/catalog-contracts';
import { sentinelService } from '@strata/dataquality-feature';
import { featuresService } from '@strata/features-feature';
import { ingestionService } from '@strata/marketdata-feature';
import { InProcessEventBus } from '@strata/platform-bus';
import { durableConsumerName } from '@strata/platform-contracts';
import { createLogger, StaticApiKeyResolver } from '@strata/platform-http';
import { busHandlersOf, resolveBusHandlerOptions, type AnyServiceDefinition } from '@strata/platform-messaging';
import { regimeService } from '@strata/regime-feature';
import { signalsService } from '@strata/signals-feature';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ConfigSchema } from './config';
import { startPlatform, type Platform } from './platform';

/** Messages with a consumer in production, and who handles them (`<service> <Controller>.<method>`). */
const CONSUMED: Record<string, string[]> = {
  'marketdata.cmd.ingest.v1': ['ingestion IngestCommandResponder.ingestBars'],
  'marketdata.evt.bars.ingested.v1': [
    'features BarsIngestedHandler.onBarsIngested',
    'sentinel SentinelEventsHandler.onBarsIngested',
    'regime RegimeEventsHandler.onBarsIngested',
  ],
  'marketdata.evt.bars.corrected.v1': ['sentinel SentinelEventsHandler.onBarsCorrected'],
  'marketdata.evt.corporate-actions.recorded.v1': ['features BarsIngestedHandler.onCorporateActions'],
  'features.evt.set.refreshed.v1': ['signals FeatureSetRefreshedHandler.onRefreshed'],
  'backtest.cmd.run.v1': ['backtests BacktestWorkerController.run'],
  'backtest.cmd.forecast.v1': ['backtests BacktestForecastJobController.run'],
  'dataquality.evt.anomaly.detected.v1': ['sentinel WebhookFanOutHandler.onAnomalyDetected'],
  'signals.cmd.train.v1': ['signals SignalsTrainController.train'],
  'regime.cmd.refit.v1': ['regime RegimeEventsHandler.onRefit'],
  'regime.cmd.read.history.v1': ['regime RegimeEventsHandler.readHistory'],
};

const DEFINITIONS: AnyServiceDefinition[] = [
  ingestionService,
  featuresService,
  sentinelService,
  backtestsService,
  signalsService,
  regimeService,
];

/** The controller classes registered in a Nest context (every module of its container). */
function controllersOf(ctx: INestMicroservice): Type<unknown>[] {
  const container = (
    ctx as unknown as {
      container: { getModules(): Map<string, { controllers: Map<unknown, { metatype: Type<unknown> | null }> }> };
    }
  ).container;
  return [...container.getModules().values()].flatMap((m) =>
    [...m.controllers.values()].map((w) => w.metatype).filter((t): t is Type<unknown> => t !== null),
  );
}

/** Production TypeScript files (no specs, no test helpers) under `dir`. */
function productionSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'testing') continue;
    if (statSync(p).isDirectory()) out.push(...productionSources(p));
    else if (p.endsWith('.ts') && !/\.(spec|int-spec|e2e\.spec)\.ts$/.test(p)) out.push(p);
  }
  return out;
}

describe('bus handlers: decorated controller methods bound by the transport', () => {
  let platform: Platform;
  let bus: InProcessEventBus;
  let dataDir: string;
  const found: Array<{ subject: string; service: string; handler: string; consumer: string }> = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'strata-handlers-'));
    bus = new InProcessEventBus({ service: 'platform' });
    platform = await startPlatform({
      config: ConfigSchema.parse({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      logger: createLogger({ service: 'e2e', level: 'silent' }),
      bus,
      apiKeys: new StaticApiKeyResolver([]),
    });
    for (const [service, ctx] of Object.entries(platform.services)) {
      for (const controller of controllersOf(ctx)) {
        for (const h of busHandlersOf(controller)) {
          const options = resolveBusHandlerOptions(h, () => ctx.get(controller, { strict: false }));
          found.push({
            subject: h.def.subject,
            service,
            handler: `${service} ${controller.name}.${h.method}`,
            consumer: options.consumer ?? durableConsumerName(service, h.def),
          });
        }
      }
    }
  });

  afterAll(async () => {
    await platform?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists, for every message of the registry, the decorated handlers the services register', () => {
    for (const subject of Object.keys(CONSUMED)) expect(ALL_MESSAGES.map((m) => m.subject)).toContain(subject);
    const got = Object.fromEntries(
      ALL_MESSAGES.map((m) => [
        m.subject,
        found
          .filter((f) => f.subject === m.subject)
          .map((f) => f.handler)
          .sort(),
      ]),
    );
    const want = Object.fromEntries(ALL_MESSAGES.map((m) => [m.subject, [...(CONSUMED[m.subject] ?? [])].sort()]));
    expect(got).toEqual(want);
  });

  it('each service definition declares exactly the consumers its controllers open', () => {
    for (const def of DEFINITIONS) {
      expect({
        service: def.name,
        consumers: found
          .filter((f) => f.service === def.name)
          .map((f) => f.consumer)
          .sort(),
      }).toEqual({ service: def.name, consumers: [...def.owns.consumers].sort() });
    }
  });

  it('no production code subscribes or replies on the bus outside the transport', () => {
    const root = resolve(__dirname, '../../..');
    const offenders = [...productionSources(join(root, 'libs')), ...productionSources(join(root, 'apps'))]
      .filter((f) => !f.startsWith(join(root, 'libs/platform/bus/')))
      // HTTP forwarding is transport too: raw NATS request/reply of HTTP requests between gateway and route owners.
      .filter((f) => f !== join(root, 'libs/platform/service-kit/src/http-over-bus.ts'))
      .filter((f) => /\.(subscribe|reply|subscribeDeadLetters)\s*(<[^>]*>)?\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
