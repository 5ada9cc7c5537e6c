/**
 * deploy/Dockerfile and .dockerignore, checked statically: there is no Docker engine on this machine class, so the
 * image cannot be built here. The checks cover what a build would get wrong silently: stage references, the
 * non-root runtime, the APP argument reaching the command, npm settings (.npmrc) present before `npm ci`, and a
 * build context without node_modules, dist or .git.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './deploy-tools';

interface Instruction {
  op: string;
  args: string;
  line: number;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buf && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (!buf) start = i + 1;
    if (buf && line.trim().startsWith('#')) return;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      return;
    }
    buf += line;
    const m = buf.trim().match(/^(\S+)\s*(.*)$/s);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2], line: start });
    buf = '';
  });
  return out;
}

interface Stage {
  name: string;
  from: string;
  body: Instruction[];
}

function stages(ins: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const i of ins) {
    if (i.op === 'FROM') {
      const m = i.args.match(/^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i)!;
      out.push({ from: m[1], name: m[2] ?? String(out.length), body: [] });
    } else if (out.length) out[out.length - 1].body.push(i);
  }
  return out;
}

const dockerfile = fs.readFileSync(path.join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
const ins = instructions(dockerfile);
const st = stages(ins);
const runtime = st[st.length - 1];

describe('deploy/Dockerfile', () => {
  it('is multi-stage, every COPY --from and FROM naming an earlier stage or an image', () => {
    expect(st.length).toBeGreaterThanOrEqual(3);
    const seen = new Set<string>();
    for (const s of st) {
      for (const i of s.body.filter((x) => x.op === 'COPY' || x.op === 'RUN')) {
        const from = i.args.match(/--from=(\S+)/)?.[1];
        if (from) expect({ line: i.line, from, known: seen.has(from) }).toEqual({ line: i.line, from, known: true });
      }
      seen.add(s.name);
    }
    // The base image is one ARG, so every stage uses the same Node and glibc.
    const baseArg = ins.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(baseArg?.args).toMatch(/^NODE_IMAGE=node:20[.\w-]*-(bookworm|bullseye|trixie)-slim$/);
  });

  it('runs as a non-root user in the final stage, with code owned by root', () => {
    const users = runtime.body.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1].args).not.toMatch(/^(root|0)(:|$)/);
    for (const c of runtime.body.filter((i) => i.op === 'COPY' && i.args.includes('/app/')))
      expect(c.args).toContain('--chown=root:root');
  });

  it('takes the app by name (ARG APP in the build and runtime stages) and runs dist/apps/$APP/src/main.js', () => {
    const build = st.find((s) => s.name === 'build')!;
    expect(build.body.some((i) => i.op === 'ARG' && i.args.startsWith('APP'))).toBe(true);
    expect(runtime.body.some((i) => i.op === 'ARG' && i.args.startsWith('APP'))).toBe(true);
    expect(runtime.body.some((i) => i.op === 'ENV' && /APP=\$\{APP\}/.test(i.args))).toBe(true);
    const cmd = runtime.body.filter((i) => i.op === 'CMD').pop();
    expect(cmd?.args).toContain('dist/apps/${APP}/src/main.js');
    // `npm run build` (tsc + scripts/link-dist.js) makes "@strata/<lib>" resolvable from dist/, which is copied whole.
    expect(build.body.some((i) => i.op === 'RUN' && i.args.includes('npm run build'))).toBe(true);
    expect(runtime.body.some((i) => i.op === 'COPY' && /--from=build .*\/app\/dist \.\/dist$/.test(i.args))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.build).toContain(
      'scripts/link-dist.js',
    );
    // The build fails early, with a message, for an app that does not exist.
    expect(build.body.some((i) => i.op === 'RUN' && i.args.includes('apps/${APP}/src/main.ts'))).toBe(true);
  });

  it('reads .npmrc (onnxruntime-node-install=skip) before every npm ci', () => {
    expect(fs.readFileSync(path.join(ROOT, '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
    const manifests = st.find((s) => s.name === 'manifests')!;
    expect(manifests.body.some((i) => i.op === 'RUN' && /cp [^;&]*\.npmrc/.test(i.args))).toBe(true);
    for (const s of st) {
      const ciAt = s.body.findIndex((i) => i.op === 'RUN' && i.args.includes('npm ci'));
      if (ciAt < 0) continue;
      const copied = s.body.slice(0, ciAt).some((i) => i.op === 'COPY' && i.args.includes('--from=manifests'));
      expect({ stage: s.name, manifestsBeforeNpmCi: copied }).toEqual({ stage: s.name, manifestsBeforeNpmCi: true });
    }
    expect(st.find((s) => s.name === 'prod-deps')?.body.some((i) => i.args.includes('npm ci --omit=dev'))).toBe(true);
  });

  it('keeps the data directory writable for the node user and declares it a volume', () => {
    const env = runtime.body
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    const dataDir = env.match(/STRATA_DATA_DIR=(\S+)/)?.[1];
    expect(dataDir).toBeDefined();
    expect(runtime.body.some((i) => i.op === 'RUN' && i.args.includes(`chown node:node ${dataDir}`))).toBe(true);
    expect(runtime.body.some((i) => i.op === 'VOLUME' && i.args.includes(dataDir!))).toBe(true);
  });
});

describe('.dockerignore', () => {
  const lines = fs
    .readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps dependencies, build output, VCS data and local data out of the build context', () => {
    expect(lines).toEqual(expect.arrayContaining(['.git', '**/node_modules', '**/dist', 'data/*', '!data/sample']));
  });

  it('does not exclude what the build needs', () => {
    for (const needed of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.base.json',
      'tsconfig.build.json',
      'apps',
      'libs',
    ]) {
      expect(lines).not.toContain(needed);
    }
  });
});
