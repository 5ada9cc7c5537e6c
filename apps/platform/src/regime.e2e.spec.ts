/**
 * The regime service in one process (issue 16): in-process bus, embedded DuckDB documents. The same scenario runs
 * against NATS JetStream + FerretDB in regime.int-spec.ts.
 */
import { InProcessEventBus } from '@strata/platform-bus';
import { regimeScenario } from './testing/regime-scenario';

jest.setTimeout(180_000);

describe('regime service (platform, embedded)', () => {
  regimeScenario({ bus: async () => new InProcessEventBus({ service: 'platform' }), env: () => ({}) });
});
