import type { SyntheticGroundTruthRow, SyntheticGroundTruthStore, Timeframe } from '@strata/marketdata-contracts';
import type { DuckDb } from '@strata/platform-duckdb';

/**
 * DuckDB table `synthetic_ground_truth(symbol, timeframe, ts TIMESTAMP (UTC), regime, anomaly, ingestion_id)`, keyed by
 * (symbol, timeframe, ts): what generated each synthetic bar, for measuring detectors (implements
 * {@link SyntheticGroundTruthStore}). `save` replaces the rows of the same keys in one transaction (idempotent).
 */
export class DuckDbSyntheticGroundTruthStore implements SyntheticGroundTruthStore {
  private ready: Promise<void> | undefined;

  constructor(private readonly db: DuckDb) {}

  private init(): Promise<void> {
    return (this.ready ??= this.db
      .run(
        `CREATE TABLE IF NOT EXISTS synthetic_ground_truth (
           symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL,
           regime VARCHAR NOT NULL, anomaly VARCHAR, ingestion_id VARCHAR NOT NULL,
           PRIMARY KEY (symbol, timeframe, ts))`,
      )
      .then(() => undefined));
  }

  async save(
    ingestionId: string,
    symbol: string,
    timeframe: Timeframe,
    rows: readonly SyntheticGroundTruthRow[],
  ): Promise<void> {
    await this.init();
    if (rows.length === 0) return;
    await this.db.transaction(async (s) => {
      await s.run('CREATE TEMP TABLE IF NOT EXISTS gt_stage (ts_ms BIGINT, regime VARCHAR, anomaly VARCHAR)');
      await s.run('DELETE FROM gt_stage');
      await s.appendRows(
        'gt_stage',
        rows.map((r) => [BigInt(r.ts), r.regime, r.anomaly]),
      );
      await s.run(
        `DELETE FROM synthetic_ground_truth WHERE symbol = $1 AND timeframe = $2 AND ts IN (SELECT make_timestamp(ts_ms * 1000) FROM gt_stage)`,
        [symbol, timeframe],
      );
      await s.run(
        `INSERT INTO synthetic_ground_truth SELECT $1, $2, make_timestamp(ts_ms * 1000), regime, anomaly, $3 FROM gt_stage`,
        [symbol, timeframe, ingestionId],
      );
      await s.run('DELETE FROM gt_stage');
    });
  }

  async read(
    symbol: string,
    timeframe: Timeframe,
    range: { fromMs?: number; toMs?: number } = {},
  ): Promise<SyntheticGroundTruthRow[]> {
    await this.init();
    const rows = await this.db.all<{ ts_ms: number | bigint; regime: string; anomaly: string | null }>(
      `SELECT epoch_ms(ts) AS ts_ms, regime, anomaly FROM synthetic_ground_truth
        WHERE symbol = $1 AND timeframe = $2 AND ts >= make_timestamp($3::BIGINT * 1000) AND ts <= make_timestamp($4::BIGINT * 1000)
        ORDER BY ts`,
      [symbol, timeframe, range.fromMs ?? -62135596800000, range.toMs ?? 253402300799999],
    );
    return rows.map((r) => ({ ts: Number(r.ts_ms), regime: r.regime, anomaly: r.anomaly }));
  }
}
