/** Test helpers of the market-data capability (never imported by production code): the ingestion-log conformance suite. */
export * from './ingestion-log.conformance';
