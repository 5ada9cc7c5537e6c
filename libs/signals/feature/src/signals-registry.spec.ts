import { type DocumentStore } from '@strata/platform-contracts';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NothingToRollBackError, SignalAliasesRepository } from './signal-aliases.repository';
import { SCORE_BATCH_ROWS, SignalScoresRepository } from './signal-scores.repository';

describe('signals registry documents (embedded store)', () => {
  let dir: string;
  let store: DocumentStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signals-reg-'));
    store = await DuckDbDocumentStore.open(join(dir, 'docs.duckdb'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('promote pushes the previous holder; rollback restores it; the history records every change', async () => {
    const aliases = new SignalAliasesRepository(store);
    await expect(aliases.rollback('champion')).rejects.toBeInstanceOf(NothingToRollBackError);
    await aliases.promote('champion', 'm1');
    await aliases.promote('champion', 'm2');
    await aliases.promote('champion', 'm2'); // re-promoting the holder does not stack it
    await aliases.promote('champion', 'm3');
    expect((await aliases.get('champion'))!.previous).toEqual(['m1', 'm2']);
    expect((await aliases.rollback('champion')).doc.modelId).toBe('m2');
    const { doc, change } = await aliases.rollback('champion');
    expect(doc.modelId).toBe('m1');
    expect(change).toMatchObject({ revision: 6, action: 'rollback', modelId: 'm1', previousModelId: 'm2' });
    await expect(aliases.rollback('champion')).rejects.toBeInstanceOf(NothingToRollBackError);
    expect(doc.history.map((h) => `${h.action}:${h.modelId}`)).toEqual([
      'promote:m1',
      'promote:m2',
      'promote:m2',
      'promote:m3',
      'rollback:m2',
      'rollback:m1',
    ]);
    expect(await aliases.get('challenger')).toBeNull();
  });

  it('concurrent promotes lose nothing (optimistic retry)', async () => {
    const aliases = new SignalAliasesRepository(store);
    await Promise.all(['a', 'b', 'c', 'd'].map((m) => aliases.promote('challenger', m)));
    const doc = (await aliases.get('challenger'))!;
    expect(doc.history).toHaveLength(4);
    expect(doc.history.map((h) => h.revision)).toEqual([1, 2, 3, 4]);
    expect(new Set([...doc.previous, doc.modelId])).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('stores scores in batches, idempotently; the latest pass wins where passes overlap', async () => {
    const scores = new SignalScoresRepository(store);
    const n = SCORE_BATCH_ROWS + 10;
    const ts = Float64Array.from({ length: n }, (_, i) => 1_000 + i * 60_000);
    const s = Float64Array.from({ length: n }, (_, i) => (i % 100 === 0 ? NaN : i / n));
    expect(
      await scores.write({
        modelId: 'm',
        symbol: 'SPY',
        timeframe: '1m',
        ts,
        score: s,
        key: 'pass1',
        scoredAt: '2024-01-01T00:00:00.000Z',
      }),
    ).toBe(n);
    expect(await scores.write({ modelId: 'm', symbol: 'SPY', timeframe: '1m', ts, score: s, key: 'pass1' })).toBe(0); // redelivery
    expect(await scores.batches.count()).toBe(2);
    expect(await scores.latest('m', 'SPY', '1m')).toEqual({
      ts: ts[n - 1],
      score: s[n - 1],
      scoredAt: '2024-01-01T00:00:00.000Z',
    });
    // A correction re-scores the last 3 bars.
    await scores.write({
      modelId: 'm',
      symbol: 'SPY',
      timeframe: '1m',
      ts: ts.subarray(n - 3),
      score: Float64Array.of(0.9, 0.8, 0.7),
      key: 'pass2',
      scoredAt: '2024-01-02T00:00:00.000Z',
    });
    expect(await scores.latest('m', 'SPY', '1m')).toEqual({
      ts: ts[n - 1],
      score: 0.7,
      scoredAt: '2024-01-02T00:00:00.000Z',
    });
    const read = await scores.read('m', 'SPY', '1m', ts[n - 5], ts[n - 1]);
    expect(read.map((r) => r.score)).toEqual([s[n - 5], s[n - 4], 0.9, 0.8, 0.7]);
    const all = await scores.read('m', 'SPY', '1m');
    expect(all).toHaveLength(n);
    expect(all[0].score).toBeNull(); // NaN (warm-up) is stored as null
    expect(await scores.latest('m', 'QQQ', '1m')).toBeNull();
  });
});
