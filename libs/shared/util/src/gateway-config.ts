import { z } from 'zod';
import { unsetIfEmpty } from './service-config';

const budgetMs = (def: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(50).max(3_600_000).default(def));

/**
 * Variables of the REST gateway's forwarding (issue 13): how long it waits for a route's owner before answering 503
 * problem+json naming the service. Shared with docker-compose.yml and the helm values.
 */
export const gatewayConfigShape = {
  /** Budget of a request forwarded to its owner over the bus, ms (default 30000). */
  GATEWAY_FORWARD_TIMEOUT_MS: budgetMs(30_000),
  /** Budget of a forwarded request whose body went through the staging store (large uploads), ms (default 300000). */
  GATEWAY_UPLOAD_TIMEOUT_MS: budgetMs(300_000),
};
