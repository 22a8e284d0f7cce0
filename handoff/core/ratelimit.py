"""Rate limits counted in a shared storage (the `limits` library), so several workers enforce one count."""
from __future__ import annotations

import bisect
import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.storage.memory import Entry
from limits.aio.strategies import MovingWindowRateLimiter

KEY_PREFIX = "frontdoor:limits"


def limit_storage(redis_url: str | None) -> Storage:
    """Redis (through redis-py's asyncio client, already a dependency) when configured, else this process's memory.

    The memory storage drops a key once its last hit leaves the window, so it does not grow with visitors.
    """
    if redis_url:
        return RedisStorage(redis_url, implementation="redispy", key_prefix=KEY_PREFIX)
    return MemoryWindows()


class MemoryWindows(MemoryStorage):
    """The library's memory storage, its moving windows pruned by one synchronous sweep a second at most.

    Its own sweep ran after every hit over every key, each key through a thread (asyncio.to_thread): 6 % of a
    worker's CPU at 100 webchat customers (py-spy, bench/load.py), growing with the keys held.
    """

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.swept = time.time()

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """The library's check and record (no await in between: no other task interleaves), without its sweep."""
        if amount > limit:
            return False
        now = time.time()
        if now - self.swept >= self.SWEEP_SECONDS:
            self.sweep(now)
        events = self.events.setdefault(key, [])
        oldest_counted = events[limit - amount] if len(events) > limit - amount else None
        if oldest_counted is not None and oldest_counted.atime >= now - expiry:
            return False
        events[:0] = [Entry(expiry)] * amount
        return True

    def sweep(self, now: float) -> None:
        """Drops the entries whose window has passed, and the keys left with none (newest first in each list)."""
        self.swept = now
        for key, events in list(self.events.items()):
            kept = bisect.bisect_left(events, -now, key=lambda entry: -entry.expiry)
            if kept:
                del events[kept:]
            else:
                self.events.pop(key, None)
                self.locks.pop(key, None)


class RateLimit:
    """At most `limit` hits per `window` seconds per key, as a moving window (the exact count, not fixed buckets)."""

    def __init__(self, storage: Storage, name: str, limit: int, window: float) -> None:
        self.storage = storage
        self.name = name
        self.limit = limit
        self.window = window
        # limits counts in whole seconds; rounding up never lets more through than configured.
        self.item = RateLimitItemPerSecond(limit, max(1, math.ceil(window)))
        self.limiter = MovingWindowRateLimiter(storage)

    async def hit(self, key: str) -> bool:
        """Records and allows the event, or refuses it without recording."""
        return await self.limiter.hit(self.item, self.name, key)

    async def allows(self, key: str) -> bool:
        """Whether one more hit would be allowed, without recording it."""
        return await self.limiter.test(self.item, self.name, key)

    async def reset(self, key: str) -> None:
        """Forgets a key's hits (e.g. after a good login), on every worker sharing the storage."""
        await self.limiter.clear(self.item, self.name, key)

    def scaled(self, name: str, factor: int) -> RateLimit:
        """A looser limit over the same window and storage, counted under its own name."""
        return RateLimit(self.storage, name, self.limit * factor, self.window)


async def hit_all(*checks: tuple[RateLimit, str]) -> bool:
    """Counts one event under every (limit, key), or under none when any is full: a refused event costs nothing.

    Checked first, then counted: two workers racing on the last free hit may both pass the check, and then the
    second one's count is refused (and the event with it), so a count never ends above its limit.
    """
    for limit, key in checks:
        if not await limit.allows(key):
            return False
    for limit, key in checks:
        if not await limit.hit(key):
            return False
    return True
