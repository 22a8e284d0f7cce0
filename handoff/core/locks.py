"""Locks that hold across workers: in the database transaction when one suffices, in Redis when one does not.

Which to use:
- Work that fits in one transaction takes `xact_lock`: on PostgreSQL a transaction-level advisory lock
  (`pg_advisory_xact_lock(hashtext(key))`), released by the commit or rollback, so a crashed worker never
  leaves it behind and no Redis is needed. On SQLite a writing transaction already holds the database's
  single write lock from BEGIN (IMMEDIATE), which serializes every worker, so nothing more is taken.
- Work that spans several transactions and outside calls (a voice call's turn: Rasa is asked in between)
  takes a `KeyedLock`: a per-process lock always (the fast path, and all a single worker needs), plus a
  Redis lock (redis-py's public `Lock`) when REDIS_URL is set. A pooled database connection held for the
  whole span would do the same on PostgreSQL, but could starve the pool under load.
"""
from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from sqlalchemy import String, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

STRIPES = 64
LOCK_PREFIX = "frontdoor:lock"
_ADVISORY = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


async def xact_lock(session: AsyncSession, key: str) -> None:
    """Holds `key` until the session's transaction ends, on every worker (PostgreSQL; see the module docstring)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_ADVISORY, {"key": key})


_ADVISORY_MANY = text("SELECT count(pg_advisory_xact_lock(hashtext(key))) FROM unnest(:keys) AS key").bindparams(
    bindparam("keys", type_=ARRAY(String)))
MANY_AT_ONCE = 1000


async def xact_locks(session: AsyncSession, keys: Iterable[str]) -> None:
    """`xact_lock` on many keys, in sorted order, a thousand per statement (a 10,000-row import's identities)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), MANY_AT_ONCE):
        await session.execute(_ADVISORY_MANY, {"keys": ordered[start:start + MANY_AT_ONCE]})


class KeyedLock:
    """One holder per key at a time: in this process, and across workers through Redis when it is configured."""

    def __init__(self, name: str, redis: Redis | None, *, lease_seconds: float = 60.0) -> None:
        self.name = name
        self.redis = redis
        # A worker that dies holding the Redis lock frees it when the lease lapses; a live holder that outruns it
        # is only logged by redis-py (raise_on_release_error=False), as its work is then done.
        self.lease_seconds = lease_seconds
        self._stripes = [asyncio.Lock() for _ in range(STRIPES)]  # bounded memory, whatever the number of keys

    @classmethod
    def for_url(cls, name: str, redis_url: str | None, *, lease_seconds: float = 60.0) -> KeyedLock:
        """Process-only without REDIS_URL (the embedded single worker), shared through Redis with it."""
        return cls(name, Redis.from_url(redis_url) if redis_url else None, lease_seconds=lease_seconds)

    def _stripe(self, key: str) -> asyncio.Lock:
        return self._stripes[zlib.crc32(key.encode()) % STRIPES]

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Waits for the key, runs the block, frees it; a second waiter in this process waits here, not on Redis."""
        async with self._stripe(key):
            if self.redis is None:
                yield
                return
            lock = self.redis.lock(f"{LOCK_PREFIX}:{self.name}:{key}", timeout=self.lease_seconds,
                                   thread_local=False, raise_on_release_error=False)
            async with lock:
                yield

    async def aclose(self) -> None:
        """Closes the Redis connections, if any."""
        if self.redis is not None:
            await self.redis.aclose()
