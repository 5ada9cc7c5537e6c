/**
 * Lets compiled benchmarks (`dist/bench/*.js`) load `@strata/<lib>` from `dist/libs/<lib>/src/index.js`: the
 * workspace packages point at TypeScript sources (`main: src/index.ts`), which plain `node` cannot run. Falls back to
 * normal resolution when no compiled library is there (e.g. when run from source with @swc-node/register).
 */
import Module from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

type ResolveFilename = (this: unknown, request: string, parent: unknown, isMain: boolean, options?: unknown) => string;
const mod = Module as unknown as { _resolveFilename: ResolveFilename };
const distRoot = join(__dirname, '..', '..');
const original = mod._resolveFilename;

mod._resolveFilename = function (request, parent, isMain, options) {
  const m = /^@strata\/([a-z0-9-]+)$/.exec(request);
  if (m) {
    const compiled = join(distRoot, 'libs', m[1], 'src', 'index.js');
    if (existsSync(compiled)) return compiled;
  }
  return original.call(this, request, parent, isMain, options);
};
