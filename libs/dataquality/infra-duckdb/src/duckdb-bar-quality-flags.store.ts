import type { BarQualityFlag, BarQualityFlagsStore, DataQualityStatus } from '@strata/dataquality-contracts';
import type { Timeframe } from '@strata/marketdata-contracts';
import type { DuckDb } from '@strata/platform-duckdb';

const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;

/**
 * DuckDB table `bar_quality_flags(symbol, timeframe, ts TIMESTAMP (UTC), kind, event_id, severity, status,
 * updated_at)`, keyed by (symbol, timeframe, ts, kind): the bars the data-quality sentinel flagged, next to the bars
 * and features so training datasets and backtests can leave them out (the `BarQualityFlagsStore` port of
 * `@strata/dataquality-contracts`). `upsert` replaces rows of the same keys in one transaction (idempotent);
 * `setStatus` follows an event's acknowledge / resolve.
 */
export class DuckDbBarQualityFlagsStore implements BarQualityFlagsStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly db: DuckDb) {}

  private init(): Promise<void> {
    return (this.ready ??= this.db
      .run(
        `CREATE TABLE IF NOT EXISTS bar_quality_flags (
           symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, kind VARCHAR NOT NULL,
           event_id VARCHAR NOT NULL, severity VARCHAR NOT NULL, status VARCHAR NOT NULL, updated_at TIMESTAMP NOT NULL,
           PRIMARY KEY (symbol, timeframe, ts, kind))`,
      )
      .then(() => undefined)
      .catch((err: unknown) => {
        this.ready = undefined;
        throw err;
      }));
  }

  /** Inserts or replaces flags by (symbol, timeframe, ts, kind), all in one transaction. */
  async upsert(flags: readonly BarQualityFlag[]): Promise<void> {
    await this.init();
    if (flags.length === 0) return;
    await this.db.transaction(async (s) => {
      await s.run(
        'CREATE TEMP TABLE IF NOT EXISTS bqf_stage (symbol VARCHAR, timeframe VARCHAR, ts_ms BIGINT, kind VARCHAR, event_id VARCHAR, severity VARCHAR, status VARCHAR)',
      );
      await s.run('DELETE FROM bqf_stage');
      await s.appendRows(
        'bqf_stage',
        flags.map((f) => [f.symbol, f.timeframe, BigInt(Math.round(f.ts)), f.kind, f.eventId, f.severity, f.status]),
      );
      await s.run(
        `DELETE FROM bar_quality_flags f USING bqf_stage g
          WHERE f.symbol = g.symbol AND f.timeframe = g.timeframe AND f.ts = make_timestamp(g.ts_ms * 1000) AND f.kind = g.kind`,
      );
      await s.run(
        `INSERT INTO bar_quality_flags
           SELECT DISTINCT ON (symbol, timeframe, ts_ms, kind) symbol, timeframe, make_timestamp(ts_ms * 1000), kind, event_id, severity, status, now()::TIMESTAMP
             FROM bqf_stage`,
      );
      await s.run('DELETE FROM bqf_stage');
    });
  }

  /** Sets the status of every flag of one event; returns the rows changed. */
  async setStatus(eventId: string, status: DataQualityStatus): Promise<number> {
    await this.init();
    return this.db.run('UPDATE bar_quality_flags SET status = $1, updated_at = now()::TIMESTAMP WHERE event_id = $2', [
      status,
      eventId,
    ]);
  }

  /** Flags of one series in ascending time (then kind), bounds inclusive, optionally only some statuses. */
  async read(req: {
    symbol: string;
    timeframe: Timeframe;
    from?: number;
    to?: number;
    statuses?: readonly DataQualityStatus[];
  }): Promise<BarQualityFlag[]> {
    await this.init();
    const statuses = req.statuses ?? ['open', 'acknowledged', 'resolved'];
    if (statuses.length === 0) return [];
    const rows = await this.db.all<{
      ts_ms: number | bigint;
      kind: string;
      event_id: string;
      severity: string;
      status: string;
    }>(
      `SELECT epoch_ms(ts) AS ts_ms, kind, event_id, severity, status FROM bar_quality_flags
        WHERE symbol = $1 AND timeframe = $2 AND ts >= make_timestamp($3::BIGINT * 1000) AND ts <= make_timestamp($4::BIGINT * 1000)
          AND status IN ($5, $6, $7)
        ORDER BY ts, kind`,
      // Three status slots, padded with the first status (there are only three statuses).
      [
        req.symbol,
        req.timeframe,
        Math.round(req.from ?? MIN_MS),
        Math.round(req.to ?? MAX_MS),
        statuses[0],
        statuses[1] ?? statuses[0],
        statuses[2] ?? statuses[0],
      ],
    );
    return rows.map((r) => ({
      symbol: req.symbol,
      timeframe: req.timeframe,
      ts: Number(r.ts_ms),
      kind: r.kind as BarQualityFlag['kind'],
      eventId: r.event_id,
      severity: r.severity as BarQualityFlag['severity'],
      status: r.status as DataQualityStatus,
    }));
  }
}
