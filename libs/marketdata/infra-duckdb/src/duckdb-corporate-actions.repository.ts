import type { CorporateAction, CorporateActionsRepository, CorporateActionsUpsert } from '@strata/marketdata-contracts';
import type { DuckDb } from '@strata/platform-duckdb';

interface Row {
  symbol: string;
  kind: 'split' | 'dividend';
  ex_date: string;
  new_shares: number | null;
  old_shares: number | null;
  amount: number | null;
}

function toAction(r: Row): CorporateAction {
  return r.kind === 'split'
    ? {
        kind: 'split',
        symbol: r.symbol,
        exDate: r.ex_date,
        newShares: r.new_shares as number,
        oldShares: r.old_shares as number,
      }
    : { kind: 'dividend', symbol: r.symbol, exDate: r.ex_date, amount: r.amount as number };
}

function same(a: CorporateAction, b: CorporateAction): boolean {
  if (a.kind === 'split' && b.kind === 'split') return a.newShares === b.newShares && a.oldShares === b.oldShares;
  if (a.kind === 'dividend' && b.kind === 'dividend') return a.amount === b.amount;
  return false;
}

/**
 * DuckDB table `corporate_actions`: splits and cash dividends keyed by (symbol, kind, ex_date). Recording an action
 * again with the same values is a no-op; with other values it replaces the stored one (the latest record wins).
 */
export class DuckDbCorporateActionsRepository implements CorporateActionsRepository {
  private ready: Promise<void> | undefined;
  /** Actions per symbol, read once and dropped on every upsert (every read of adjusted bars asks for them). */
  private readonly cache = new Map<string, CorporateAction[]>();

  constructor(private readonly db: DuckDb) {}

  /** Creates the table when missing (idempotent). */
  init(): Promise<void> {
    this.ready ??= this.db
      .run(
        `CREATE TABLE IF NOT EXISTS corporate_actions (
          symbol VARCHAR NOT NULL, kind VARCHAR NOT NULL, ex_date DATE NOT NULL,
          new_shares DOUBLE, old_shares DOUBLE, amount DOUBLE, recorded_at TIMESTAMP NOT NULL,
          PRIMARY KEY (symbol, kind, ex_date))`,
      )
      .then(() => undefined)
      .catch((err) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  /** Inserts or replaces actions in one transaction; reports what changed. Later duplicates in `actions` win. */
  async upsert(actions: readonly CorporateAction[]): Promise<CorporateActionsUpsert> {
    await this.init();
    this.cache.clear();
    const byKey = new Map<string, CorporateAction>();
    for (const a of actions) byKey.set(`${a.symbol}\u0000${a.kind}\u0000${a.exDate}`, a);
    return this.db.transaction(async (s) => {
      const out: CorporateActionsUpsert = { inserted: 0, updated: 0, unchanged: 0, changed: [] };
      const now = Date.now();
      for (const a of byKey.values()) {
        const existing = await s.all<Row>(
          `SELECT symbol, kind, strftime(ex_date, '%Y-%m-%d') AS ex_date, new_shares, old_shares, amount
           FROM corporate_actions WHERE symbol = $sym AND kind = $kind AND ex_date = $ex::DATE`,
          { sym: a.symbol, kind: a.kind, ex: a.exDate },
        );
        if (existing.length && same(toAction(existing[0]), a)) {
          out.unchanged++;
          continue;
        }
        await s.run(
          `INSERT OR REPLACE INTO corporate_actions VALUES ($sym, $kind, $ex::DATE, $ns, $os, $amt, epoch_ms($now::BIGINT))`,
          {
            sym: a.symbol,
            kind: a.kind,
            ex: a.exDate,
            ns: a.kind === 'split' ? a.newShares : null,
            os: a.kind === 'split' ? a.oldShares : null,
            amt: a.kind === 'dividend' ? a.amount : null,
            now,
          },
        );
        if (existing.length) out.updated++;
        else out.inserted++;
        out.changed.push(a);
      }
      return out;
    });
  }

  /** Actions of a symbol, ordered by ex-date then kind. */
  async list(symbol: string): Promise<CorporateAction[]> {
    const hit = this.cache.get(symbol);
    if (hit) return hit.map((a) => ({ ...a }));
    await this.init();
    const rows = await this.db.all<Row>(
      `SELECT symbol, kind, strftime(ex_date, '%Y-%m-%d') AS ex_date, new_shares, old_shares, amount
       FROM corporate_actions WHERE symbol = $sym ORDER BY ex_date, kind`,
      { sym: symbol },
    );
    const actions = rows.map(toAction);
    this.cache.set(symbol, actions);
    return actions.map((a) => ({ ...a }));
  }
}
