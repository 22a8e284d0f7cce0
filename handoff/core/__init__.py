"""The channel-free core: customers, cases, the timeline, handoffs, routing, outbox. Imports no channel, FastAPI or Socket.IO."""
