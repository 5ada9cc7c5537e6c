import { createGatewayApp } from '@strata/feature-gateway';
import { InMemoryIngestionLog } from '@strata/feature-ingestion';
import { apiKeysFromConfig, createLogger, parseApiKeys } from '@strata/http';
import { createEventBus } from '@strata/infra-bus';
import type { TelemetryHandle } from '@strata/infra-telemetry';
import { join, resolve } from 'node:path';
import type { Config } from './config';
import { onShutdownSignal } from './shutdown';

/** Starts the standalone gateway: REST on `PORT`, commands and events over NATS when `NATS_URL` is set. */
export async function runGateway(config: Config, telemetry: TelemetryHandle): Promise<void> {
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const dataDir = resolve(config.STRATA_DATA_DIR);
  const bus = await createEventBus({ natsUrl: config.NATS_URL, dataDir, service: 'gateway' });
  const apiKeys = apiKeysFromConfig(parseApiKeys(config.STRATA_API_KEYS), dataDir, (msg, created) => (created ? process.stdout.write(`${msg}\n`) : logger.info(msg)));
  const app = await createGatewayApp({ bus, apiKeys, logger, ingestionLog: new InMemoryIngestionLog(), uploadDir: join(dataDir, 'uploads') });
  await app.listen({ port: config.PORT, host: '0.0.0.0' });
  logger.info({ port: config.PORT, bus: bus.health(), telemetry: telemetry.describe }, 'gateway listening');
  onShutdownSignal(logger, async () => {
    await app.close();
    await bus.close();
    await telemetry.shutdown();
  });
}
