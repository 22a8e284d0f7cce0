"""Real servers for tests: PostgreSQL, Redis, Rasa, the action server and the service itself."""
