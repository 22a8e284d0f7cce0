"""`make cluster`: the reference production topology on one machine (PostgreSQL, Redis, several service workers,
several Rasa replicas, the action server, HAProxy in front), from Debian packages, under one supervisor."""
