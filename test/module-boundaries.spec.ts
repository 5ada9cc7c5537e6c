/**
 * The library constraints of eslint.config.mjs, checked on small fixture sources: ESLint (the `ESLint` class with the
 * repository's own config) lints each fixture as if it were a file of the named library, and the spec expects the
 * `@nx/enforce-module-boundaries` error of each forbidden import and none for an allowed one.
 *
 * ESLint loads its flat config (`eslint.config.mjs`) with a dynamic `import()`, which Jest's CommonJS runtime cannot
 * run, so the fixtures are linted in one child Node process.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const RULE = '@nx/enforce-module-boundaries';
/** File name of every fixture (the file does not exist; ESLint lints the given text as if it did). */
const FIXTURE = 'boundary-fixture.ts';

interface Fixture {
  /** Path of the (virtual) file, relative to the repository root: it decides the library, hence the tags. */
  file: string;
  code: string;
}

interface LintMessage {
  ruleId: string | null;
  severity: number;
  message: string;
}

/** Lints every fixture with `ESLint#lintText` in a child process; returns the messages of each, in order. */
function lint(fixtures: readonly Fixture[]): LintMessage[][] {
  const script = `
    const { ESLint } = require('eslint');
    const fixtures = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    (async () => {
      // The fixtures exist only as text: the project service types them with its default project.
      const eslint = new ESLint({
        cwd: ${JSON.stringify(ROOT)},
        overrideConfig: { files: ['**/${FIXTURE}'], languageOptions: { parserOptions: { projectService: { allowDefaultProject: ['libs/*/*/src/${FIXTURE}'] } } } },
      });
      const out = [];
      for (const f of fixtures) {
        const [r] = await eslint.lintText(f.code, { filePath: require('node:path').join(${JSON.stringify(ROOT)}, f.file) });
        out.push(r.messages.map((m) => ({ ruleId: m.ruleId, severity: m.severity, message: m.message })));
      }
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    input: JSON.stringify(fixtures),
    encoding: 'utf8',
    maxBuffer: 16 << 20,
  });
  if (r.status !== 0) throw new Error(`eslint child process failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as LintMessage[][];
}

const boundaryErrors = (messages: LintMessage[]): LintMessage[] =>
  messages.filter((m) => m.ruleId === RULE && m.severity === 2);

describe('library constraints (eslint.config.mjs)', () => {
  const fixtures: Fixture[] = [
    // A feature library never imports another capability's feature library.
    {
      file: `libs/signals/feature/src/${FIXTURE}`,
      code: "import { FeaturesModule } from '@strata/features-feature';\nexport const m = FeaturesModule;\n",
    },
    // Domain code stays pure: no DuckDB.
    {
      file: `libs/backtests/domain/src/${FIXTURE}`,
      code: "import { DuckDBInstance } from '@duckdb/node-api';\nexport const d = DuckDBInstance;\n",
    },
    // Contracts are zod and TypeScript only: no Nest.
    {
      file: `libs/marketdata/contracts/src/${FIXTURE}`,
      code: "import { Injectable } from '@nestjs/common';\nexport const i = Injectable;\n",
    },
    // Allowed: a feature library reads another capability through its contracts (a port and its token).
    {
      file: `libs/signals/feature/src/${FIXTURE}`,
      code: "import { FEATURE_READER } from '@strata/features-contracts';\nexport const t = FEATURE_READER;\n",
    },
  ];
  let results: LintMessage[][];

  beforeAll(() => {
    results = lint(fixtures);
  }, 120_000);

  it('refuses a feature library importing another capability’s feature library', () => {
    const errors = boundaryErrors(results[0]);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('scope:signals');
  });

  it('refuses a domain library importing @duckdb/node-api', () => {
    const errors = boundaryErrors(results[1]);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('@duckdb/node-api');
  });

  it('refuses a contracts library importing @nestjs/common', () => {
    const errors = boundaryErrors(results[2]);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain('@nestjs/common');
  });

  it('accepts a feature library importing another capability’s contracts', () => {
    expect(results[3].filter((m) => m.severity === 2)).toEqual([]);
  });
});
