/**
 * `npm run bench:report`: runs every `bench:*` and `eval:*` script of package.json one after the other, keeps the JSON
 * line each prints, and writes docs/benchmarks.md (machine, date, each JSON line with its key figures and target
 * flags) and the README's generated block (`<!-- bench:begin -->` … `<!-- bench:end -->`, see scripts/bench-report-doc.ts).
 *
 * Options:
 *   --only=bench:bus,eval:signals  re-run only these scripts; the other results are kept from docs/benchmarks.md
 *   --quick                        BENCH_RUNS=5 for every bench (the rule's minimum; each bench clamps to ≥ 5 anyway)
 *   --no-readme                    write docs/benchmarks.md only
 *   --render                       run nothing: render docs/benchmarks.md and the README block again from the JSON
 *                                  lines docs/benchmarks.md holds (after a change of the key figures shown)
 * Each script's stderr goes to $TMPDIR/bench-report/<script>.log. A script that fails is recorded with its exit code
 * and last stderr line (never silently dropped); the report then exits 1.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import {
  parseDocument,
  readmeBlock,
  renderDocument,
  withReadmeBlock,
  type BenchResult,
  type ReportMeta,
} from './bench-report-doc';

const ROOT = resolve(__dirname, '..');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const README = join(ROOT, 'README.md');
/** Longest a single script may run, s. */
const SCRIPT_TIMEOUT_S = Number(process.env.BENCH_REPORT_TIMEOUT_S ?? 1800);

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  return a === undefined ? undefined : (a.split('=')[1] ?? '');
}

/** The last stdout line that parses as a JSON object. */
function lastJsonLine(stdout: string): Record<string, unknown> | null {
  const lines = stdout.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i].startsWith('{')) continue;
    try {
      const v = JSON.parse(lines[i]) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      /* not JSON */
    }
  }
  return null;
}

function runScript(script: string, env: NodeJS.ProcessEnv, logDir: string): Promise<BenchResult> {
  return new Promise((done) => {
    const t0 = performance.now();
    const log = createWriteStream(join(logDir, `${script.replace(':', '_')}.log`));
    const child = spawn('npm', ['run', '--silent', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let lastErr = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => {
      log.write(b);
      const lines = b.toString('utf8').trim().split('\n');
      if (lines[lines.length - 1]) lastErr = lines[lines.length - 1];
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, SCRIPT_TIMEOUT_S * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      log.end();
      const json = lastJsonLine(out);
      const seconds = (performance.now() - t0) / 1000;
      const exitCode = code ?? (signal ? 128 : 1);
      const error =
        exitCode === 0 && json
          ? undefined
          : `${signal ? `killed (${signal}${timedOut ? `, over the report's limit of ${SCRIPT_TIMEOUT_S} s` : ''})` : `exit ${exitCode}`}${json ? '' : ', no JSON line'}: ${lastErr.slice(0, 300).replace(/\s+/g, ' ')}`;
      done({ script, exitCode, seconds, json, ...(error ? { error } : {}) });
    });
  });
}

function machine(): string {
  const c = cpus();
  const gib = Math.round(totalmem() / 2 ** 30);
  return `${c[0]?.model.trim() ?? 'unknown CPU'}, ${c.length} CPUs, ${gib} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const all = Object.keys(pkg.scripts).filter((s) => /^(bench|eval):/.test(s) && s !== 'bench:report');
  const only = arg('only')?.split(',').filter(Boolean);
  for (const s of only ?? [])
    if (!all.includes(s)) throw new Error(`--only names ${s}, which is not a bench:/eval: script of package.json`);
  const previous = existsSync(DOC) ? parseDocument(readFileSync(DOC, 'utf8')) : { meta: null, results: [] };
  const env: NodeJS.ProcessEnv = { ...process.env, ...(arg('quick') !== undefined ? { BENCH_RUNS: '5' } : {}) };
  const logDir = join(tmpdir(), 'bench-report');
  mkdirSync(logDir, { recursive: true });
  const results = new Map<string, BenchResult>();
  for (const r of previous.results) if (all.includes(r.script)) results.set(r.script, r);
  const render = arg('render') !== undefined;
  if (render && !previous.meta) throw new Error('--render needs an existing docs/benchmarks.md');
  const started = new Date().toISOString();
  const meta: ReportMeta = render
    ? previous.meta!
    : {
        date: only && previous.meta ? `${previous.meta.date}; re-run ${started}: ${only.join(', ')}` : started,
        machine: machine(),
        command: 'npm run bench:report',
      };
  const ordered = (): BenchResult[] => all.filter((s) => results.has(s)).map((s) => results.get(s)!);
  for (const s of render ? [] : (only ?? all)) {
    process.stderr.write(`bench:report: ${s} (load ${loadavg()[0].toFixed(2)}) … `);
    const r = await runScript(s, env, logDir);
    process.stderr.write(`${r.error ?? 'ok'} in ${r.seconds.toFixed(0)} s\n`);
    results.set(s, r);
    // Written after every script, so a run stopped part-way keeps what it measured.
    writeFileSync(DOC, renderDocument(meta, ordered()));
  }
  writeFileSync(DOC, renderDocument(meta, ordered()));
  if (arg('no-readme') === undefined)
    writeFileSync(README, withReadmeBlock(readFileSync(README, 'utf8'), readmeBlock(meta, ordered())));
  process.stderr.write(
    `bench:report: wrote ${DOC}${arg('no-readme') === undefined ? ' and the README block' : ''}; logs in ${logDir}\n`,
  );
  if (ordered().some((r) => r.error)) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:report failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
