/** Market data over NATS: the MarketDataReader bus adapter (Arrow IPC replies, Object Store snapshots) and its responder. */
export * from './arrow-windows.codec';
export * from './snapshot.cache';
export * from './series-change.tracker';
export * from './market-data-read.responder';
export * from './nats-market-data.reader';
export * from './consumer-side.adapters';
export * from './remote-market-data';
