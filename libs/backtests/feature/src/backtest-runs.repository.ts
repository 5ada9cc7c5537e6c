import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  type DocumentChange,
  type DocumentCollection,
  type DocumentStore,
  type NewDocument,
  type Page,
  type StoredDocument,
} from '@strata/platform-contracts';
import { type BacktestResultV1, type BacktestRunSpec } from '@strata/backtests-contracts';

/** The claim a worker holds on a running backtest. `leaseUntil` is ISO-8601 UTC; the claim is void after it. */
export interface BacktestClaim {
  /** Random token of this attempt; also the `attempt` key of the series it writes. */
  token: string;
  workerId: string;
  claimedAt: string;
  leaseUntil: string;
}

/** Lifecycle: queued → running → completed | failed (running → queued again when a worker gives a run back). */
export type BacktestRunStatus = 'queued' | 'running' | 'completed' | 'failed';

/** A backtest run document (collection `backtest_runs`, id = run id). */
export interface BacktestRunDoc {
  status: BacktestRunStatus;
  /** Strategy id for filtering (null for inline definitions). */
  strategyId: string | null;
  spec: BacktestRunSpec;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Claims taken so far (> 1 after a crash or a give-back). */
  attempts: number;
  claim: BacktestClaim | null;
  progress: { phase: string; fraction: number } | null;
  result: BacktestResultV1 | null;
  error: { reason: 'invalid_strategy' | 'no_data' | 'invalid_data' | 'internal'; detail: string } | null;
  /** Claim token whose series are the result's (set on completion). */
  seriesAttempt: string | null;
  /** The completion / failure event went out (republished by a redelivery otherwise). */
  finalEventPublished: boolean;
}

/** A fresh run document in state `queued` (no claim, no result yet). */
export function queuedRun(
  id: string,
  spec: BacktestRunSpec,
  strategyId: string | null,
  createdAt: string,
): NewDocument<BacktestRunDoc> {
  return {
    id,
    status: 'queued',
    strategyId,
    spec,
    createdAt,
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    claim: null,
    progress: null,
    result: null,
    error: null,
    seriesAttempt: null,
    finalEventPublished: false,
  };
}

/**
 * Backtest run documents in the document store. Every state change is a compare-and-set on `_version`
 * (optimistic concurrency), which is what makes claims exclusive and completion happen once.
 */
@Injectable()
export class BacktestRunsRepository {
  readonly runs: DocumentCollection<BacktestRunDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore) {
    this.runs = store.collection<BacktestRunDoc>({
      name: 'backtest_runs',
      indexes: [{ fields: ['status'] }, { fields: ['createdAt'] }, { fields: ['strategyId'] }],
    });
  }

  insert(doc: NewDocument<BacktestRunDoc>): Promise<StoredDocument<BacktestRunDoc>> {
    return this.runs.insert(doc);
  }

  get(id: string): Promise<StoredDocument<BacktestRunDoc> | null> {
    return this.runs.get(id);
  }

  /** Compare-and-set: applies `change` if the stored version is `expectedVersion` (else VersionConflictError). */
  update(
    id: string,
    expectedVersion: number,
    change: DocumentChange<BacktestRunDoc>,
  ): Promise<StoredDocument<BacktestRunDoc>> {
    return this.runs.update(id, expectedVersion, change);
  }

  /** Runs newest first. */
  page(req: {
    limit: number;
    cursor?: string | null;
    status?: BacktestRunStatus;
    strategyId?: string;
  }): Promise<Page<BacktestRunDoc>> {
    const filter: Record<string, string> = {};
    if (req.status) filter.status = req.status;
    if (req.strategyId) filter.strategyId = req.strategyId;
    return this.runs.page({
      filter,
      sort: { field: 'createdAt', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
  }

  /** Runs in a status created before an instant, oldest first (recovery sweeps). */
  stale(status: BacktestRunStatus, limit: number): Promise<Page<BacktestRunDoc>> {
    return this.runs.page({ filter: { status }, sort: { field: 'createdAt', direction: 'asc' }, limit });
  }
}
