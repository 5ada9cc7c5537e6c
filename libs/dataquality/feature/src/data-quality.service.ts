import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  DataQualitySeveritySchema,
  type DataQualityEventDto,
  type DataQualityEventsQuery,
  type DataQualityStatus,
  type DataQualitySummary,
  type DataQualitySummaryQuery,
  BAR_QUALITY_FLAGS,
  type BarQualityFlagsStore,
} from '@strata/dataquality-contracts';
import { type Page } from '@strata/platform-contracts';
import { DataQualityEventsRepository, toEventDto, type DataQualityEventDoc } from './data-quality-events.repository';

/** No DataQualityEvent with that id. */
export class DataQualityEventNotFoundError extends Error {
  constructor(readonly eventId: string) {
    super(`no data-quality event ${eventId}`);
    this.name = 'DataQualityEventNotFoundError';
  }
}

/** A status change the lifecycle does not allow (acknowledging a resolved event, resolving twice, …). HTTP 409. */
export class IllegalTransitionError extends Error {
  constructor(
    readonly eventId: string,
    readonly from: DataQualityStatus,
    readonly action: 'acknowledge' | 'resolve',
  ) {
    super(`cannot ${action} data-quality event ${eventId}: it is ${from}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Who performs a transition: the API key principal. */
export interface TransitionActor {
  keyId: string;
  role: string;
}

/** Default dashboard window when `from` is absent: 7 days before `to`. */
export const DEFAULT_SUMMARY_WINDOW_MS = 7 * 86_400_000;

/**
 * DataQualityEvents for people: the filtered, paginated list, one event, the lifecycle
 * (open → acknowledged → resolved, or open → resolved; resolved is final) with who and when, and the
 * DataQualitySummary dashboard panel. Status changes are mirrored onto the bar-quality flags when that store is
 * present (so `qualityFilter: 'exclude'` follows a resolve).
 */
@Injectable()
export class DataQualityService {
  constructor(
    private readonly repo: DataQualityEventsRepository,
    @Optional() @Inject(BAR_QUALITY_FLAGS) private readonly flags?: BarQualityFlagsStore,
  ) {}

  async list(q: DataQualityEventsQuery): Promise<{ items: DataQualityEventDto[]; nextCursor: string | null }> {
    const page = await this.repo.page(
      {
        symbol: q.symbol,
        timeframe: q.timeframe,
        severity: q.severity,
        minSeverity: q.minSeverity,
        status: q.status,
        kind: q.kind,
        barFrom: q.from,
        barTo: q.to,
      },
      { limit: q.limit, cursor: q.cursor },
    );
    return { items: page.items.map(toEventDto), nextCursor: page.nextCursor };
  }

  async get(id: string): Promise<DataQualityEventDto> {
    const d = await this.repo.get(id);
    if (!d) throw new DataQualityEventNotFoundError(id);
    return toEventDto(d);
  }

  /** open → acknowledged; anything else is an {@link IllegalTransitionError}. */
  acknowledge(id: string, actor: TransitionActor, note?: string): Promise<DataQualityEventDto> {
    return this.transition(id, (d) => {
      if (d.status !== 'open') throw new IllegalTransitionError(id, d.status, 'acknowledge');
      return {
        status: 'acknowledged',
        acknowledgedAt: new Date().toISOString(),
        acknowledgedBy: actor,
        acknowledgeNote: note ?? null,
      };
    });
  }

  /** open | acknowledged → resolved; resolving a resolved event is an {@link IllegalTransitionError}. */
  resolve(id: string, actor: TransitionActor, note?: string): Promise<DataQualityEventDto> {
    return this.transition(id, (d) => {
      if (d.status === 'resolved') throw new IllegalTransitionError(id, d.status, 'resolve');
      return { status: 'resolved', resolvedAt: new Date().toISOString(), resolvedBy: actor, resolveNote: note ?? null };
    });
  }

  private async transition(
    id: string,
    change: (d: DataQualityEventDoc) => Partial<DataQualityEventDoc>,
  ): Promise<DataQualityEventDto> {
    if (!(await this.repo.get(id))) throw new DataQualityEventNotFoundError(id);
    const updated = await this.repo.updateWithRetry(id, (d) => ({ set: change(d) }));
    await this.flags?.setStatus(id, updated.status);
    return toEventDto(updated);
  }

  /**
   * The DataQualitySummary over events DETECTED in `[from, to]` (default: the 7 days up to now): recent alerts,
   * counts by severity, status, symbol, kind and driving detector, and the mean time to acknowledge. Reads the
   * window's documents in pages of 1,000 (one pass).
   */
  async summary(q: DataQualitySummaryQuery, now: number = Date.now()): Promise<DataQualitySummary> {
    const to = q.to ?? now;
    const from = q.from ?? to - DEFAULT_SUMMARY_WINDOW_MS;
    const bySeverity = Object.fromEntries(
      DataQualitySeveritySchema.options.map((s) => [s, 0]),
    ) as DataQualitySummary['bySeverity'];
    const byStatus: DataQualitySummary['byStatus'] = { open: 0, acknowledged: 0, resolved: 0 };
    const byDetector: DataQualitySummary['byDetector'] = { rules: 0, isolation_forest: 0, forecast_residual: 0 };
    const bySymbol = new Map<string, number>();
    const byKind: Record<string, number> = {};
    const recent: DataQualityEventDto[] = [];
    let total = 0;
    let ackSum = 0;
    let ackCount = 0;
    let cursor: string | null = null;
    do {
      const page: Page<DataQualityEventDoc> = await this.repo.page(
        { detectedFrom: from, detectedTo: to },
        { limit: 1000, cursor, sort: 'detectedAt' },
      );
      for (const d of page.items) {
        total++;
        if (recent.length < q.recent) recent.push(toEventDto(d));
        bySeverity[d.severity]++;
        byStatus[d.status]++;
        bySymbol.set(d.symbol, (bySymbol.get(d.symbol) ?? 0) + 1);
        byKind[d.kind] = (byKind[d.kind] ?? 0) + 1;
        byDetector[drivingDetector(d.scores)]++;
        if (d.acknowledgedAt) {
          ackSum += Date.parse(d.acknowledgedAt) - Date.parse(d.detectedAt);
          ackCount++;
        }
      }
      cursor = page.nextCursor;
    } while (cursor);
    return {
      window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      total,
      recentAlerts: recent,
      bySeverity,
      byStatus,
      bySymbol: [...bySymbol]
        .map(([symbol, count]) => ({ symbol, count }))
        .sort((a, b) => b.count - a.count || (a.symbol < b.symbol ? -1 : 1)),
      byKind,
      byDetector,
      meanTimeToAcknowledgeMs: ackCount ? ackSum / ackCount : null,
      acknowledgedCount: ackCount,
    };
  }
}

/** The detector with the highest score (ties and all-null: in the order rules, isolation_forest, forecast_residual). */
export function drivingDetector(
  scores: DataQualityEventDoc['scores'],
): 'rules' | 'isolation_forest' | 'forecast_residual' {
  let best: 'rules' | 'isolation_forest' | 'forecast_residual' = 'rules';
  let bestScore = -1;
  for (const k of ['rules', 'isolation_forest', 'forecast_residual'] as const) {
    const v = scores[k];
    if (v !== null && v > bestScore) {
      best = k;
      bestScore = v;
    }
  }
  return best;
}
