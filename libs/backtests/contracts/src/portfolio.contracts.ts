import { z } from 'zod';
import { BacktestKpisSchema } from './backtest.contracts';
import { ForecastDtoSchema } from './kpi-bands.contracts';

/** A member of a portfolio: a completed backtest and its target weight (weights are normalised to sum 1). */
export const PortfolioMemberSchema = z
  .object({ backtestId: z.string().min(1).max(64), weight: z.number().gt(0).lte(1_000) })
  .strict();

/** Members with their weights summed per backtest, in first-seen order. */
function mergeMembers(members: z.output<typeof PortfolioMemberSchema>[]): z.output<typeof PortfolioMemberSchema>[] {
  const byId = new Map<string, { backtestId: string; weight: number }>();
  for (const m of members) {
    const seen = byId.get(m.backtestId);
    if (seen) seen.weight += m.weight;
    else byId.set(m.backtestId, { backtestId: m.backtestId, weight: m.weight });
  }
  return [...byId.values()];
}

/** When the target weights are restored: `none` (buy and hold, weights drift), `daily`, `monthly`. */
export const PortfolioRebalanceSchema = z.enum(['none', 'daily', 'monthly']);

/** Body of `POST /portfolios` and `PUT /portfolios/{id}`. */
export const CreatePortfolioBodySchema = z
  .object({
    name: z.string().min(1).max(200),
    // A backtest listed twice is one member whose weight is the sum (weights are relative), as a symbol listed twice
    // is one symbol: a rule JSON Schema could not state, so the server does not refuse it.
    members: z.array(PortfolioMemberSchema).min(1).max(50).transform(mergeMembers),
    rebalance: PortfolioRebalanceSchema.default('none'),
  })
  .strict();
/** See {@link CreatePortfolioBodySchema}. */
export type CreatePortfolioBody = z.output<typeof CreatePortfolioBodySchema>;

/** Body of `PATCH /portfolios/{id}`: any of the fields. */
export const PatchPortfolioBodySchema = z
  .object({
    name: CreatePortfolioBodySchema.shape.name.optional(),
    members: CreatePortfolioBodySchema.shape.members.optional(),
    rebalance: PortfolioRebalanceSchema.optional(),
  })
  .strict();
/** See {@link PatchPortfolioBodySchema}. */
export type PatchPortfolioBody = z.output<typeof PatchPortfolioBodySchema>;

/** Aggregated performance of a portfolio (recomputed when a member's result changed since: `stale` then). */
export const PortfolioPerformanceSchema = z.object({
  /** KPIs of the combined daily equity curve (the backtests' own `computeKpis`). */
  kpis: BacktestKpisSchema,
  start: z.iso.datetime(),
  end: z.iso.datetime(),
  /** Days of the common calendar (union of the members' days). */
  days: z.number().int().nonnegative(),
  /** Result attempt of each member the figures were computed from. */
  memberAttempts: z.record(z.string(), z.string()),
  computedAt: z.iso.datetime(),
  /** True when the stored figures were stale (a member was rerun, or the portfolio changed) and were recomputed now. */
  recomputed: z.boolean(),
});
/** See {@link PortfolioPerformanceSchema}. */
export type PortfolioPerformance = z.infer<typeof PortfolioPerformanceSchema>;

/** A portfolio of completed backtests. */
export const PortfolioDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  members: z.array(PortfolioMemberSchema),
  rebalance: PortfolioRebalanceSchema,
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  /** Present on `GET /portfolios/{id}` and `/performance`. */
  performance: PortfolioPerformanceSchema.optional(),
});
/** See {@link PortfolioDtoSchema}. */
export type PortfolioDto = z.infer<typeof PortfolioDtoSchema>;

/** Answer of `POST /portfolios/{id}/forecast`: the bands of the portfolio's combined daily returns. */
export const PortfolioForecastDtoSchema = ForecastDtoSchema.omit({ backtestId: true }).extend({
  portfolioId: z.string(),
});
/** See {@link PortfolioForecastDtoSchema}. */
export type PortfolioForecastDto = z.infer<typeof PortfolioForecastDtoSchema>;
