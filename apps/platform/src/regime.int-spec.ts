/**
 * Issue 16, "Done when", on real servers: the platform on NATS JetStream (unique stream prefix, durable consumers) and
 * FerretDB (unique database). `/market-data/regime` becomes fresh through the bar events after each ingest; served
 * history is never rewritten; the schedule and the operator refit into new model versions; label changes are
 * published; a redelivered event changes nothing; a regime_filter backtest reads the history over the bus. The regime
 * cache is in MongoDB (its collections checked at cleanup).
 */
import { intServers } from './testing/int-servers';
import { regimeScenario } from './testing/regime-scenario';

const servers = intServers('RG', ['regime_records', 'regime_models', 'regime_series']);

(servers.available ? describe : describe.skip)('regime service on NATS JetStream + FerretDB', () => {
  jest.setTimeout(300_000);
  regimeScenario(servers);
});
