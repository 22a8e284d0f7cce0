"""Rate limits counted in a shared storage (the `limits` library), so several workers enforce one count."""
from __future__ import annotations

import bisect
import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MovingWindowSupport, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

KEY_PREFIX = "frontdoor:limits"


def limit_storage(redis_url: str | None) -> Storage:
    """Redis (through redis-py's asyncio client, already a dependency) when configured, else this process's memory.

    The memory storage drops a key once its last hit leaves the window, so it does not grow with visitors.
    """
    if redis_url:
        return RedisStorage(redis_url, implementation="redispy", key_prefix=KEY_PREFIX)
    return MemoryWindows()


def hits_since(hits: list[float], since: float) -> int:
    """How many of the hit times (newest first) are at or after `since`: they lead the list."""
    return bisect.bisect_right(hits, -since, key=lambda at: -at)


class MemoryWindows(Storage, MovingWindowSupport):
    """Moving windows in this process's memory, on the limits library's documented storage interface.

    The library's own MemoryStorage swept every key after every hit, each key through a thread (asyncio.to_thread):
    6 % of a worker's CPU at 100 webchat customers (py-spy, bench/load.py), growing with the keys held. Here a key
    holds its hits' times, newest first, and one synchronous sweep a second at most drops what left its window.
    """

    STORAGE_SCHEME = ["frontdoor-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self.hits: dict[str, list[float]] = {}  # newest first
        self.windows: dict[str, int] = {}  # each key's window, in seconds
        self.counts: dict[str, int] = {}
        self.lapses: dict[str, float] = {}  # when each count lapses
        self.swept = time.time()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ()  # memory never fails as a server would

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Records `amount` hits now unless that would put more than `limit` in the last `expiry` seconds."""
        if amount > limit:
            return False
        now = self.sweep_if_due()
        hits = self.hits.setdefault(key, [])
        self.windows[key] = expiry
        if len(hits) > limit - amount and hits[limit - amount] >= now - expiry:
            return False
        hits[:0] = [now] * amount
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """The oldest hit still in the window and how many hits it holds (now and 0 when none)."""
        now = time.time()
        hits = self.hits.get(key, [])
        inside = hits_since(hits, now - expiry)
        return (hits[inside - 1], inside) if inside else (now, 0)

    def sweep_if_due(self) -> float:
        """Now, after sweeping if the last sweep is a second old or more."""
        now = time.time()
        if now - self.swept >= self.SWEEP_SECONDS:
            self.sweep(now)
        return now

    def sweep(self, now: float) -> None:
        """Drops the hits that left their key's window, and the keys left with none."""
        self.swept = now
        for key, hits in list(self.hits.items()):
            kept = hits_since(hits, now - self.windows.get(key, 0))
            if kept:
                del hits[kept:]
            else:
                del self.hits[key]
                self.windows.pop(key, None)
        for key in [key for key, lapse in self.lapses.items() if lapse <= now]:
            self.counts.pop(key, None)
            del self.lapses[key]

    async def clear(self, key: str) -> None:
        for kept in (self.hits, self.windows, self.counts, self.lapses):
            kept.pop(key, None)

    async def reset(self) -> int | None:
        count = len(self.hits) + len(self.counts)
        for kept in (self.hits, self.windows, self.counts, self.lapses):
            kept.clear()
        return count

    async def check(self) -> bool:
        return True

    # The Storage interface's fixed-window counters (core.slowdown counts with them): a count and when it lapses,
    # the window starting with the count's first increment.
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self.sweep_if_due()
        count = await self.get(key) + amount
        self.counts[key] = count
        if count == amount:
            self.lapses[key] = time.time() + expiry
        return count

    async def get(self, key: str) -> int:
        if self.lapses.get(key, 0) <= time.time():
            self.counts.pop(key, None)
            self.lapses.pop(key, None)
        return self.counts.get(key, 0)

    async def get_expiry(self, key: str) -> float:
        return self.lapses.get(key, time.time())


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
