"""Channel adapters: each knows one provider's wire format and nothing else does."""
