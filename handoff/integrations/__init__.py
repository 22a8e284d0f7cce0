"""Other systems: per-integration API tokens with scopes, and the webhooks that tell them what happened."""
