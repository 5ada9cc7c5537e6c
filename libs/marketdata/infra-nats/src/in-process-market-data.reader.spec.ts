/**
 * The MarketDataReader conformance suite on the in-process adapter (`InProcessMarketDataReader` of
 * `@strata/marketdata-feature`, what the all-in-one and the marketdata process read through), on the bundled data.
 */
import { describeMarketDataReaderConformance, openMarketDataFixture, type MarketDataFixture } from './testing';

jest.setTimeout(120_000);

let fixture: MarketDataFixture | undefined;

describeMarketDataReaderConformance('in process', async () => {
  fixture = await openMarketDataFixture();
  return { reader: fixture.reader, fixture };
});

afterAll(async () => {
  await fixture?.close();
});
