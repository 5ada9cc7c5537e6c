import { Inject, Injectable } from '@nestjs/common';
import { EVENT_BUS, type EventBus, type StoredDocument } from '@strata/platform-contracts';
import {
  RunBacktestCommandV1,
  type BacktestEquityPointDto,
  type BacktestOrderDto,
  type BacktestRunDto,
  type BacktestRunSpec,
  type BacktestTradeDto,
  type CreateBacktestBody,
  BACKTEST_SERIES_STORE,
  type BacktestSeriesStore,
} from '@strata/backtests-contracts';
import { definitionHash, StrategiesService } from './strategies.service';
import { uuidv7 } from '@strata/shared-util';
import {
  BacktestRunsRepository,
  queuedRun,
  type BacktestRunDoc,
  type BacktestRunStatus,
} from './backtest-runs.repository';

/** No such run (HTTP 404). */
export class BacktestNotFoundError extends Error {
  constructor(id: string) {
    super(`no backtest ${id}`);
    this.name = 'BacktestNotFoundError';
  }
}

/** The run has no series yet (HTTP 409): it is queued, running or failed. */
export class BacktestNotCompletedError extends Error {
  constructor(
    id: string,
    readonly status: BacktestRunStatus,
  ) {
    super(`backtest ${id} is ${status}: its series exist once it has completed`);
    this.name = 'BacktestNotCompletedError';
  }
}

/** A pagination cursor that names no page of this backtest's series (HTTP 404 `invalid-cursor`). */
export class BacktestCursorError extends Error {
  constructor() {
    super('invalid cursor: use the nextCursor of the previous page of the same backtest and series');
    this.name = 'BacktestCursorError';
  }
}

type SeriesKind = 'equity' | 'trades' | 'orders';

/** Opaque cursor of a series page: the run, the series and the last `seq` served. */
function encodeCursor(runId: string, kind: SeriesKind, seq: number): string {
  return Buffer.from(JSON.stringify([runId, kind, seq])).toString('base64url');
}
function decodeCursor(cursor: string, runId: string, kind: SeriesKind): number {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v[0] === runId && v[1] === kind && Number.isSafeInteger(v[2]) && (v[2] as number) >= 0)
      return v[2] as number;
  } catch {
    /* fall through */
  }
  throw new BacktestCursorError();
}

/**
 * The API side of backtests: freezes a request into a run spec (strategy version resolved, definition and
 * parameters validated), stores the run and sends `backtest.cmd.run.v1`; reads runs and their paginated series.
 */
@Injectable()
export class BacktestsService {
  constructor(
    private readonly runs: BacktestRunsRepository,
    private readonly strategies: StrategiesService,
    @Inject(BACKTEST_SERIES_STORE) private readonly series: BacktestSeriesStore,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {}

  /** Validates and queues a backtest; resolves once the command is on the bus. Returns the stored run. */
  async submit(body: CreateBacktestBody, meta: { correlationId?: string } = {}): Promise<BacktestRunDto> {
    let strategy: BacktestRunSpec['strategy'] = null;
    let definition = body.definition;
    if (body.strategyId !== undefined) {
      const head = await this.strategies.get(body.strategyId);
      const v =
        body.strategyVersion === undefined
          ? head.latest
          : await this.strategies.getVersion(body.strategyId, body.strategyVersion);
      strategy = { id: head.id, version: v.version, name: head.name };
      definition = v.definition;
    }
    const def = definition!;
    this.strategies.validate(def, body.params ?? {});
    const spec: BacktestRunSpec = {
      strategy,
      definition: def,
      definitionHash: definitionHash(def),
      params: { ...def.params, ...(body.params ?? {}) },
      from: body.from ?? null,
      to: body.to ?? null,
      initialCapital: body.initialCapital,
      execution: body.execution,
      riskFreeRate: body.riskFreeRate,
      lookAheadCheck: body.lookAheadCheck,
      qualityFilter: body.qualityFilter,
    };
    const id = uuidv7();
    const createdAt = new Date().toISOString();
    const doc = await this.runs.insert(queuedRun(id, spec, strategy?.id ?? null, createdAt));
    // Envelope id = run id: a retried submit of the same run is stored once by the bus.
    await this.bus.publish(
      RunBacktestCommandV1,
      { runId: id, spec, requestedAt: createdAt },
      { id, correlationId: meta.correlationId ?? id },
    );
    return toDto(doc);
  }

  async get(id: string): Promise<BacktestRunDto> {
    return toDto(await this.doc(id));
  }

  /** Runs newest first, optionally of one status or strategy. */
  async list(req: {
    limit: number;
    cursor?: string;
    status?: BacktestRunStatus;
    strategyId?: string;
  }): Promise<{ items: BacktestRunDto[]; nextCursor: string | null }> {
    const page = await this.runs.page(req);
    return { items: page.items.map(toDto), nextCursor: page.nextCursor };
  }

  equity(
    id: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: BacktestEquityPointDto[]; nextCursor: string | null }> {
    return this.page(id, 'equity', page, (p) => this.series.readEquity(p));
  }

  trades(
    id: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: BacktestTradeDto[]; nextCursor: string | null }> {
    return this.page(id, 'trades', page, (p) => this.series.readTrades(p));
  }

  orders(
    id: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: BacktestOrderDto[]; nextCursor: string | null }> {
    return this.page(id, 'orders', page, (p) => this.series.readOrders(p));
  }

  private async page<T extends { seq: number }>(
    id: string,
    kind: SeriesKind,
    req: { limit: number; cursor?: string },
    read: (p: { runId: string; attempt: string; after: number | null; limit: number }) => Promise<T[]>,
  ): Promise<{ items: T[]; nextCursor: string | null }> {
    const doc = await this.doc(id);
    if (doc.status !== 'completed' || !doc.seriesAttempt) throw new BacktestNotCompletedError(id, doc.status);
    const after = req.cursor === undefined ? null : decodeCursor(req.cursor, id, kind);
    const rows = await read({ runId: id, attempt: doc.seriesAttempt, after, limit: req.limit + 1 });
    const items = rows.slice(0, req.limit);
    return { items, nextCursor: rows.length > req.limit ? encodeCursor(id, kind, items[items.length - 1].seq) : null };
  }

  private async doc(id: string): Promise<StoredDocument<BacktestRunDoc>> {
    const doc = await this.runs.get(id);
    if (!doc) throw new BacktestNotFoundError(id);
    return doc;
  }
}

/** The REST view of a run document. */
export function toDto(d: StoredDocument<BacktestRunDoc>): BacktestRunDto {
  return {
    id: d.id,
    status: d.status,
    strategy: d.spec.strategy,
    definitionHash: d.spec.definitionHash,
    createdAt: d.createdAt,
    startedAt: d.startedAt,
    finishedAt: d.finishedAt,
    attempts: d.attempts,
    progress: d.progress,
    result: d.result,
    error: d.error,
    spec: d.spec,
  };
}
