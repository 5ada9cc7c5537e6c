import { readBarsCsv } from './bars-csv.parser';
import { generateSyntheticSeries } from './synthetic.generator';
import { toIngestCsv } from './synthetic.csv';
import type { SyntheticConfig } from './synthetic.types';

/**
 * The generator's ground truth read through the real ingest parser of `@strata/marketdata-domain`: every invalid bad
 * tick is rejected on its line with the predicted reason, every other row is accepted, and the calendar gaps the ingest
 * reports are exactly the removed bars plus the rejected ones.
 */
describe('synthetic CSV through the ingest parser', () => {
  it.each([
    ['1d', 'nyse'],
    ['1m', '24x7'],
  ] as const)('%s bars on %s: rejects, accepted rows and gaps match the ground truth', (timeframe, calendar) => {
    const cfg: SyntheticConfig = {
      seed: `ingest-${timeframe}`,
      bars: 40_000,
      timeframe,
      calendar,
      anomalies: { rates: { spike: 0.004, gap: 0.004, stale: 0.002, bad_tick: 0.006, volume_burst: 0.004 } },
    };
    const s = generateSyntheticSeries(cfg);
    const batch = readBarsCsv(toIngestCsv(s, timeframe), { timeframe, calendar });
    const invalid = s.truth.events.filter((e) => e.kind === 'bad_tick' && e.invalidRow);
    expect(invalid.length).toBeGreaterThan(50);
    expect(batch.rejects.map((r) => [r.line, r.reason])).toEqual(invalid.map((e) => [e.line, e.expectedReject]));
    expect(batch.rowsRead).toBe(s.length);
    expect(batch.bars.length).toBe(s.length - invalid.length);
    // Accepted rows carry the exact doubles, on their own lines.
    let k = 0;
    let mismatches = 0;
    for (let i = 0; i < s.length; i++) {
      if (k < batch.bars.length && batch.bars.line[k] === i + 2) {
        if (batch.bars.ts[k] !== s.ts[i] || batch.bars.close[k] !== s.close[i] || batch.bars.volume[k] !== s.volume[i])
          mismatches++;
        k++;
      }
    }
    expect(k).toBe(batch.bars.length);
    expect(mismatches).toBe(0);
    // Calendar gaps = runs of calendar slots with no accepted bar: the bars a gap anomaly removed plus rejected bad
    // ticks. The slots come from the same config with anomalies off (the clean path and calendar are identical).
    const { anomalies: _off, ...cleanCfg } = cfg;
    const slots = generateSyntheticSeries(cleanCfg).ts;
    const accepted = new Set(Array.from(batch.bars.ts.subarray(0, batch.bars.length)));
    const expectedGaps: { after: string; before: string; missingBars: number }[] = [];
    let lastPresent = -1;
    for (let j = 0; j < slots.length; j++) {
      if (!accepted.has(slots[j])) continue;
      if (lastPresent >= 0 && j - lastPresent > 1) {
        expectedGaps.push({
          after: new Date(slots[lastPresent]).toISOString(),
          before: new Date(slots[j]).toISOString(),
          missingBars: j - lastPresent - 1,
        });
      }
      lastPresent = j;
    }
    expect(s.truth.events.filter((e) => e.kind === 'gap').length).toBeGreaterThan(50);
    expect(batch.gaps).toEqual(expectedGaps);
  });
});
