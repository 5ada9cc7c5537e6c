import {
  ExecutionSettingsSchema,
  StrategyDefinitionV1Schema,
  type ExecutionSettings,
  type StrategyDefinition,
  type StrategyDefinitionInput,
} from '@strata/backtests-contracts';
import { readBarsCsv } from '@strata/marketdata-domain';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SymbolBars } from '../backtest-data';
import type { SignalSource, SymbolSignals } from '../signals';

/** Test fixtures of the backtest engine. */

/** One bar as a row: [isoDate, open, high, low, close, volume]. */
export type BarRow = [string, number, number, number, number, number];

/** Bars of one symbol from rows. */
export function barsOf(symbol: string, rows: BarRow[]): SymbolBars {
  const col = (k: number) => Float64Array.from(rows.map((r) => r[k] as number));
  return {
    symbol,
    ts: Float64Array.from(rows.map((r) => Date.parse(`${r[0]}T00:00:00Z`))),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    volume: col(5),
  };
}

/** Signals from bar indices: `{ entryLong: [0], exitLong: [2] }`. */
export function signalsAt(n: number, at: Partial<Record<keyof SymbolSignals, number[]>>): SymbolSignals {
  const mk = (idx?: number[]) => {
    if (!idx) return null;
    const a = new Uint8Array(n);
    for (const i of idx) a[i] = 1;
    return a;
  };
  return {
    entryLong: mk(at.entryLong),
    exitLong: mk(at.exitLong),
    entryShort: mk(at.entryShort),
    exitShort: mk(at.exitShort),
  };
}

/** A signal source returning fixed signals. */
export function fixedSignals(...s: SymbolSignals[]): SignalSource {
  return () => s;
}

/** A definition (defaults applied) for tests driving the engine with fixed signals. */
export function definition(
  partial: Partial<StrategyDefinitionInput> & { symbols?: string[] } = {},
): StrategyDefinition {
  const { symbols, ...rest } = partial;
  return StrategyDefinitionV1Schema.parse({
    universe: { symbols: symbols ?? ['AAA'], timeframe: '1d', adjust: 'raw' },
    entry: { long: { cmp: 'gt', left: { bar: 'close' }, right: { const: 0 } } },
    sizing: { kind: 'fixed_notional', notional: 10_000 },
    ...rest,
  });
}

/** Execution settings with defaults. */
export function execution(partial: Record<string, unknown> = {}): ExecutionSettings {
  return ExecutionSettingsSchema.parse(partial);
}

/** A bundled sample series (`data/sample/<SYMBOL>_1d.csv`, raw prices). */
export function sampleBars(symbol: string): SymbolBars {
  const file = join(__dirname, '..', '..', '..', '..', '..', 'data', 'sample', `${symbol}_1d.csv`);
  const b = readBarsCsv(readFileSync(file), { timeframe: '1d' }).bars;
  return { symbol, ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume };
}
