import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DOCUMENT_STORE, type DocumentStore } from '@strata/platform-contracts';
import { DuckDbDocumentStore, type DuckDbDocumentStoreOptions } from './duckdb-document.store';

@Injectable()
class DuckDbDocumentStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DOCUMENT_STORE) private readonly store: DocumentStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * Global `DOCUMENT_STORE` provider backed by the embedded DuckDB store (the default storage mode). The database is
 * the process's shared file, `duckDbPathFor(STRATA_DATA_DIR)`; it is released on application shutdown.
 */
@Module({})
export class DuckDbDocumentStoreModule {
  /** Opens `<path>` (e.g. `duckDbPathFor(config.STRATA_DATA_DIR)`, or `:memory:`). */
  static forRoot(opts: { path: string } & DuckDbDocumentStoreOptions): DynamicModule {
    const { path, ...storeOpts } = opts;
    return {
      module: DuckDbDocumentStoreModule,
      global: true,
      providers: [
        { provide: DOCUMENT_STORE, useFactory: () => DuckDbDocumentStore.open(path, storeOpts) },
        DuckDbDocumentStoreLifecycle,
      ],
      exports: [DOCUMENT_STORE],
    };
  }
}
