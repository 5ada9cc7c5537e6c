import { DecimalStatus, decimalStatus, parseDecimal } from './decimal';

const p = (t: string) => [parseDecimal(t, 0, t.length), decimalStatus] as const;

describe('parseDecimal', () => {
  it('equals Number() bit for bit on typical and edge literals', () => {
    const cases = [
      '0',
      '1',
      '-1',
      '+2.5',
      '97.31',
      '3.976563',
      '0.1',
      '0.3',
      '1.750000',
      '.5',
      '5.',
      '123456789012345',
      '1234567890123456789',
      '0.000001234567890123456',
      '1e-7',
      '2.5E+3',
      '9007199254740993',
      '1.7976931348623157e308',
      '5e-324',
      '4.9406564584124654e-324',
      '0.30000000000000004',
      '100000000000000000000000',
      '1e22',
      '1e23',
      '8.589973e9',
      '41721600',
      '0.05655554',
    ];
    for (const c of cases) {
      const [v, st] = p(c);
      expect(st).toBe(DecimalStatus.Ok);
      expect(Object.is(v, Number(c))).toBe(true);
    }
  });

  it('equals Number() on 20,000 random decimal strings', () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 20000; i++) {
      const int = Math.floor(rnd() * 10 ** Math.floor(rnd() * 9));
      const fracDigits = Math.floor(rnd() * 12);
      let frac = '';
      for (let k = 0; k < fracDigits; k++) frac += Math.floor(rnd() * 10);
      const t = `${rnd() < 0.1 ? '-' : ''}${int}${frac ? `.${frac}` : ''}${rnd() < 0.1 ? `e${Math.floor(rnd() * 40) - 20}` : ''}`;
      const [v, st] = p(t);
      expect(st).toBe(DecimalStatus.Ok);
      if (!Object.is(v, Number(t) === 0 ? 0 : Number(t))) throw new Error(`${t}: ${v} != ${Number(t)}`);
    }
  });

  it('equals Number() on 100,000 long, exponent and near-halfway literals (16–25 digits, exponents ±350)', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const digits = (n: number) => {
      let t = '';
      for (let k = 0; k < n; k++) t += Math.floor(rnd() * 10);
      return t;
    };
    for (let i = 0; i < 100000; i++) {
      const mode = i % 4;
      let t: string;
      if (mode === 0)
        t = String(Math.exp((rnd() - 0.5) * 1400) * (1 + rnd())); // shortest round-trip form, e.g. 4.036279144774813e+28
      else if (mode === 1)
        t = (Math.exp(rnd() * 110) * (1 + rnd())).toFixed(Math.floor(rnd() * 6)); // toFixed of large prices
      else if (mode === 2)
        t = `${digits(1 + Math.floor(rnd() * 25))}.${digits(Math.floor(rnd() * 25))}e${Math.floor(rnd() * 700) - 350}`;
      else {
        // 17 digits of a double then a 5 (± a little): the exact value sits at or next to a rounding midpoint.
        const [m, e] = Math.exp((rnd() - 0.5) * 1300)
          .toExponential(16)
          .split('e');
        t = `${m}${rnd() < 0.5 ? '5' : '49999'}${'0'.repeat(Math.floor(rnd() * 5))}${rnd() < 0.3 ? '1' : ''}e${e}`;
      }
      if (rnd() < 0.2) t = `-${t}`;
      const ref = Number(t);
      const [v, st] = p(t);
      if (!Number.isFinite(ref)) {
        expect([t, st]).toEqual([t, DecimalStatus.NonFinite]);
        continue;
      }
      if (st !== DecimalStatus.Ok || !Object.is(v, ref === 0 ? 0 : ref)) throw new Error(`${t}: ${v} != ${ref}`);
    }
  });

  it('normalises -0 to +0', () => {
    expect(Object.is(p('-0')[0], 0)).toBe(true);
    expect(Object.is(p('-0.000')[0], 0)).toBe(true);
  });

  it('flags non-finite literals and overflow', () => {
    for (const t of ['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '+INF', '1e400', '-1e999'])
      expect(p(t)[1]).toBe(DecimalStatus.NonFinite);
    expect(p('-inf')[0]).toBe(-Infinity);
  });

  it('flags text that is not a decimal literal', () => {
    for (const t of ['', '-', '.', 'abc', '1.2.3', '1e', '1e+', '0x10', '1,5', '1 2', '12a', 'e5', '--1', 'infinit']) {
      expect([t, p(t)[1]]).toEqual([t, DecimalStatus.Unparsable]);
    }
  });
});
