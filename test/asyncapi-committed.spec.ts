import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAsyncApi } from '../scripts/write-asyncapi';

describe('docs/asyncapi.json', () => {
  it('is the document generated from the contracts (run `npm run asyncapi:write` after changing a contract)', () => {
    const committed = readFileSync(join(__dirname, '..', 'docs', 'asyncapi.json'), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(renderAsyncApi()));
    expect(committed).toBe(renderAsyncApi());
  });
});
