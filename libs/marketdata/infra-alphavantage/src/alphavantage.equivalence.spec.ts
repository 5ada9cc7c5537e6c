/**
 * The Alpha Vantage JSON, decoded once into rows, gives the batch that commit 96d1b41 produced by rendering it as CSV
 * and parsing that (`testing/fixtures/equivalence.golden.json`: digests of every accepted bar and line, every reject's
 * line, reason and message, gaps and content hash), for the replay fixtures and for bodies with bad keys and values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateBars } from '@strata/marketdata-domain';
import { digestOf, type BatchDigest } from '@strata/marketdata-domain/testing';
import { parseDailyAdjusted, parseIntraday } from './alphavantage.parser';
import { alphaVantageCases } from './testing/equivalence.cases';

const GOLDEN: Record<string, BatchDigest> = JSON.parse(
  readFileSync(join(__dirname, 'testing/fixtures/equivalence.golden.json'), 'utf8'),
);

describe('Alpha Vantage JSON decoder + validateBars = CSV rendering + readBarsCsv of 96d1b41', () => {
  it.each(alphaVantageCases().map((c) => [c.name, c] as const))(
    '%s: same bars, rejects, gaps and content hash',
    (name, c) => {
      const s = c.kind === 'daily' ? parseDailyAdjusted(c.body) : parseIntraday(c.body, c.kind);
      expect(GOLDEN[name]).toBeDefined();
      expect(digestOf(() => s.batch)).toEqual(GOLDEN[name]);
      // The ingest validates the rows the source hands over: the same batch again.
      expect(digestOf(() => validateBars(s.rows, { timeframe: s.timeframe }))).toEqual(GOLDEN[name]);
    },
  );
});
