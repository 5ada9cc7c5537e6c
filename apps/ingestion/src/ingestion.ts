import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { busHealthIndicator, createHealthApp } from '@strata/feature-gateway';
import { IngestionModule, InMemoryIngestionLog } from '@strata/feature-ingestion';
import { createLogger, PinoNestLogger } from '@strata/http';
import { BusModule, BusTransport, createEventBus } from '@strata/infra-bus';
import type { TelemetryHandle } from '@strata/infra-telemetry';
import { join, resolve } from 'node:path';
import type { Config } from './config';
import { onShutdownSignal } from './shutdown';

/**
 * Starts the standalone ingestion service: serves `marketdata.cmd.ingest.v1` over the bus (NATS JetStream when
 * `NATS_URL` is set; replicas share the work) and `GET /health` on `PORT` for probes.
 */
export async function runIngestion(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'ingestion', level: config.LOG_LEVEL });
  const dataDir = resolve(config.STRATA_DATA_DIR);
  const bus = await createEventBus({ natsUrl: config.NATS_URL, dataDir, service: 'ingestion' });

  @Module({
    imports: [
      BusModule.forRoot(bus, { closeOnShutdown: false }),
      IngestionModule.register({ ingestionLog: new InMemoryIngestionLog(), allowedFileRoots: [join(dataDir, 'uploads'), resolve('data')] }),
    ],
  })
  class IngestionServiceModule {}

  const service = await NestFactory.createMicroservice(IngestionServiceModule, {
    strategy: new BusTransport(bus, { service: 'ingestion' }),
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
  });
  await service.listen();
  const health = await createHealthApp({ service: 'ingestion', logger, indicators: [busHealthIndicator(bus)] });
  await health.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info({ port: config.PORT, bus: bus.health(), telemetry: telemetry.describe }, 'ingestion service running');
  onShutdownSignal(logger, async () => {
    await health.close();
    await service.close();
    await bus.close();
    await telemetry.shutdown();
  });
}
