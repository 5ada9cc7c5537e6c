import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  type DocumentChange,
  type DocumentCollection,
  type DocumentFilter,
  type DocumentStore,
  type FieldCondition,
  type NewDocument,
  type Page,
  type StoredDocument,
} from '@strata/platform-contracts';
import {
  type AnomalyDetected,
  type AnomalyKindName,
  type DataQualityEventDto,
  type DataQualitySeverity,
  type DataQualityStatus,
} from '@strata/dataquality-contracts';
import { type Timeframe } from '@strata/marketdata-contracts';
import { createHash } from 'node:crypto';

/** Rank of each severity (LOW 0 … CRITICAL 3), stored so that `minSeverity` filters are one range condition. */
export const SEVERITY_RANK: Readonly<Record<DataQualitySeverity, number>> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** A DataQualityEvent document (collection `dataquality_events`, id = {@link dataQualityEventId}). */
export type DataQualityEventDoc = Omit<DataQualityEventDto, 'id'> & {
  /** {@link SEVERITY_RANK} of `severity`. */
  severityRank: number;
  /** `dataquality.evt.anomaly.detected.v1` went out (a redelivered ingest republishes otherwise). */
  published: boolean;
};

/**
 * The id of the DataQualityEvent of one (symbol, timeframe, bar time, kind): `dq_` + 32 hex of SHA-256 of the key.
 * Deterministic, so a rescored bar (a redelivered event, an overlapping backfill) maps to the same document and the
 * same envelope id.
 */
export function dataQualityEventId(
  symbol: string,
  timeframe: Timeframe,
  barTsMs: number,
  kind: AnomalyKindName,
): string {
  return `dq_${createHash('sha256').update(`${symbol}|${timeframe}|${barTsMs}|${kind}`).digest('hex').slice(0, 32)}`;
}

/** The triage state of a new DataQualityEvent: `open`, never acknowledged or resolved. */
export function openEventTriage(): Pick<
  DataQualityEventDoc,
  'status' | 'acknowledgedAt' | 'acknowledgedBy' | 'acknowledgeNote' | 'resolvedAt' | 'resolvedBy' | 'resolveNote'
> {
  return {
    status: 'open',
    acknowledgedAt: null,
    acknowledgedBy: null,
    acknowledgeNote: null,
    resolvedAt: null,
    resolvedBy: null,
    resolveNote: null,
  };
}

/** The `dataquality.evt.anomaly.detected.v1` payload of a stored document (the detection, without its triage). */
export function toDetected(id: string, d: DataQualityEventDoc): AnomalyDetected {
  return {
    id,
    symbol: d.symbol,
    timeframe: d.timeframe,
    barTs: d.barTs,
    kind: d.kind,
    scores: d.scores,
    combined: d.combined,
    severity: d.severity,
    reason: d.reason,
    modelVersions: d.modelVersions,
    proposedSplit: d.proposedSplit,
    ingestionId: d.ingestionId,
    detectedAt: d.detectedAt,
  };
}

/** The REST form of a stored document: the detection plus its triage. */
export function toEventDto(d: StoredDocument<DataQualityEventDoc>): DataQualityEventDto {
  return {
    ...toDetected(d.id, d),
    status: d.status,
    acknowledgedAt: d.acknowledgedAt,
    acknowledgedBy: d.acknowledgedBy,
    acknowledgeNote: d.acknowledgeNote,
    resolvedAt: d.resolvedAt,
    resolvedBy: d.resolvedBy,
    resolveNote: d.resolveNote,
  };
}

/** Filters of {@link DataQualityEventsRepository.page}; times are epoch ms UTC, bounds inclusive. */
export interface DataQualityEventFilter {
  symbol?: string;
  timeframe?: Timeframe;
  severity?: DataQualitySeverity;
  minSeverity?: DataQualitySeverity;
  status?: DataQualityStatus;
  kind?: AnomalyKindName;
  barFrom?: number;
  barTo?: number;
  detectedFrom?: number;
  detectedTo?: number;
}

/** DataQualityEvent documents in the document store (MongoDB / FerretDB or embedded DuckDB). */
@Injectable()
export class DataQualityEventsRepository {
  readonly events: DocumentCollection<DataQualityEventDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore) {
    this.events = store.collection<DataQualityEventDoc>({
      name: 'dataquality_events',
      indexes: [
        { fields: ['barTs'] },
        { fields: ['detectedAt'] },
        { fields: ['symbol', 'barTs'] },
        { fields: ['status'] },
        { fields: ['published'] },
      ],
    });
  }

  insert(doc: NewDocument<DataQualityEventDoc>): Promise<StoredDocument<DataQualityEventDoc>> {
    return this.events.insert(doc);
  }

  get(id: string): Promise<StoredDocument<DataQualityEventDoc> | null> {
    return this.events.get(id);
  }

  updateWithRetry(
    id: string,
    mutate: (d: StoredDocument<DataQualityEventDoc>) => DocumentChange<DataQualityEventDoc> | null,
  ): Promise<StoredDocument<DataQualityEventDoc>> {
    return this.events.updateWithRetry(id, mutate);
  }

  /** One page in `sort` order (default: newest bar first). */
  page(
    f: DataQualityEventFilter,
    req: { limit: number; cursor?: string | null; sort?: 'barTs' | 'detectedAt' },
  ): Promise<Page<DataQualityEventDoc>> {
    return this.events.page({
      filter: toFilter(f),
      sort: { field: req.sort ?? 'barTs', direction: 'desc' },
      limit: req.limit,
      cursor: req.cursor ?? null,
    });
  }

  count(f: DataQualityEventFilter): Promise<number> {
    return this.events.count(toFilter(f));
  }
}

function range(from: number | undefined, to: number | undefined): FieldCondition | undefined {
  if (from === undefined && to === undefined) return undefined;
  const c: FieldCondition = {};
  if (from !== undefined) c.$gte = new Date(from).toISOString();
  if (to !== undefined) c.$lte = new Date(to).toISOString();
  return c;
}

function toFilter(f: DataQualityEventFilter): DocumentFilter<DataQualityEventDoc> {
  const filter: DocumentFilter<DataQualityEventDoc> = {};
  if (f.symbol) filter.symbol = f.symbol;
  if (f.timeframe) filter.timeframe = f.timeframe;
  if (f.severity) filter.severity = f.severity;
  if (f.minSeverity) filter.severityRank = { $gte: SEVERITY_RANK[f.minSeverity] };
  if (f.status) filter.status = f.status;
  if (f.kind) filter.kind = f.kind;
  const bar = range(f.barFrom, f.barTo);
  if (bar) filter.barTs = bar;
  const det = range(f.detectedFrom, f.detectedTo);
  if (det) filter.detectedAt = det;
  return filter;
}
