import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  DocumentNotFoundError,
  type DocumentCollection,
  type DocumentStore,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  BACKTEST_SERIES_STORE,
  type BacktestSeriesStore,
  type CreatePortfolioBody,
  type ForecastBody,
  type KpiBandsDto,
  type PatchPortfolioBody,
  type PortfolioDto,
  type PortfolioForecastDto,
  type PortfolioPerformance,
} from '@strata/backtests-contracts';
import {
  aggregatePortfolio,
  computeKpis,
  equityReturns,
  KpiBandsError,
  simulateKpiBands,
} from '@strata/backtests-domain';
import { uuidv7 } from '@strata/shared-util';
import { BacktestRunsRepository } from './backtest-runs.repository';
import { FORECAST_SYNC_LIMIT, forecastKey } from './backtest-forecast.service';
import { readEquityCurve } from './equity-curve';

/** Stored performance: the answer without `recomputed`, and the signature of its inputs. */
type StoredPerformance = Omit<PortfolioPerformance, 'recomputed'> & { signature: string };

/** A portfolio (collection `portfolios`). */
export interface PortfolioDoc {
  name: string;
  members: CreatePortfolioBody['members'];
  rebalance: CreatePortfolioBody['rebalance'];
  createdAt: string;
  updatedAt: string;
  /** Cached performance; stale when its signature no longer matches (member rerun or portfolio changed). */
  performance: StoredPerformance | null;
}

/** Stored bands of a portfolio (collection `portfolio_kpi_bands`, id = key of the inputs incl. member attempts). */
interface PortfolioBandsDoc {
  portfolioId: string;
  body: ForecastBody;
  bands: KpiBandsDto;
  createdAt: string;
}

/** No such portfolio (HTTP 404). */
export class PortfolioNotFoundError extends Error {
  constructor(id: string) {
    super(`no portfolio ${id}`);
    this.name = 'PortfolioNotFoundError';
  }
}

/** A member backtest is missing or not completed (HTTP 422, `members` names which). */
export class PortfolioMembersError extends Error {
  constructor(readonly members: { backtestId: string; reason: string }[]) {
    super(`members not usable: ${members.map((m) => `${m.backtestId} (${m.reason})`).join(', ')}`);
    this.name = 'PortfolioMembersError';
  }
}

const DAY_PERIODS = 252;

/**
 * Portfolios of completed backtests: CRUD, the combined daily curve (`aggregatePortfolio`), its KPIs (the backtests'
 * `computeKpis`) and KPI bands (`simulateKpiBands`). Figures are cached on the portfolio with the members' result
 * attempts; a rerun member (new attempt) or an edit makes them stale, and the next read recomputes them.
 */
@Injectable()
export class PortfoliosService {
  readonly portfolios: DocumentCollection<PortfolioDoc>;
  readonly bands: DocumentCollection<PortfolioBandsDoc>;

  constructor(
    private readonly runs: BacktestRunsRepository,
    @Inject(BACKTEST_SERIES_STORE) private readonly series: BacktestSeriesStore,
    @Inject(DOCUMENT_STORE) store: DocumentStore,
  ) {
    this.portfolios = store.collection<PortfolioDoc>({ name: 'portfolios', indexes: [{ fields: ['updatedAt'] }] });
    this.bands = store.collection<PortfolioBandsDoc>({
      name: 'portfolio_kpi_bands',
      indexes: [{ fields: ['portfolioId'] }],
    });
  }

  async create(body: CreatePortfolioBody): Promise<PortfolioDto> {
    await this.attempts(body.members);
    const now = new Date().toISOString();
    const doc = await this.portfolios.insert({
      id: uuidv7(),
      ...body,
      createdAt: now,
      updatedAt: now,
      performance: null,
    });
    return dto(doc);
  }

  async list(req: { limit: number; cursor?: string }): Promise<{ items: PortfolioDto[]; nextCursor: string | null }> {
    const page = await this.portfolios.page({
      sort: { field: 'updatedAt', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
    return { items: page.items.map((d) => dto(d)), nextCursor: page.nextCursor };
  }

  /** The portfolio with its performance (recomputed when stale). */
  async get(id: string): Promise<PortfolioDto> {
    const doc = await this.doc(id);
    return dto(doc, await this.performance(doc));
  }

  /** Replaces (PUT) or merges (PATCH) the portfolio's fields; the cached figures are dropped. */
  async update(id: string, change: PatchPortfolioBody): Promise<PortfolioDto> {
    if (change.members) await this.attempts(change.members);
    const doc = await this.portfolios
      .updateWithRetry(id, () => ({ set: { ...change, updatedAt: new Date().toISOString(), performance: null } }))
      .catch((e: unknown) => {
        throw e instanceof DocumentNotFoundError ? new PortfolioNotFoundError(id) : e;
      });
    return dto(doc);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.portfolios.delete(id))) throw new PortfolioNotFoundError(id);
    await this.bands.deleteMany({ portfolioId: id });
  }

  /** KPI bands of the combined daily returns (same request and bands as `POST /backtests/{id}/forecast`). */
  async forecast(id: string, body: ForecastBody): Promise<PortfolioForecastDto> {
    const doc = await this.doc(id);
    const attempts = await this.attempts(doc.members);
    const key = forecastKey(id, signature(doc, attempts), body);
    const stored = await this.bands.get(key);
    if (stored) return { key, portfolioId: id, cached: true, createdAt: stored.createdAt, bands: stored.bands };
    if (body.paths * body.horizon > FORECAST_SYNC_LIMIT)
      throw new KpiBandsError(
        'invalid_option',
        `paths × horizon above ${FORECAST_SYNC_LIMIT} is not served for portfolios (no job queue yet): ask fewer paths`,
      );
    const curve = await this.curve(doc, attempts);
    const bands = simulateKpiBands(equityReturns(curve.equity), {
      ...body,
      periodsPerYear: DAY_PERIODS,
    }) as KpiBandsDto;
    const createdAt = new Date().toISOString();
    await this.bands.insert({ id: key, portfolioId: id, body, bands, createdAt }).catch(async (e: unknown) => {
      if (!(await this.bands.get(key))) throw e;
    });
    return { key, portfolioId: id, cached: false, createdAt, bands };
  }

  private async doc(id: string): Promise<StoredDocument<PortfolioDoc>> {
    const doc = await this.portfolios.get(id);
    if (!doc) throw new PortfolioNotFoundError(id);
    return doc;
  }

  /** Each member's result attempt. @throws PortfolioMembersError when one is missing or not completed. */
  private async attempts(members: PortfolioDoc['members']): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const bad: { backtestId: string; reason: string }[] = [];
    for (const m of members) {
      const run = await this.runs.get(m.backtestId);
      if (!run) bad.push({ backtestId: m.backtestId, reason: 'not_found' });
      else if (run.status !== 'completed' || !run.seriesAttempt)
        bad.push({ backtestId: m.backtestId, reason: `status ${run.status}` });
      else out[m.backtestId] = run.seriesAttempt;
    }
    if (bad.length) throw new PortfolioMembersError(bad);
    return out;
  }

  private async curve(doc: PortfolioDoc, attempts: Record<string, string>) {
    const curves = await Promise.all(
      doc.members.map(async (m) => ({
        ...(await readEquityCurve(this.series, m.backtestId, attempts[m.backtestId])),
        weight: m.weight,
      })),
    );
    return aggregatePortfolio(curves, doc.rebalance);
  }

  private async performance(doc: StoredDocument<PortfolioDoc>): Promise<PortfolioPerformance> {
    const attempts = await this.attempts(doc.members);
    const sig = signature(doc, attempts);
    if (doc.performance?.signature === sig) {
      const { signature: _s, ...perf } = doc.performance;
      return { ...perf, recomputed: false };
    }
    const curve = await this.curve(doc, attempts);
    const kpis = computeKpis({
      equity: curve.equity,
      ts: curve.ts,
      tradePnl: [],
      tradeReturn: [],
      periodsPerYear: DAY_PERIODS,
    });
    const perf: StoredPerformance = {
      kpis,
      start: new Date(curve.ts[0]).toISOString(),
      end: new Date(curve.ts[curve.ts.length - 1]).toISOString(),
      days: curve.ts.length,
      memberAttempts: attempts,
      computedAt: new Date().toISOString(),
      signature: sig,
    };
    // Best effort: a concurrent edit wins (its figures are dropped anyway).
    await this.portfolios.update(doc.id, doc._version, { set: { performance: perf } }).catch(() => undefined);
    const { signature: _s, ...out } = perf;
    return { ...out, recomputed: true };
  }
}

/** Hash of what the figures depend on: members, weights, rule and each member's result attempt. */
function signature(doc: PortfolioDoc, attempts: Record<string, string>): string {
  return createHash('sha256')
    .update(JSON.stringify([doc.members, doc.rebalance, doc.members.map((m) => attempts[m.backtestId])]))
    .digest('hex')
    .slice(0, 32);
}

function dto(d: StoredDocument<PortfolioDoc>, performance?: PortfolioPerformance): PortfolioDto {
  return {
    id: d.id,
    name: d.name,
    members: d.members,
    rebalance: d.rebalance,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    ...(performance ? { performance } : {}),
  };
}
