/** The deployable services that own REST routes in a split deployment (`apps/<name>`). */
export const ROUTE_OWNERS = ['marketdata', 'sentinel', 'signals', 'backtests', 'regime'] as const;

/** A deployable service that owns REST routes. */
export type RouteOwner = (typeof ROUTE_OWNERS)[number];

/** One REST path prefix and the service that answers it: `prefix` itself and every path below it. */
export interface GatewayRoute {
  /** Path prefix with a leading slash and no trailing one (`/market-data`). */
  readonly prefix: string;
  /** The deployable service whose HTTP app serves these paths (reached on `rpc.<service>.cmd.http.v1`). */
  readonly service: RouteOwner;
}

/**
 * Route ownership of the split deployment, declared once (the longest matching prefix owns a path:
 * `/market-data/regime` is the regime service's, the rest of `/market-data` the marketdata service's): the gateway builds its forwarding table from it and
 * answers only its own routes (`/admin/api-keys`, `/asyncapi.json`, `/openapi.json`, `/docs`, `/health`) itself.
 * Every controller path of the capabilities' `api` modules falls under exactly one prefix (apps/platform's
 * `gateway-routes.e2e.spec.ts` checks it against the all-in-one's OpenAPI document).
 */
export const GATEWAY_ROUTES: readonly GatewayRoute[] = [
  // Bars, symbols, ingest, ingestions, corporate actions, corrections: the DuckDB file's owner.
  { prefix: '/market-data', service: 'marketdata' },
  { prefix: '/market-data/regime', service: 'regime' },
  { prefix: '/features', service: 'marketdata' },
  { prefix: '/data-quality', service: 'sentinel' },
  { prefix: '/dashboard', service: 'sentinel' },
  { prefix: '/webhooks', service: 'sentinel' },
  { prefix: '/signals', service: 'signals' },
  { prefix: '/strategies', service: 'backtests' },
  { prefix: '/backtests', service: 'backtests' },
  { prefix: '/portfolios', service: 'backtests' },
];
