import { z } from 'zod';
import { EnvelopeSchema } from '@strata/platform-contracts';
import { compiledSchema } from './compiled-schema';

const Tick = z.object({
  symbol: z.string().min(1).max(32),
  seq: z.number().int().nonnegative(),
  price: z.number().positive(),
  side: z.enum(['buy', 'sell']),
  note: z.string().optional(),
  venue: z.string().nullable(),
  tags: z.array(z.string()).max(3),
});

describe('compiledSchema', () => {
  it('is built once per schema', () => {
    expect(compiledSchema(Tick)).toBe(compiledSchema(Tick));
  });

  const valid: unknown[] = [
    { symbol: 'AAPL', seq: 0, price: 1.5, side: 'buy', venue: null, tags: [] },
    { symbol: 'A', seq: 9007199254740991, price: 1e-9, side: 'sell', note: 'x', venue: 'XNAS', tags: ['a', 'b', 'c'] },
    { symbol: 'AAPL', seq: 1, price: 2, side: 'buy', venue: null, tags: [], extra: 'stripped' },
    { symbol: 'AAPL', seq: 1, price: 2, side: 'buy', note: undefined, venue: null, tags: [] },
  ];
  const invalid: unknown[] = [
    null,
    [],
    'AAPL',
    { symbol: '', seq: 0, price: 1, side: 'buy', venue: null, tags: [] },
    { symbol: 'x'.repeat(33), seq: 0, price: 1, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: -1, price: 1, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 1.5, price: 1, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 2 ** 53, price: 1, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 0, price: 0, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 0, price: Infinity, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 0, price: NaN, side: 'buy', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 0, price: 1, side: 'hold', venue: null, tags: [] },
    { symbol: 'AAPL', seq: 0, price: 1, side: 'buy', tags: [] },
    { symbol: 'AAPL', seq: 0, price: 1, side: 'buy', venue: null, tags: ['a', 'b', 'c', 'd'] },
    { symbol: 'AAPL', seq: 0, price: 1, side: 'buy', venue: null, tags: [1] },
    { symbol: 'AAPL', seq: '0', price: 1, side: 'buy', venue: null, tags: [] },
  ];

  it.each(valid.map((v, i) => [i, v]))(
    'accepts what the schema accepts, with the same output (valid #%i)',
    (_i, input) => {
      const expected = Tick.safeParse(input);
      const got = compiledSchema(Tick).safeParse(input);
      expect(expected.success).toBe(true);
      expect(got.success).toBe(true);
      expect(got.data).toStrictEqual(expected.data);
      // A fresh copy: unknown keys stripped, the caller's object untouched.
      expect(got.data).not.toBe(input);
      expect(Object.keys(got.data!)).toEqual(Object.keys(expected.data!));
    },
  );

  it.each(invalid.map((v, i) => [i, v]))(
    'rejects what the schema rejects, with the same issues (invalid #%i)',
    (_i, input) => {
      const expected = Tick.safeParse(input);
      const got = compiledSchema(Tick).safeParse(input);
      expect(expected.success).toBe(false);
      expect(got.success).toBe(false);
      expect(got.error!.issues).toEqual(expected.error!.issues);
    },
  );

  it('checks envelopes like EnvelopeSchema, ISO timestamps included', () => {
    const env = {
      id: 'a',
      type: 't.evt.x.y.v1',
      version: 1,
      occurredAt: '2026-01-02T03:04:05.678Z',
      producer: 'p',
      correlationId: 'a',
      causationId: null,
      data: { k: 1 },
    };
    expect(compiledSchema(EnvelopeSchema).safeParse(env)).toEqual(EnvelopeSchema.safeParse(env));
    for (const bad of [
      { ...env, occurredAt: '2026-01-02 03:04' },
      { ...env, version: 0 },
      { ...env, causationId: '' },
      (({ data: _d, ...rest }) => rest)(env),
    ]) {
      const want = EnvelopeSchema.safeParse(bad);
      expect(want.success).toBe(false);
      expect(compiledSchema(EnvelopeSchema).safeParse(bad)).toEqual(want);
    }
  });
});
