/** Market data over NATS: the MarketDataReader bus adapter (Arrow IPC replies, Object Store snapshots) and its responder. */
export {};
