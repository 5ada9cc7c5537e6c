/**
 * Locating the Python peers (TA-Lib, LightGBM, onnxmltools) for the `peer` jest project: the venv named by
 * STRATA_PEERS_VENV, else bench/peers/.venv (both made by bench/peers/setup.sh). When it is missing, or lacks a module a
 * test needs, the tests are skipped with one loud line; with REQUIRE_PEERS=1 (set by `.ci/run`) that is a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ParsedBars, parseBarsCsv } from '@strata/marketdata-domain';

/** Repository root. */
export const REPO = resolve(__dirname, '..', '..');

/** The peers' Python interpreter, when usable, and `describe` or `describe.skip` accordingly. */
export interface PeerTarget {
  python: string | undefined;
  describeIf: jest.Describe;
}

/**
 * The peers venv's python if it imports every module in `modules`. Otherwise: with REQUIRE_PEERS=1 throws (the test
 * file fails, naming what is missing); without it, prints one SKIPPED line and returns `describe.skip`.
 */
export function peerPython(modules: string[], what: string): PeerTarget {
  const venv = process.env.STRATA_PEERS_VENV || join(REPO, 'bench', 'peers', '.venv');
  const python = join(venv, 'bin', 'python');
  let problem: string | undefined;
  if (!existsSync(python)) problem = `no Python peers venv at ${venv}`;
  else {
    const probe = spawnSync(python, ['-c', modules.map((m) => `import ${m}`).join('; ')], { encoding: 'utf8' });
    if (probe.status !== 0)
      problem = `${python} cannot import ${modules.join(', ')}: ${probe.stderr.trim().slice(-300)}`;
  }
  if (problem === undefined) return { python, describeIf: describe };
  const fix = 'run bench/peers/setup.sh parity (or set STRATA_PEERS_VENV)';
  if (process.env.REQUIRE_PEERS === '1') {
    throw new Error(`REQUIRE_PEERS=1 but ${problem}: ${what} cannot run; ${fix}.`);
  }
  process.stderr.write(`\n*** SKIPPED: ${what} (${problem}); ${fix}. ***\n`);
  return { python: undefined, describeIf: describe.skip };
}

/** Runs a Python peer script; throws with its stderr when it fails. Returns its stdout. */
export function runPython(python: string, args: string[]): string {
  const run = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) {
    throw new Error(`${args[0]} failed (exit ${run.status}): ${(run.stderr || run.error?.message || '').slice(-2000)}`);
  }
  return run.stdout;
}

/** One bundled daily series (data/sample/<SYMBOL>_1d.csv), parsed: columns as the CSV parser returns them. */
export interface BundledSeries extends ParsedBars {
  symbol: string;
}

/** Every bundled daily series in data/sample, in file-name order. Throws when a file has rejected rows or none exist. */
export function bundledSeries(files: string[]): BundledSeries[] {
  if (files.length === 0) throw new Error('no bundled series in data/sample');
  return files.map((f) => {
    const parsed = parseBarsCsv(readFileSync(join(REPO, 'data', 'sample', f), 'utf8'));
    if (parsed.rejects.length > 0) throw new Error(`${f}: ${parsed.rejects.length} rejected rows`);
    return { ...parsed.bars, symbol: f.replace(/_1d\.csv$/, '') };
  });
}
