/**
 * The document of `npm run bench:report` (docs/benchmarks.md) and the README block generated from it: one pure module,
 * used by scripts/bench-report.ts to write both and by test/bench-report.spec.ts to check that they agree.
 *
 * docs/benchmarks.md holds, per script, the JSON line it printed (between `<!-- result:<script> -->` markers); the
 * summary table of the document and the README block (`<!-- bench:begin -->` … `<!-- bench:end -->`) are both rendered
 * from those lines by {@link summaryTable}, so neither can be edited into disagreement without the test noticing.
 */

/** One script's run as recorded in docs/benchmarks.md. */
export interface BenchResult {
  /** The npm script, e.g. `bench:bus`. */
  script: string;
  /** Process exit code (0 = ran). */
  exitCode: number;
  /** Wall time of the whole script, s. */
  seconds: number;
  /** The JSON line it printed (last stdout line that parses as an object), or null. */
  json: Record<string, unknown> | null;
  /** Why there is no JSON line (exit code, last stderr line), when there is none. */
  error?: string;
}

/** The README markers; the script rewrites what lies between them. */
export const README_BEGIN = '<!-- bench:begin -->';
export const README_END = '<!-- bench:end -->';

/**
 * Key figures per script: `[label, path]`, the path dot-separated into the JSON line. Missing paths are skipped (a bench
 * that skipped its peer has no ratio). Every `met` flag and `ratios.*` figure is added by {@link keyFigures} as well.
 */
export const KEY_FIGURES: Record<string, [string, string][]> = {
  'bench:bus': [
    ['in-process events/s', 'inProcess.eventsPerSec'],
    ['JetStream acked publish→handle events/s', 'jetstream.eventsPerSec'],
    ['best raw client events/s', 'jetstreamRaw.{best}.eventsPerSec'],
    ['nats bench js pub async msgs/s', 'natsBench.jsPubAsyncMsgsPerSec'],
    ['nats bench js consume msgs/s', 'natsBench.jsConsumeMsgsPerSec'],
    ['steady 5k/s p99 ms', 'jetstreamSteady.p99Ms'],
  ],
  'bench:backtest': [
    ['single bars/s', 'single.bars_per_s'],
    ['numpy bars/s', 'peer.numpy.bars_per_s'],
    ['vectorbt bars/s', 'peer.vectorbt.bars_per_s'],
    ['vectorbt numba compile ms', 'peer.vectorbt.numba_compile_ms'],
    ['sweep backtests/s', 'sweep.backtests_per_s'],
    ['numpy sweep backtests/s', 'peer.numpy.sweep_backtests_per_s'],
  ],
  'bench:indicators': [
    ['bars/s', 'bars_per_s'],
    ['vs TA-Lib + numpy (time ratio)', 'peer.speed_ratio_vs_total'],
  ],
  'bench:synthetic': [
    ['daily NYSE bars/s', 'daily_nyse_bars_per_s'],
    ['1m 24x7 bars/s', 'minute_24x7_bars_per_s'],
    ['deterministic', 'deterministic_across_runs'],
  ],
  'bench:store': [
    ['DuckDB memory inserts/s', 'duckdbMemory.insertDocsPerS'],
    ['DuckDB file inserts/s', 'duckdbFile.insertDocsPerS'],
  ],
  'bench:reads': [
    ['1M bars in process ms', 'bars1m.inProcessMs'],
    ['1M bars cold remote ms', 'bars1m.coldRemoteMs'],
    ['1M bars warm remote ms', 'bars1m.warmRemoteMs'],
  ],
  'bench:sentinel': [
    ['scoreBars bars/s', 'score_bars.bars_per_s'],
    ['Isolation Forest fit ms', 'isolation_forest.fit_ms'],
    ['Isolation Forest score rows/s', 'isolation_forest.score_rows_per_s'],
  ],
  'bench:regime': [
    ['HMM fit ms', 'fit_ms.ours'],
    ['hmmlearn fit ms', 'fit_ms.hmmlearn'],
    ['fit time ratio', 'fit_time_ratio'],
  ],
  'eval:regime': [
    ['synthetic accuracy', 'synthetic.accuracy'],
    ['statsmodels accuracy', 'synthetic.statsmodels_accuracy'],
  ],
  'eval:sentinel': [['spike recall (all sizes)', 'detection.spike.recall_all_sizes']],
  'bench:csv': [
    ['parse rows/s', 'parse_rows_per_s'],
    ['naive parser rows/s', 'naive_baseline_rows_per_s'],
  ],
};

type Json = Record<string, unknown>;

/** Value at a dot path; `{best}` in a path is replaced by the string at `<prefix>.best`. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  const parts = path.split('.');
  for (let i = 0; i < parts.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    let key = parts[i];
    if (key === '{best}') key = String((cur as Json).best);
    cur = (cur as Json)[key];
  }
  return cur;
}

/** A number as the table shows it: integers with thousands separators, others with 3 significant digits. */
export function fmt(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const a = Math.abs(v);
  return a >= 100 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString();
}

/**
 * Every `met` flag of a JSON line as `[label, met]` (keys `met`, `*_met`, `*Met`), in document order; a `met` beside a
 * numeric `ratio` or `value` is labelled with that measured figure.
 */
export function metFlags(json: unknown, prefix = ''): [string, boolean][] {
  const out: [string, boolean][] = [];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [k, v] of Object.entries(json as Json)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'boolean' && k === 'met') {
      // `{ ratio, met }` / `{ value, met }`: the measured figure goes with its flag.
      const o = json as Json;
      const measured = typeof o.ratio === 'number' ? o.ratio : typeof o.value === 'number' ? o.value : undefined;
      out.push([measured === undefined ? prefix : `${prefix} (${fmt(measured)})`, v]);
    } else if (typeof v === 'boolean' && /_met$|Met$/.test(k)) out.push([path, v]);
    else if (v && typeof v === 'object') out.push(...metFlags(v, path));
  }
  return out;
}

/** Same-run ratios of a JSON line: every number under an object named `ratios` (at any depth). */
export function ratios(json: unknown, prefix = ''): [string, number][] {
  const out: [string, number][] = [];
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return out;
  for (const [k, v] of Object.entries(json as Json)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (k === 'ratios' && v && typeof v === 'object') {
      for (const [rk, rv] of Object.entries(v as Json)) if (typeof rv === 'number') out.push([`${path}.${rk}`, rv]);
    } else if (v && typeof v === 'object') out.push(...ratios(v, path));
  }
  return out;
}

/** The key figures of one result as `label value` strings (explicit list, then ratios). */
export function keyFigures(r: BenchResult): string[] {
  if (!r.json) return [];
  const out: string[] = [];
  for (const [label, path] of KEY_FIGURES[r.script] ?? []) {
    const v = at(r.json, path);
    if (v !== undefined && v !== null && typeof v !== 'object') out.push(`${label} ${fmt(v)}`);
  }
  for (const [path, v] of ratios(r.json)) out.push(`${path.replace(/(^|\.)ratios\./, '$1')} ${fmt(v)}×`);
  return out;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The summary table (markdown), one row per script: key figures and target flags, from the recorded JSON lines. */
export function summaryTable(results: BenchResult[]): string {
  const rows = results.map((r) => {
    if (!r.json) return `| \`${r.script}\` | no result: ${cell(r.error ?? `exit ${r.exitCode}`)} | |`;
    const figures = keyFigures(r).join('; ') || '(see docs/benchmarks.md)';
    const flags = metFlags(r.json)
      .map(([p, v]) => `${p}: ${v ? 'met' : '**NOT met**'}`)
      .join('; ');
    return `| \`${r.script}\` | ${cell(figures)} | ${cell(flags || '—')} |`;
  });
  return ['| script | key figures (ratios are same-run) | targets |', '|---|---|---|', ...rows].join('\n');
}

/** Machine and date of a report run. */
export interface ReportMeta {
  date: string;
  machine: string;
  command: string;
}

/** The whole docs/benchmarks.md. */
export function renderDocument(meta: ReportMeta, results: BenchResult[]): string {
  const parts = [
    '# Benchmarks',
    '',
    `Generated by \`${meta.command}\`; do not edit by hand (test/bench-report.spec.ts checks the README block against it).`,
    'Every bench follows the rule of bench/README.md. Figures from one run on a shared machine: the same-run ratios are',
    'what compare; absolute figures move with the load (each JSON line carries its load average).',
    '',
    `- Date: ${meta.date}`,
    `- Machine: ${meta.machine}`,
    '',
    '## Summary',
    '',
    summaryTable(results),
    '',
    '## Results',
    '',
  ];
  for (const r of results) {
    parts.push(`### \`npm run ${r.script}\``, '');
    parts.push(`Exit ${r.exitCode}, ${r.seconds.toFixed(0)} s.${r.error ? ` ${r.error}` : ''}`, '');
    const figs = keyFigures(r);
    if (figs.length) parts.push(...figs.map((f) => `- ${f}`), '');
    parts.push(`<!-- result:${r.script} -->`, '```json', r.json ? JSON.stringify(r.json) : 'null', '```', '');
  }
  return parts.join('\n');
}

/** Reads the results back from docs/benchmarks.md (the JSON lines and the run facts of each script). */
export function parseDocument(md: string): { meta: ReportMeta | null; results: BenchResult[] } {
  const results: BenchResult[] = [];
  const re =
    /### `npm run ([^`]+)`\n\nExit (-?\d+), (\d+) s\.(?: ([^\n]*))?\n[\s\S]*?<!-- result:\1 -->\n```json\n([^\n]*)\n```/g;
  for (let m = re.exec(md); m; m = re.exec(md)) {
    const json = JSON.parse(m[5]) as Json | null;
    results.push({
      script: m[1],
      exitCode: Number(m[2]),
      seconds: Number(m[3]),
      json,
      ...(m[4] ? { error: m[4] } : {}),
    });
  }
  const date = /^- Date: (.*)$/m.exec(md)?.[1];
  const machine = /^- Machine: (.*)$/m.exec(md)?.[1];
  const command = /^Generated by `([^`]+)`/m.exec(md)?.[1];
  return { meta: date && machine && command ? { date, machine, command } : null, results };
}

/** The README block: markers, source line, the summary table. */
export function readmeBlock(meta: ReportMeta, results: BenchResult[]): string {
  return [
    README_BEGIN,
    `<!-- generated by npm run bench:report from docs/benchmarks.md; do not edit by hand -->`,
    `Measured ${meta.date} on ${meta.machine} (full JSON lines: [docs/benchmarks.md](docs/benchmarks.md)).`,
    '',
    summaryTable(results),
    README_END,
  ].join('\n');
}

/** The README's current block (markers included), or null when it has none. */
export function currentReadmeBlock(readme: string): string | null {
  const b = readme.indexOf(README_BEGIN);
  const e = readme.indexOf(README_END);
  return b >= 0 && e > b ? readme.slice(b, e + README_END.length) : null;
}

/**
 * The README with its block replaced, or inserted at the end of the `## Benchmarks` section (before the next `## `
 * heading) when it has none yet, or appended when there is no such section.
 */
export function withReadmeBlock(readme: string, block: string): string {
  const cur = currentReadmeBlock(readme);
  if (cur) return readme.replace(cur, () => block);
  const sec = readme.search(/^## Benchmarks\s*$/m);
  if (sec < 0) return `${readme.trimEnd()}\n\n${block}\n`;
  const next = readme.slice(sec + 1).search(/^## /m);
  const at = next < 0 ? readme.length : sec + 1 + next;
  return `${readme.slice(0, at).trimEnd()}\n\n${block}\n\n${readme.slice(at)}`;
}
