import {
  CorporateActionSchema,
  TimeframeSchema,
  type CorporateAction,
  type IngestResult,
  type Timeframe,
} from '@strata/marketdata-contracts';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** Ingest entry point the loader calls (the ingest use case of `@strata/marketdata-feature`). */
export type IngestFn = (cmd: {
  symbol: string;
  timeframe: Timeframe;
  source: { kind: 'csv'; csv: string; filename?: string };
}) => Promise<IngestResult>;

/** Outcome of {@link loadSampleDataIfEmpty}. */
export interface SampleLoadReport {
  /** False when the store held bars already (nothing was done). */
  loaded: boolean;
  results: {
    file: string;
    id: string;
    status: IngestResult['status'];
    accepted: number;
    rejected: number;
    gaps: number;
  }[];
  /** Corporate actions recorded from `corporate-actions.json`. */
  corporateActions: number;
}

const FILE_NAME = /^([A-Za-z0-9.^=-]+)_(1m|5m|15m|1h|1d)\.csv$/;

/**
 * First-boot loader of the bundled sample (`data/sample`): when the bars store is empty, ingests every
 * `<SYMBOL>_<timeframe>.csv` of `dir` through the normal ingest use case (validated, committed, announced), after
 * recording the splits of `corporate-actions.json` (if present) so that adjusted bars and the features computed from
 * them are right from the start.
 * Does nothing when any bar is stored. Files are ingested in name order.
 */
export async function loadSampleDataIfEmpty(deps: {
  dir: string;
  countBars: () => Promise<number>;
  ingest: IngestFn;
  recordCorporateActions?: (actions: CorporateAction[]) => Promise<unknown>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}): Promise<SampleLoadReport> {
  const report: SampleLoadReport = { loaded: false, results: [], corporateActions: 0 };
  if (!existsSync(deps.dir) || (await deps.countBars()) > 0) return report;
  report.loaded = true;
  const actionsFile = join(deps.dir, 'corporate-actions.json');
  if (deps.recordCorporateActions && existsSync(actionsFile)) {
    const actions = z
      .object({ actions: z.array(CorporateActionSchema) })
      .parse(JSON.parse(await readFile(actionsFile, 'utf8'))).actions;
    await deps.recordCorporateActions(actions);
    report.corporateActions = actions.length;
  }
  const files = (await readdir(deps.dir)).filter((f) => FILE_NAME.test(f)).sort();
  for (const file of files) {
    const [, symbol, tf] = FILE_NAME.exec(file)!;
    const csv = await readFile(join(deps.dir, file), 'utf8');
    const r = await deps.ingest({
      symbol: symbol.toUpperCase(),
      timeframe: TimeframeSchema.parse(tf),
      source: { kind: 'csv', csv, filename: file },
    });
    report.results.push({
      file,
      id: r.id,
      status: r.status,
      accepted: r.accepted,
      rejected: r.rejected,
      gaps: r.gaps.length,
    });
    deps.log?.('sample data ingested', {
      file,
      status: r.status,
      accepted: r.accepted,
      rejected: r.rejected,
      gaps: r.gaps.length,
    });
  }
  return report;
}
