/** DataQualityEvent lifecycle and the DataQualitySummary figures, against the embedded store and hand-computed values. */
import { type DocumentStore } from '@strata/platform-contracts';
import { DuckDbBarQualityFlagsStore } from '@strata/dataquality-infra-duckdb';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { openDuckDb, type DuckDb } from '@strata/platform-duckdb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DataQualityEventsRepository,
  openEventTriage,
  SEVERITY_RANK,
  type DataQualityEventDoc,
} from './data-quality-events.repository';
import { DataQualityService, drivingDetector, IllegalTransitionError } from './data-quality.service';

const T0 = Date.UTC(2025, 0, 10, 12);
function doc(id: string, over: Partial<DataQualityEventDoc>): DataQualityEventDoc & { id: string } {
  const severity = over.severity ?? 'HIGH';
  return {
    id,
    symbol: 'ACME',
    timeframe: '1d',
    barTs: '2025-01-09T00:00:00.000Z',
    kind: 'spike',
    scores: { rules: 0.9, isolation_forest: 0.6, forecast_residual: 0.7 },
    combined: 0.9,
    severity,
    severityRank: SEVERITY_RANK[severity],
    reason: 'test',
    modelVersions: { rules: 'r' },
    proposedSplit: null,
    ingestionId: null,
    detectedAt: new Date(T0).toISOString(),
    ...openEventTriage(),
    published: true,
    ...over,
  };
}

describe('DataQualityService', () => {
  let dir: string;
  let db: DuckDb;
  let store: DocumentStore;
  let repo: DataQualityEventsRepository;
  let flags: DuckDbBarQualityFlagsStore;
  let svc: DataQualityService;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-dqs-'));
    db = await openDuckDb(join(dir, 'x.duckdb'));
    store = await DuckDbDocumentStore.open(join(dir, 'x.duckdb'));
    repo = new DataQualityEventsRepository(store);
    flags = new DuckDbBarQualityFlagsStore(db);
    svc = new DataQualityService(repo, flags);
    await store.ready();
  });
  afterEach(async () => {
    await store.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('open → acknowledged → resolved, with who, when and notes; illegal transitions throw; flags follow', async () => {
    await repo.insert(doc('e1', {}));
    await flags.upsert([
      {
        symbol: 'ACME',
        timeframe: '1d',
        ts: Date.parse('2025-01-09'),
        kind: 'spike',
        eventId: 'e1',
        severity: 'HIGH',
        status: 'open',
      },
    ]);
    const actor = { keyId: 'key_0123456789ab', role: 'operator' };
    const a = await svc.acknowledge('e1', actor, 'on it');
    expect(a).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: actor,
      acknowledgeNote: 'on it',
      resolvedAt: null,
    });
    await expect(svc.acknowledge('e1', actor)).rejects.toBeInstanceOf(IllegalTransitionError);
    expect((await flags.read({ symbol: 'ACME', timeframe: '1d' }))[0].status).toBe('acknowledged');
    const r = await svc.resolve('e1', actor);
    expect(r).toMatchObject({ status: 'resolved', resolvedBy: actor, resolveNote: null, acknowledgeNote: 'on it' });
    await expect(svc.resolve('e1', actor)).rejects.toThrow('cannot resolve data-quality event e1: it is resolved');
    await expect(svc.acknowledge('e1', actor)).rejects.toThrow('it is resolved');
    expect((await flags.read({ symbol: 'ACME', timeframe: '1d' }))[0].status).toBe('resolved');
    await repo.insert(doc('e2', {}));
    expect(await svc.resolve('e2', actor)).toMatchObject({ status: 'resolved', acknowledgedAt: null }); // open → resolved directly
    await expect(svc.get('nope')).rejects.toThrow('no data-quality event nope');
  });

  it('summarises the detection window: counts, driving detector, mean time to acknowledge', async () => {
    const at = (ms: number) => new Date(T0 + ms).toISOString();
    await repo.insert(
      doc('a', { severity: 'CRITICAL', kind: 'bad_tick', status: 'acknowledged', acknowledgedAt: at(60_000) }),
    ); // 60 s
    await repo.insert(
      doc('b', {
        symbol: 'BETA',
        severity: 'LOW',
        kind: 'outlier',
        scores: { rules: null, isolation_forest: 0.8, forecast_residual: 0.3 },
        detectedAt: at(1000),
        status: 'resolved',
        acknowledgedAt: at(181_000),
        resolvedAt: at(200_000),
      }),
    ); // 180 s
    await repo.insert(
      doc('c', {
        severity: 'MEDIUM',
        kind: 'volume_burst',
        scores: { rules: null, isolation_forest: 0.55, forecast_residual: 0.9 },
        detectedAt: at(2000),
      }),
    );
    await repo.insert(doc('d', { detectedAt: at(3000), status: 'resolved', resolvedAt: at(5000) })); // resolved without ack
    await repo.insert(doc('old', { detectedAt: at(-10 * 86_400_000) })); // outside the window
    const s = await svc.summary({ from: T0 - 1000, to: T0 + 10_000, recent: 2 });
    expect(s.total).toBe(4);
    expect(s.recentAlerts.map((e) => e.id)).toEqual(['d', 'c']);
    expect(s.bySeverity).toEqual({ LOW: 1, MEDIUM: 1, HIGH: 1, CRITICAL: 1 });
    expect(s.byStatus).toEqual({ open: 1, acknowledged: 1, resolved: 2 });
    expect(s.bySymbol).toEqual([
      { symbol: 'ACME', count: 3 },
      { symbol: 'BETA', count: 1 },
    ]);
    expect(s.byKind).toEqual({ bad_tick: 1, outlier: 1, volume_burst: 1, spike: 1 });
    expect(s.byDetector).toEqual({ rules: 2, isolation_forest: 1, forecast_residual: 1 });
    expect(s.meanTimeToAcknowledgeMs).toBe((60_000 + 180_000) / 2);
    expect(s.acknowledgedCount).toBe(2);
    // Default window: the 7 days before `to` (now).
    const def = await svc.summary({ recent: 0 }, T0 + 10_000);
    expect(def.window).toEqual({
      from: new Date(T0 + 10_000 - 7 * 86_400_000).toISOString(),
      to: new Date(T0 + 10_000).toISOString(),
    });
    expect(def.total).toBe(4);
  });

  it('lists with filters on bar time, severity (exact and minimum), status and kind', async () => {
    await repo.insert(doc('x1', { barTs: '2025-01-02T00:00:00.000Z', severity: 'LOW' }));
    await repo.insert(doc('x2', { barTs: '2025-01-03T00:00:00.000Z', severity: 'HIGH', kind: 'gap' }));
    await repo.insert(doc('x3', { barTs: '2025-01-04T00:00:00.000Z', severity: 'CRITICAL', status: 'resolved' }));
    const ids = async (q: Parameters<DataQualityService['list']>[0]) => (await svc.list(q)).items.map((e) => e.id);
    expect(await ids({ limit: 10 })).toEqual(['x3', 'x2', 'x1']);
    expect(await ids({ limit: 10, minSeverity: 'HIGH' })).toEqual(['x3', 'x2']);
    expect(await ids({ limit: 10, severity: 'HIGH' })).toEqual(['x2']);
    expect(await ids({ limit: 10, status: 'resolved' })).toEqual(['x3']);
    expect(await ids({ limit: 10, kind: 'gap' })).toEqual(['x2']);
    expect(await ids({ limit: 10, from: Date.parse('2025-01-03'), to: Date.parse('2025-01-03') })).toEqual(['x2']);
    const p1 = await svc.list({ limit: 2 });
    expect((await svc.list({ limit: 2, cursor: p1.nextCursor! })).items.map((e) => e.id)).toEqual(['x1']);
  });

  it('drivingDetector takes the highest score, ties in detector order', () => {
    expect(drivingDetector({ rules: 0.5, isolation_forest: 0.5, forecast_residual: 0.4 })).toBe('rules');
    expect(drivingDetector({ rules: null, isolation_forest: 0.2, forecast_residual: 0.4 })).toBe('forecast_residual');
    expect(drivingDetector({ rules: null, isolation_forest: null, forecast_residual: null })).toBe('rules');
  });
});
