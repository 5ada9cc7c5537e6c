/**
 * Writes docs/asyncapi.json from the contracts (`npm run asyncapi:write`). The committed copy is checked against
 * buildAsyncApiDocument() by test/asyncapi-committed.spec.ts, so run this after changing a contract.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAsyncApiDocument } from '@strata/catalog-contracts';

/** Serialised form of the document, exactly as committed (2-space JSON, trailing newline). */
export function renderAsyncApi(): string {
  return `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  const file = join(__dirname, '..', 'docs', 'asyncapi.json');
  writeFileSync(file, renderAsyncApi());
  process.stdout.write(`wrote ${file}\n`);
}
