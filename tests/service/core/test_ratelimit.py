"""The rate limit wrapper on memory (one worker) and on a real Redis shared by two workers."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from handoff.core.ratelimit import MemoryWindows, RateLimit, hit_all, hits_since, limit_storage
from tests.service.support.polling import until


async def test_limit_is_per_key_and_refused_hits_are_not_counted() -> None:
    limit = RateLimit(limit_storage(None), "messages", limit=2, window=60)
    assert await limit.hit("s") and await limit.hit("s")
    assert not await limit.hit("s")
    assert not await limit.hit("s")
    assert await limit.hit("other")


async def test_the_window_slides() -> None:
    limit = RateLimit(limit_storage(None), "messages", limit=1, window=1)
    assert await limit.hit("s")
    assert not await limit.hit("s")
    await asyncio.sleep(1.05)
    assert await limit.hit("s")


async def test_reset_and_names_keep_counts_apart() -> None:
    storage = limit_storage(None)
    login = RateLimit(storage, "login-email", limit=1, window=60)
    address = login.scaled("login-address", 3)
    assert await login.hit("a@example.com")
    assert not await login.hit("a@example.com")
    assert [await address.hit("a@example.com") for _ in range(4)] == [True, True, True, False]
    await login.reset("a@example.com")
    assert await login.hit("a@example.com")
    assert not await address.hit("a@example.com")


async def test_fractional_windows_round_up_to_whole_seconds() -> None:
    limit = RateLimit(limit_storage(None), "messages", limit=1, window=0.2)
    assert await limit.hit("s")
    await asyncio.sleep(0.3)
    assert not await limit.hit("s")


@pytest.mark.redis
async def test_two_workers_share_one_count_on_redis(redis_url: str) -> None:
    key = uuid.uuid4().hex
    first = RateLimit(limit_storage(redis_url), "messages", limit=3, window=60)
    second = RateLimit(limit_storage(redis_url), "messages", limit=3, window=60)
    assert await first.hit(key) and await second.hit(key) and await first.hit(key)
    assert not await second.hit(key)
    assert not await first.hit(key)
    await second.reset(key)
    assert await first.hit(key)
    assert await RateLimit(limit_storage(None), "messages", limit=3, window=60).hit(key)


async def test_memory_storage_forgets_keys_once_their_window_has_passed() -> None:
    """Ids that stop sending leave nothing behind: the limiter's memory does not grow with visitors."""
    storage = limit_storage(None)
    assert isinstance(storage, MemoryWindows)
    limit = RateLimit(storage, "messages", limit=5, window=1)
    for visitor in range(1000):
        assert await limit.hit(f"session-{visitor}")
    assert len(storage.hits) == 1000

    async def forgotten() -> bool:
        await limit.hit("a later visitor")  # a hit a second or more after the last sweep sweeps
        return len(storage.hits) <= 1  # the later visitor's own

    await until(forgotten, "forgot the visitors of the last window", timeout=10)
    assert len(storage.windows) <= 1


async def test_hit_all_counts_everywhere_or_nowhere() -> None:
    storage = limit_storage(None)
    session, address = RateLimit(storage, "session", 2, 60), RateLimit(storage, "address", 3, 60)
    assert await hit_all((session, "s1"), (address, "a")) and await hit_all((session, "s1"), (address, "a"))
    assert not await hit_all((session, "s1"), (address, "a"))  # the session is full: the address is not charged
    assert await hit_all((session, "s2"), (address, "a"))
    assert not await hit_all((session, "s3"), (address, "a"))  # now the address is full
    assert await session.allows("s3")


async def test_a_busy_key_keeps_only_its_window() -> None:
    """The sweep trims a key still in use to the hits inside its window, so a steady sender's list stays short."""
    storage = limit_storage(None)
    limit = RateLimit(storage, "messages", limit=1000, window=1)
    for _ in range(50):
        assert await limit.hit("steady")
    await asyncio.sleep(1.1)
    assert await limit.hit("steady")  # a second later: the sweep runs before this hit is counted
    assert len(storage.hits["LIMITER/messages/steady/1000/1/second"]) == 1


def test_hits_since_counts_the_newest_hits_at_or_after_the_window_start() -> None:
    hits = [5.0, 4.0, 3.0, 3.0, 2.0]  # newest first, as MemoryWindows keeps them
    assert [hits_since(hits, since) for since in (6.0, 3.5, 3.0, 0.0)] == [0, 2, 4, 5]
    assert hits_since([], 1.0) == 0
