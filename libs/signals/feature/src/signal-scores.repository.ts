import { Inject, Injectable } from '@nestjs/common';
import {
  DOCUMENT_STORE,
  DuplicateKeyError,
  type DocumentCollection,
  type DocumentStore,
} from '@strata/platform-contracts';
import { type Timeframe } from '@strata/marketdata-contracts';

/**
 * A batch of stored scores (collection `signal_scores`): one model's scores of consecutive bars of one series, as
 * written by one scoring pass (a feature refresh). Stored as one document per batch (arrays of bar times and scores,
 * at most {@link SCORE_BATCH_ROWS} rows): one write per refresh, the same on MongoDB and embedded DuckDB, and a range
 * read touches a handful of documents. A later batch overrides an earlier one where they overlap (bar corrections).
 */
export interface SignalScoreBatchDoc {
  /** `<modelId>|<symbol>|<timeframe>`: the one filter field of every read. */
  series: string;
  modelId: string;
  symbol: string;
  timeframe: Timeframe;
  /** First and last bar start, epoch ms UTC. */
  fromTs: number;
  toTs: number;
  /** Bar start times, epoch ms UTC, ascending. */
  ts: number[];
  /** Score per bar; null where the bar had missing features (warm-up). */
  score: (number | null)[];
  scoredAt: string;
}

/** Rows per stored score document. */
export const SCORE_BATCH_ROWS = 5000;

/** A score of one bar. */
export interface StoredScore {
  ts: number;
  score: number | null;
  scoredAt: string;
}

/** Scores of model versions per series (see {@link SignalScoreBatchDoc}). Writes are idempotent per (model, series, range). */
@Injectable()
export class SignalScoresRepository {
  readonly batches: DocumentCollection<SignalScoreBatchDoc>;

  constructor(@Inject(DOCUMENT_STORE) store: DocumentStore) {
    this.batches = store.collection<SignalScoreBatchDoc>({
      name: 'signal_scores',
      indexes: [{ fields: ['series', 'toTs'] }],
    });
  }

  /**
   * Stores scores of bars `ts` (ascending) in batches; a batch already stored for the same range (a redelivered event)
   * is kept as is. `key` distinguishes scoring passes of the same range (e.g. the materialisation id).
   */
  async write(req: {
    modelId: string;
    symbol: string;
    timeframe: Timeframe;
    ts: Float64Array;
    score: Float64Array;
    key: string;
    scoredAt?: string;
  }): Promise<number> {
    const series = `${req.modelId}|${req.symbol}|${req.timeframe}`;
    const scoredAt = req.scoredAt ?? new Date().toISOString();
    let written = 0;
    for (let i = 0; i < req.ts.length; i += SCORE_BATCH_ROWS) {
      const end = Math.min(req.ts.length, i + SCORE_BATCH_ROWS);
      const ts = Array.from(req.ts.subarray(i, end));
      const score = Array.from(req.score.subarray(i, end), (v) => (Number.isFinite(v) ? v : null));
      const id = `${series}|${ts[0]}|${ts[ts.length - 1]}|${req.key}`;
      try {
        await this.batches.insert({
          id,
          series,
          modelId: req.modelId,
          symbol: req.symbol,
          timeframe: req.timeframe,
          fromTs: ts[0],
          toTs: ts[ts.length - 1],
          ts,
          score,
          scoredAt,
        });
        written += ts.length;
      } catch (e) {
        if (!(e instanceof DuplicateKeyError)) throw e;
      }
    }
    return written;
  }

  /** The score of the latest scored bar of a series, or null. */
  async latest(modelId: string, symbol: string, timeframe: Timeframe): Promise<StoredScore | null> {
    const page = await this.batches.page({
      filter: { series: `${modelId}|${symbol}|${timeframe}` },
      sort: { field: 'toTs', direction: 'desc' },
      limit: 20,
    });
    // Among the batches ending at the latest bar, the latest scoring pass wins.
    let b = page.items[0];
    if (!b) return null;
    for (const x of page.items) if (x.toTs === b.toTs && x.scoredAt > b.scoredAt) b = x;
    return { ts: b.ts[b.ts.length - 1], score: b.score[b.score.length - 1], scoredAt: b.scoredAt };
  }

  /** Scores of bars in `[from, to]` (epoch ms, inclusive), ascending; the latest scoring pass wins where batches overlap. */
  async read(
    modelId: string,
    symbol: string,
    timeframe: Timeframe,
    from = -Infinity,
    to = Infinity,
  ): Promise<StoredScore[]> {
    const byTs = new Map<number, StoredScore>();
    let cursor: string | null = null;
    const docs: SignalScoreBatchDoc[] = [];
    do {
      const page = await this.batches.page({
        filter: {
          series: `${modelId}|${symbol}|${timeframe}`,
          ...(Number.isFinite(from) ? { toTs: { $gte: from } } : {}),
        },
        sort: { field: 'toTs', direction: 'asc' },
        limit: 200,
        cursor,
      });
      docs.push(...page.items.filter((d) => d.fromTs <= to));
      cursor = page.nextCursor;
    } while (cursor);
    docs.sort((a, b) => (a.scoredAt < b.scoredAt ? -1 : a.scoredAt > b.scoredAt ? 1 : 0));
    for (const d of docs)
      for (let i = 0; i < d.ts.length; i++)
        if (d.ts[i] >= from && d.ts[i] <= to)
          byTs.set(d.ts[i], { ts: d.ts[i], score: d.score[i], scoredAt: d.scoredAt });
    return [...byTs.values()].sort((a, b) => a.ts - b.ts);
  }
}
