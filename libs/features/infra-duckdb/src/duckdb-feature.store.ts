import type { SeriesWindow, Timeframe } from '@strata/marketdata-contracts';
import {
  FeatureSetConflictError,
  type FeatureColumns,
  type FeatureSetRegistration,
  type FeatureSetSummary,
  type FeatureSetVersion,
  type FeatureStore,
  type MaterialisationLineage,
  type MaterialisationRecord,
  type WriteTailRequest,
} from '@strata/features-contracts';
import { TIMEFRAME_MS } from '@strata/shared-timeseries';
import { uuidv7 } from '@strata/shared-util';
import { createHash } from 'node:crypto';
import { appendColumns, readDoubleColumns, type ColumnSource, type DuckDb } from '@strata/platform-duckdb';

const MIN_MS = -62135596800000;
const MAX_MS = 253402300799999;
const IDENT = /^[a-z][a-z0-9_]{0,62}$/;

/** Canonical JSON (sorted keys) of a value, for hashing definitions. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** SHA-256 (hex) of the canonical JSON of a registration: what makes a version immutable. */
export function featureSetDefinitionHash(def: FeatureSetRegistration): string {
  return createHash('sha256').update(canonical(def)).digest('hex');
}

/** Name of the values table and of the view of a feature-set version (`core`, 1 → `core_v1`). */
export function featureSetViewName(name: string, version: number): string {
  return `${name}_v${version}`;
}

/** SQL expression: the length of a bar of the row's timeframe, as an INTERVAL (bar end = ts + this). */
const BAR_LENGTH_SQL = `CASE timeframe ${Object.entries(TIMEFRAME_MS)
  .map(([tf, ms]) => `WHEN '${tf}' THEN to_milliseconds(${ms}::BIGINT)`)
  .join(' ')} END`;

/**
 * The feature store in DuckDB, schema `features`:
 * - `features.feature_sets`: one row per registered (name, version) with its definition JSON and hash; never updated;
 * - `features.<name>_v<version>_values`: the values, one row per (symbol, timeframe, ts), one DOUBLE column per
 *   feature (NULL in warm-up and where undefined), created with the version and never altered;
 * - view `features.<name>_v<version>` (e.g. `features.core_v1`): `symbol, timeframe, ts, available_at, <features>`,
 *   where `available_at = ts + bar length` is when the bar closed and its features became knowable;
 * - `features.materialisations`: lineage per write (bars content hash, bar count, adjustment fingerprint,
 *   calendar, feature-set and code version, range, rows, reason, time).
 *
 * Writes replace a series' tail atomically (DELETE from `fromTs` + columnar append + lineage insert in one
 * transaction). Registration of an existing (name, version) with another definition throws
 * {@link FeatureSetConflictError}.
 */
export class DuckDbFeatureStore implements FeatureStore {
  private ready: Promise<void> | undefined;
  private readonly versions = new Map<string, FeatureSetVersion>();

  constructor(private readonly db: DuckDb) {}

  /** Creates the schema and catalogue tables when missing (idempotent). */
  init(): Promise<void> {
    this.ready ??= this.db
      .exclusive(async (s) => {
        await s.run('CREATE SCHEMA IF NOT EXISTS features');
        await s.run(`CREATE TABLE IF NOT EXISTS features.feature_sets (
          name VARCHAR NOT NULL, version INTEGER NOT NULL, code_version VARCHAR NOT NULL, adjust VARCHAR NOT NULL,
          definition JSON NOT NULL, definition_hash VARCHAR NOT NULL, view_name VARCHAR NOT NULL, registered_at TIMESTAMP NOT NULL,
          PRIMARY KEY (name, version))`);
        await s.run(`CREATE TABLE IF NOT EXISTS features.materialisations (
          id VARCHAR PRIMARY KEY, set_name VARCHAR NOT NULL, version INTEGER NOT NULL, code_version VARCHAR NOT NULL,
          symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, from_ts TIMESTAMP NOT NULL, to_ts TIMESTAMP NOT NULL, rows BIGINT NOT NULL,
          bars_content_hash VARCHAR NOT NULL, bars_count BIGINT NOT NULL, adjustment_hash VARCHAR NOT NULL, calendar VARCHAR NOT NULL,
          reason VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL)`);
      })
      .catch((err) => {
        this.ready = undefined;
        throw err;
      });
    return this.ready;
  }

  /**
   * Registers a feature-set version: creates its values table and view and records the definition. Identical
   * re-registration returns the stored record; a different definition for an existing (name, version) throws.
   */
  async register(def: FeatureSetRegistration): Promise<FeatureSetVersion> {
    await this.init();
    if (!IDENT.test(def.name)) throw new RangeError(`feature-set name "${def.name}" must match ${IDENT}`);
    if (!Number.isInteger(def.version) || def.version < 1)
      throw new RangeError(`feature-set version must be a positive integer, got ${def.version}`);
    const names = new Set<string>();
    for (const f of def.features) {
      if (!IDENT.test(f.name) || ['symbol', 'timeframe', 'ts', 'available_at'].includes(f.name))
        throw new RangeError(`feature name "${f.name}" is not allowed`);
      if (names.has(f.name)) throw new RangeError(`feature "${f.name}" appears twice`);
      names.add(f.name);
    }
    const hash = featureSetDefinitionHash(def);
    const view = featureSetViewName(def.name, def.version);
    return this.db.transaction(async (s) => {
      const existing = await s.all<{ h: string }>(
        'SELECT definition_hash AS h FROM features.feature_sets WHERE name = $n AND version = $v',
        { n: def.name, v: def.version },
      );
      if (existing.length) {
        if (existing[0].h !== hash) {
          throw new FeatureSetConflictError(def.name, def.version);
        }
      } else {
        const cols = def.features.map((f) => `"${f.name}" DOUBLE`).join(', ');
        await s.run(
          `CREATE TABLE IF NOT EXISTS features."${view}_values" (symbol VARCHAR NOT NULL, timeframe VARCHAR NOT NULL, ts TIMESTAMP NOT NULL, ${cols})`,
        );
        await s.run(
          `CREATE VIEW IF NOT EXISTS features."${view}" AS SELECT symbol, timeframe, ts, ts + ${BAR_LENGTH_SQL} AS available_at, ${def.features
            .map((f) => `"${f.name}"`)
            .join(', ')} FROM features."${view}_values"`,
        );
        await s.run(
          `INSERT INTO features.feature_sets VALUES ($n, $v, $cv, $adj, $def, $h, $view, epoch_ms($now::BIGINT))`,
          {
            n: def.name,
            v: def.version,
            cv: def.codeVersion,
            adj: def.adjust,
            def: JSON.stringify(def),
            h: hash,
            view: `features.${view}`,
            now: Date.now(),
          },
        );
      }
      this.versions.delete(`${def.name}\u0000${def.version}`);
      return (await this.fetchVersions(s.all.bind(s), def.name, def.version))[0];
    });
  }

  private async fetchVersions(
    all: <R>(sql: string, params?: Record<string, string | number>) => Promise<R[]>,
    name?: string,
    version?: number,
  ): Promise<FeatureSetVersion[]> {
    const rows = await all<{ definition: string; definition_hash: string; view_name: string; registered_at: number }>(
      `SELECT definition, definition_hash, view_name, epoch_ms(registered_at)::DOUBLE AS registered_at FROM features.feature_sets
       WHERE ($n = '' OR name = $n) AND ($v = 0 OR version = $v) ORDER BY name, version`,
      { n: name ?? '', v: version ?? 0 },
    );
    return rows.map((r) => {
      const def = JSON.parse(r.definition) as FeatureSetRegistration;
      return {
        name: def.name,
        version: def.version,
        codeVersion: def.codeVersion,
        view: r.view_name,
        adjust: def.adjust,
        warmUpBars: def.warmUpBars,
        features: def.features.map((f) => ({
          name: f.name,
          description: f.description,
          params: { ...f.params },
          lookback: f.lookback,
        })),
        definitionHash: r.definition_hash,
        registeredAt: new Date(r.registered_at).toISOString(),
      };
    });
  }

  /** Every registered set with its versions. */
  async listSets(): Promise<FeatureSetSummary[]> {
    await this.init();
    const rows = await this.db.all<{ name: string; versions: number[] }>(
      'SELECT name, list(version ORDER BY version) AS versions FROM features.feature_sets GROUP BY name ORDER BY name',
    );
    return rows.map((r) => {
      const versions = [...r.versions].map(Number);
      return { name: r.name, versions, latestVersion: versions[versions.length - 1] };
    });
  }

  /** Versions of one set, ascending (empty when unknown). */
  async listVersions(name: string): Promise<FeatureSetVersion[]> {
    await this.init();
    return this.fetchVersions((sql, p) => this.db.all(sql, p), name);
  }

  /** One registered version (cached: versions are immutable). */
  async getVersion(name: string, version: number): Promise<FeatureSetVersion | undefined> {
    const key = `${name}\u0000${version}`;
    const hit = this.versions.get(key);
    if (hit) return hit;
    await this.init();
    const [v] = await this.fetchVersions((sql, p) => this.db.all(sql, p), name, version);
    if (v) this.versions.set(key, v);
    return v;
  }

  private async requireVersion(name: string, version: number): Promise<FeatureSetVersion> {
    const v = await this.getVersion(name, version);
    if (!v) throw new RangeError(`feature set ${name} v${version} is not registered`);
    return v;
  }

  /**
   * Replaces the values of one series from `fromTs` on with `values` (whose `ts` must all be ≥ `fromTs`, ascending)
   * and records the lineage, in one transaction. Returns the materialisation record.
   */
  async writeTail(req: WriteTailRequest): Promise<MaterialisationRecord> {
    const v = await this.requireVersion(req.set, req.version);
    const n = req.values.ts.length;
    if (n && req.values.ts[0] < req.fromTs) throw new RangeError('writeTail: values start before fromTs');
    const sources: ColumnSource[] = [
      { kind: 'constant', value: req.symbol },
      { kind: 'constant', value: req.timeframe },
      { kind: 'timestamp', epochMs: req.values.ts },
    ];
    for (const f of v.features) {
      const col = req.values.columns[f.name];
      if (!col || col.length !== n)
        throw new RangeError(`writeTail: feature ${f.name} has ${col?.length ?? 0} values, expected ${n}`);
      sources.push({ kind: 'double', values: col, nanAsNull: true });
    }
    const table = `${featureSetViewName(req.set, req.version)}_values`;
    const record: MaterialisationRecord = {
      id: uuidv7(),
      set: req.set,
      version: req.version,
      codeVersion: v.codeVersion,
      symbol: req.symbol,
      timeframe: req.timeframe,
      fromTs: n ? req.values.ts[0] : req.fromTs,
      toTs: n ? req.values.ts[n - 1] : req.fromTs,
      rows: n,
      createdAt: Date.now(),
      ...req.lineage,
    };
    await this.db.transaction(async (s) => {
      await s.run(
        `DELETE FROM features."${table}" WHERE symbol = $sym AND timeframe = $tf AND ts >= epoch_ms($from::BIGINT)`,
        {
          sym: req.symbol,
          tf: req.timeframe,
          from: req.fromTs,
        },
      );
      await appendColumns(s.connection, { table, schema: 'features' }, sources, n);
      await s.run(
        `INSERT INTO features.materialisations VALUES ($id, $set, $v, $cv, $sym, $tf, epoch_ms($f::BIGINT), epoch_ms($t::BIGINT), $rows, $bh, $bc, $ah, $cal, $reason, epoch_ms($now::BIGINT))`,
        {
          id: record.id,
          set: record.set,
          v: record.version,
          cv: record.codeVersion,
          sym: record.symbol,
          tf: record.timeframe,
          f: record.fromTs,
          t: record.toTs,
          rows: record.rows,
          bh: record.barsContentHash,
          bc: record.barsCount,
          ah: record.adjustmentHash,
          cal: record.calendar,
          reason: record.reason,
          now: record.createdAt,
        },
      );
    });
    return record;
  }

  /** Values of one series in ascending time within `[from, to]`, after `after`, at most `limit`. */
  async read(req: SeriesWindow & { set: string; version: number }): Promise<FeatureColumns> {
    const v = await this.requireVersion(req.set, req.version);
    const lower = Math.max(req.from ?? MIN_MS, req.after !== undefined ? req.after + 1 : MIN_MS);
    const cols = v.features.map((f) => `"${f.name}"`).join(', ');
    const res = await this.db.exclusive((s) =>
      s.connection.run(
        `SELECT epoch_ms(ts)::DOUBLE AS ts, ${cols} FROM features."${featureSetViewName(req.set, req.version)}"
         WHERE symbol = $sym AND timeframe = $tf AND ts BETWEEN epoch_ms($lo::BIGINT) AND epoch_ms($hi::BIGINT)
         ORDER BY ts LIMIT $lim::BIGINT`,
        {
          sym: req.symbol,
          tf: req.timeframe,
          lo: lower,
          hi: req.to ?? MAX_MS,
          lim: req.limit ?? Number.MAX_SAFE_INTEGER,
        },
      ),
    );
    const [ts, ...values] = readDoubleColumns(res);
    const columns: Record<string, Float64Array> = {};
    v.features.forEach((f, i) => (columns[f.name] = values[i]));
    return { ts, columns };
  }

  /**
   * Point-in-time as-of join (DuckDB `ASOF LEFT JOIN`): for each event time (epoch ms UTC, any order), the features of
   * the latest bar whose close (`available_at = ts + bar length`) is at or before the event time. Rows come back in
   * the order of `eventTimes`; `ts` is the matched bar's start (NaN and NULL features when no bar had closed yet).
   */
  async asOf(req: {
    set: string;
    version: number;
    symbol: string;
    timeframe: Timeframe;
    eventTimes: Float64Array;
  }): Promise<FeatureColumns> {
    const v = await this.requireVersion(req.set, req.version);
    const n = req.eventTimes.length;
    const idx = new Float64Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    const cols = v.features.map((f) => `f."${f.name}"`).join(', ');
    const res = await this.db.exclusive(async (s) => {
      await s.run('CREATE TEMP TABLE IF NOT EXISTS feature_events (i DOUBLE, t TIMESTAMP)');
      await s.run('DELETE FROM feature_events');
      await appendColumns(
        s.connection,
        { table: 'feature_events', schema: 'main', catalog: 'temp' },
        [
          { kind: 'double', values: idx },
          { kind: 'timestamp', epochMs: req.eventTimes },
        ],
        n,
      );
      return s.connection.run(
        `SELECT epoch_ms(f.ts)::DOUBLE AS ts, ${cols}
         FROM temp.main.feature_events e
         ASOF LEFT JOIN (SELECT * FROM features."${featureSetViewName(req.set, req.version)}" WHERE symbol = $sym AND timeframe = $tf) f
           ON e.t >= f.available_at
         ORDER BY e.i`,
        { sym: req.symbol, tf: req.timeframe },
      );
    });
    const [ts, ...values] = readDoubleColumns(res);
    const columns: Record<string, Float64Array> = {};
    v.features.forEach((f, i) => (columns[f.name] = values[i]));
    return { ts, columns };
  }

  /** The latest materialisation of a series (by time written), if any. */
  async lastMaterialisation(
    set: string,
    version: number,
    symbol: string,
    timeframe: Timeframe,
  ): Promise<MaterialisationRecord | undefined> {
    const [r] = await this.listMaterialisations({ set, version, symbol, timeframe, limit: 1 });
    return r;
  }

  /** Materialisation records, newest first. */
  async listMaterialisations(req: {
    set: string;
    version: number;
    symbol?: string;
    timeframe?: Timeframe;
    limit: number;
  }): Promise<MaterialisationRecord[]> {
    await this.init();
    const rows = await this.db.all<Record<string, string | number | bigint>>(
      `SELECT id, set_name, version, code_version, symbol, timeframe, epoch_ms(from_ts)::DOUBLE AS from_ts, epoch_ms(to_ts)::DOUBLE AS to_ts, rows,
              bars_content_hash, bars_count, adjustment_hash, calendar, reason, epoch_ms(created_at)::DOUBLE AS created_at
       FROM features.materialisations
       WHERE set_name = $set AND version = $v AND ($sym = '' OR symbol = $sym) AND ($tf = '' OR timeframe = $tf)
       ORDER BY created_at DESC, id DESC LIMIT $lim::BIGINT`,
      { set: req.set, v: req.version, sym: req.symbol ?? '', tf: req.timeframe ?? '', lim: req.limit },
    );
    return rows.map((r) => ({
      id: r.id as string,
      set: r.set_name as string,
      version: Number(r.version),
      codeVersion: r.code_version as string,
      symbol: r.symbol as string,
      timeframe: r.timeframe as Timeframe,
      fromTs: r.from_ts as number,
      toTs: r.to_ts as number,
      rows: Number(r.rows),
      barsContentHash: r.bars_content_hash as string,
      barsCount: Number(r.bars_count),
      adjustmentHash: r.adjustment_hash as string,
      calendar: r.calendar as string,
      reason: r.reason as MaterialisationLineage['reason'],
      createdAt: r.created_at as number,
    }));
  }
}
