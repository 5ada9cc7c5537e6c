/**
 * Contract tests of the {@link IngestionLog} port, run against every adapter (in-memory, document store on DuckDB,
 * document store on MongoDB/FerretDB). Call inside a `describe`.
 */
import {
  type IngestResult,
  type RejectedRow,
  DuplicateIngestionError,
  type IngestionLog,
  type IngestionRecord,
} from '@strata/marketdata-contracts';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

function rec(id: string, status: IngestResult['status'], over: Partial<IngestionRecord> = {}): IngestionRecord {
  return {
    id,
    status,
    symbol: 'SPY',
    timeframe: '1d',
    contentHash: HASH_A,
    accepted: status === 'completed' ? 10 : 0,
    rejected: 1,
    rejects: [{ line: 3, reason: 'high_below_low', message: 'high 9 < low 10' }],
    gaps: [{ after: '2024-01-05T00:00:00.000Z', before: '2024-01-09T00:00:00.000Z', missingBars: 1 }],
    from: '2024-01-02T00:00:00.000Z',
    to: '2024-01-16T00:00:00.000Z',
    recordedAt: '2024-02-01T00:00:00.000Z',
    requestedBy: 'key_abc',
    correlationId: 'corr-1',
    ...over,
  };
}

/** Registers the contract tests; `open` returns a fresh, empty log for each test. */
export function ingestionLogConformance(open: () => Promise<IngestionLog>): void {
  let log: IngestionLog;
  beforeEach(async () => {
    log = await open();
  });

  it('stores a record and returns it unchanged by id', async () => {
    const r = rec('ing-1', 'completed');
    await log.record(r);
    expect(await log.get('ing-1')).toEqual(r);
    expect(await log.get('nope')).toBeUndefined();
  });

  it('finds the completed record of a symbol, timeframe and content hash; nothing else', async () => {
    await log.record(rec('ing-1', 'completed'));
    await log.record(rec('ing-2', 'failed', { contentHash: HASH_B, error: 'boom' }));
    expect((await log.findCompletedByContentHash('SPY', '1d', HASH_A))?.id).toBe('ing-1');
    expect(await log.findCompletedByContentHash('SPY', '1d', HASH_B)).toBeUndefined();
    expect(await log.findCompletedByContentHash('SPY', '1h', HASH_A)).toBeUndefined();
    expect(await log.findCompletedByContentHash('QQQ', '1d', HASH_A)).toBeUndefined();
  });

  it('refuses a second completed batch with the same key, naming the first; other symbols/timeframes are distinct', async () => {
    await log.record(rec('ing-1', 'completed'));
    const err = await log.record(rec('ing-2', 'completed')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateIngestionError);
    expect((err as DuplicateIngestionError).existingId).toBe('ing-1');
    expect(await log.get('ing-2')).toBeUndefined();
    await log.record(rec('ing-3', 'completed', { symbol: 'QQQ' }));
    await log.record(rec('ing-4', 'completed', { timeframe: '1h' }));
  });

  it('never unique-checks duplicate and failed records; a duplicate may reuse the id of a refused completed record', async () => {
    await log.record(rec('ing-1', 'completed'));
    await log.record(rec('ing-2', 'duplicate', { duplicateOf: 'ing-1' }));
    await log.record(rec('ing-3', 'duplicate', { duplicateOf: 'ing-1' }));
    await log.record(rec('ing-4', 'failed', { error: 'x' }));
    await log.record(rec('ing-5', 'failed', { error: 'y' }));
    await expect(log.record(rec('ing-6', 'completed'))).rejects.toBeInstanceOf(DuplicateIngestionError);
    // What IngestBarsUseCase does after DuplicateIngestionError: record the same id as a duplicate.
    await log.record(rec('ing-6', 'duplicate', { duplicateOf: 'ing-1' }));
    expect(await log.get('ing-6')).toMatchObject({ status: 'duplicate', duplicateOf: 'ing-1' });
  });

  it('refuses an id recorded already', async () => {
    await log.record(rec('ing-1', 'failed'));
    await expect(log.record(rec('ing-1', 'failed'))).rejects.toThrow(/recorded already/);
  });

  it('of 10 concurrent completed records of one batch exactly one wins', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => log.record(rec(`race-${i}`, 'completed'))),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [`race-${i}`] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DuplicateIngestionError);
    expect((await log.findCompletedByContentHash('SPY', '1d', HASH_A))?.id).toBe(won[0]);
  });

  it('keeps every rejected row of a large file, in file order', async () => {
    const rejects: RejectedRow[] = Array.from({ length: 12_345 }, (_, i) => ({
      line: i + 2,
      reason: 'non_finite',
      message: `row ${i + 2}: close is NaN`,
    }));
    await log.record(rec('big', 'failed', { rejected: rejects.length, rejects, error: 'no valid rows' }));
    const back = await log.get('big');
    expect(back?.rejects).toHaveLength(12_345);
    expect(back?.rejects).toEqual(rejects);
  });
}
