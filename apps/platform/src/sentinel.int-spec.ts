/**
 * Issue 6, "Done when", on real servers: the platform on NATS JetStream (unique stream prefix) and FerretDB (unique
 * database). A real SPY slice with planted bad ticks is ingested through REST; DataQualityEvents are stored in
 * MongoDB; webhook deliveries reach a real local HTTP receiver that verifies the signature itself and fails the
 * first two attempts of each delivery; the summary reflects the events; ack / resolve obey roles.
 */
import { intServers } from './testing/int-servers';
import { sentinelScenario } from './testing/sentinel-scenario';

const servers = intServers('DQ', ['dataquality_events', 'webhook_subscriptions', 'webhook_deliveries']);

(servers.available ? describe : describe.skip)('data-quality sentinel on NATS JetStream + FerretDB', () => {
  jest.setTimeout(300_000);
  sentinelScenario(servers);
});
