import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  currentReadmeBlock,
  keyFigures,
  metFlags,
  parseDocument,
  readmeBlock,
  renderDocument,
  summaryTable,
  withReadmeBlock,
  type BenchResult,
} from '../scripts/bench-report-doc';

const ROOT = resolve(__dirname, '..');
const read = (f: string): string => readFileSync(join(ROOT, f), 'utf8');

describe('README benchmark figures come from docs/benchmarks.md (npm run bench:report)', () => {
  it('the README block is exactly the one rendered from the JSON lines in docs/benchmarks.md', () => {
    const doc = parseDocument(read('docs/benchmarks.md'));
    expect(doc.meta).not.toBeNull();
    expect(doc.results.length).toBeGreaterThan(0);
    const block = currentReadmeBlock(read('README.md'));
    expect(block).not.toBeNull();
    expect(block).toBe(readmeBlock(doc.meta!, doc.results));
  });

  it("docs/benchmarks.md's own summary table matches its JSON lines", () => {
    const md = read('docs/benchmarks.md');
    const doc = parseDocument(md);
    expect(md).toContain(summaryTable(doc.results));
    expect(md).toBe(renderDocument(doc.meta!, doc.results));
  });

  it('records every bench:* and eval:* script of package.json', () => {
    const scripts = Object.keys(
      (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts,
    ).filter((s) => /^(bench|eval):/.test(s) && s !== 'bench:report');
    const recorded = parseDocument(read('docs/benchmarks.md')).results.map((r) => r.script);
    expect([...recorded].sort()).toEqual([...scripts].sort());
  });
});

describe('bench report rendering', () => {
  const r: BenchResult = {
    script: 'bench:bus',
    exitCode: 0,
    seconds: 12,
    json: {
      bench: 'bus',
      jetstream: { eventsPerSec: 14403 },
      jetstreamRaw: { best: 'inboxAckAll', inboxAckAll: { eventsPerSec: 15000 } },
      ratios: { jetstreamVsBestRaw: 0.9602 },
      targets: { jetstreamVsBestRaw: 0.7, jetstreamVsBestRawMet: true, inProcessEventsPerSecMet: false },
      nested: { x: { ratio: 0.5, met: false } },
    },
  };

  it('finds met flags at any depth and names them by path', () => {
    expect(metFlags(r.json)).toEqual([
      ['targets.jetstreamVsBestRawMet', true],
      ['targets.inProcessEventsPerSecMet', false],
      ['nested.x (0.5)', false],
    ]);
  });

  it('key figures resolve {best} and list the same-run ratios', () => {
    expect(keyFigures(r)).toEqual([
      'JetStream acked publish→handle events/s 14,403',
      'best raw client events/s 15,000',
      'jetstreamVsBestRaw 0.96×',
    ]);
  });

  it('a document round-trips through parseDocument, failures included', () => {
    const failed: BenchResult = {
      script: 'eval:x',
      exitCode: 1,
      seconds: 3,
      json: null,
      error: 'exit 1, no JSON line: boom',
    };
    const meta = { date: '2026-12-06T04:45:00.000Z', machine: 'test box', command: 'npm run bench:report' };
    const md = renderDocument(meta, [r, failed]);
    const back = parseDocument(md);
    expect(back.meta).toEqual(meta);
    expect(back.results).toEqual([r, failed]);
    expect(summaryTable(back.results)).toContain('| `eval:x` | no result: exit 1, no JSON line: boom | |');
  });

  it('a README without the block gets it at the end of the Benchmarks section; an edited block is replaced', () => {
    const meta = { date: 'd', machine: 'm', command: 'npm run bench:report' };
    const block = readmeBlock(meta, [r]);
    const readme = '# X\n\n## Benchmarks\n\nintro\n\n## Development\n\ntext\n';
    const once = withReadmeBlock(readme, block);
    expect(once).toBe(`# X\n\n## Benchmarks\n\nintro\n\n${block}\n\n## Development\n\ntext\n`);
    const edited = once.replace('14,403', '99,999');
    expect(currentReadmeBlock(edited)).not.toBe(block);
    expect(withReadmeBlock(edited, block)).toBe(once);
  });
});
