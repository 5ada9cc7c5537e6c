import { LocalDirectoryArtifactStore } from '@strata/platform-artifacts';
import { DuckDbDocumentStore } from '@strata/platform-document-store';
import { DuckDb, DUCKDB_MEMORY } from '@strata/platform-duckdb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactBacktestSeriesStore } from './artifact-backtest-series.store';
import { backtestSeriesStoreConformance } from './testing/backtest-series-store.conformance';

describe('ArtifactBacktestSeriesStore on a local directory and embedded documents (BacktestSeriesStore conformance)', () => {
  let dir: string;
  let db: DuckDb;
  let docs: DuckDbDocumentStore;
  backtestSeriesStoreConformance({
    async open() {
      dir = await mkdtemp(join(tmpdir(), 'series-'));
      db = await DuckDb.create(DUCKDB_MEMORY);
      docs = new DuckDbDocumentStore(db);
      return new ArtifactBacktestSeriesStore(new LocalDirectoryArtifactStore(dir), docs, { cacheEntries: 2 });
    },
    async dispose() {
      await docs.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
});
