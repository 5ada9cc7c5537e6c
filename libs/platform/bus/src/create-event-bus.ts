import { type EventBus } from '@strata/platform-contracts';
import type { StreamLimitsConfig } from '@strata/shared-util';
import type { BusLogger } from './dead-letter-log';
import { InProcessEventBus } from './in-process-event-bus';
import { JetStreamEventBus } from './jetstream-event-bus';

/** Options of {@link createEventBus}; the names follow the environment (`NATS_URL`, `STRATA_DATA_DIR`). */
export interface CreateEventBusOptions {
  /** When set, the JetStream adapter is used against this server. */
  natsUrl?: string;
  /** In-process adapter only: journal and consumer offsets under `<dataDir>/bus`. */
  dataDir?: string;
  /** Producer name in envelopes (and NATS connection name). */
  service: string;
  /** JetStream only: stream name prefix (default ''). */
  streamPrefix?: string;
  /** JetStream only: domains whose streams are ensured at start (default: none, each ensured on first use). */
  domains?: readonly string[];
  /** JetStream only: per-stream retention limits (`STRATA_STREAM_*`, see `streamLimitsFromEnv`). */
  streamLimits?: StreamLimitsConfig;
  /** Dead letters are logged here (one `warn` line each, with the reason). */
  logger?: BusLogger;
}

/**
 * Picks the adapter: JetStream when `natsUrl` is set (connects and ensures streams before resolving), else the
 * in-process bus (with a journal when `dataDir` is set).
 */
export async function createEventBus(opts: CreateEventBusOptions): Promise<EventBus> {
  if (opts.natsUrl) {
    return JetStreamEventBus.connect({
      servers: opts.natsUrl,
      service: opts.service,
      streamPrefix: opts.streamPrefix,
      domains: opts.domains,
      streamLimits: opts.streamLimits,
      logger: opts.logger,
    });
  }
  return new InProcessEventBus({ service: opts.service, dataDir: opts.dataDir, logger: opts.logger });
}
