/** Test helpers of the market-data DuckDB adapters (never imported by production code): Parquet equivalence cases. */
export * from './parquet-equivalence.cases';
