/**
 * `core` v1 and v2 features against TA-Lib on every bundled series (data/sample/*_1d.csv, raw bars as bundled): for
 * each of the 22 columns of each version, NaN at exactly the same bars, and every defined value within 1e-9 of TA-Lib's relative to its size
 * (relative to the column's mean |value| near zero; see compareColumns). rv_20 and volume_z_20 have no TA-Lib function;
 * their reference is numpy (sample std over sliding windows), as in bench:indicators.
 */
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AnnualisationCalendar,
  CORE_V1_FEATURE_NAMES,
  CORE_V2_FEATURE_NAMES,
  annualisationFactor,
  computeCoreFeatures,
  computeCoreFeaturesV2,
} from '@strata/shared-indicators';
import { compareColumns, type ColumnDiff } from './parity';
import { REPO, bundledSeries, peerPython, runPython } from './peers';

const TOLERANCE = 1e-9;
const peer = peerPython(['talib', 'numpy'], 'core features vs TA-Lib (peer project)');
const FILES = readdirSync(join(REPO, 'data', 'sample'))
  .filter((f) => f.endsWith('_1d.csv'))
  .sort();
/** The calendar the platform annualises each bundled symbol with (BTCUSD trades every day). */
const calendarOf = (symbol: string): AnnualisationCalendar => (symbol === 'BTCUSD' ? 'crypto-24x7' : 'us-equity');

const f64 = (buf: Buffer) => new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));

const VERSIONS = {
  v1: { names: CORE_V1_FEATURE_NAMES, compute: computeCoreFeatures },
  v2: { names: CORE_V2_FEATURE_NAMES, compute: computeCoreFeaturesV2 },
} as const;
const ALL_NAMES = [...new Set<string>([...CORE_V1_FEATURE_NAMES, ...CORE_V2_FEATURE_NAMES])];

peer.describeIf('core v1 and v2 features equal TA-Lib on every bundled series', () => {
  let dir = '';
  const peerValues = new Map<string, Record<string, Float64Array>>();
  const series = bundledSeries(FILES);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'strata-talib-'));
    for (const s of series) {
      const d = join(dir, s.symbol);
      mkdirSync(d);
      for (const k of ['high', 'low', 'close', 'volume'] as const) writeFileSync(join(d, `in_${k}.f64`), s[k]);
      writeFileSync(join(d, 'bars_per_year'), String(annualisationFactor('1d', calendarOf(s.symbol))));
    }
    runPython(peer.python!, [join(__dirname, 'talib_core.py'), dir]);
    for (const s of series) {
      const cols: Record<string, Float64Array> = {};
      for (const name of ALL_NAMES) cols[name] = f64(readFileSync(join(dir, s.symbol, `out_${name}.f64`)));
      peerValues.set(s.symbol, cols);
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const summary: Record<string, { maxRelDiff: number; values: number }> = {};
  afterAll(() => {
    // One line for the record: the largest relative difference per feature over all series and versions.
    process.stderr.write(`core v1+v2 vs TA-Lib, max relative difference per feature: ${JSON.stringify(summary)}\n`);
  });

  const cases = (['v1', 'v2'] as const).flatMap((v) => FILES.map((f) => [v, f.replace(/_1d\.csv$/, '')] as const));
  it.each(cases)('core %s, %s: 22 columns, same NaN bars, |diff| <= 1e-9', (version, symbol) => {
    const s = series.find((x) => x.symbol === symbol)!;
    const { names, compute } = VERSIONS[version];
    const ours = compute(s, { timeframe: '1d', calendar: calendarOf(symbol) }) as Record<string, Float64Array>;
    const theirs = peerValues.get(symbol)!;
    const failures: Record<string, ColumnDiff & { date?: string }> = {};
    let checked = 0;
    for (const name of names) {
      const d = compareColumns(ours[name], theirs[name]);
      const agg = (summary[name] ??= { maxRelDiff: 0, values: 0 });
      agg.maxRelDiff = Math.max(agg.maxRelDiff, d.maxRelDiff);
      agg.values += d.defined;
      checked++;
      // A column that is all NaN on both sides would compare nothing: every column must have values.
      if (d.nanMismatches > 0 || !(d.maxRelDiff <= TOLERANCE) || d.defined < s.close.length - 40) {
        const at = d.nanMismatches > 0 ? d.firstNanMismatch : d.atIndex;
        failures[name] = { ...d, date: at >= 0 ? new Date(s.ts[at]).toISOString().slice(0, 10) : undefined };
      }
    }
    expect(checked).toBe(22);
    expect(failures).toEqual({});
  });
});
