"""The channel-free core: customers, cases, the timeline, handoffs, routing, outbox.

It imports no channel, FastAPI or Socket.IO."""
