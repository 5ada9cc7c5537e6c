/**
 * The data-quality sentinel in one process (issue 6): in-process bus, embedded DuckDB documents, a real local HTTP
 * webhook receiver. The same scenario runs against NATS JetStream + FerretDB in sentinel.int-spec.ts.
 */
import { InProcessEventBus } from '@strata/platform-bus';
import { sentinelScenario } from './testing/sentinel-scenario';

jest.setTimeout(180_000);

describe('data-quality sentinel (platform, embedded)', () => {
  sentinelScenario({ bus: async () => new InProcessEventBus({ service: 'platform' }), env: () => ({}) });
});
