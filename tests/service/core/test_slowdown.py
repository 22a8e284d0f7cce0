"""Progressive delays on memory (one worker) and on a real Redis shared by two workers."""
from __future__ import annotations

import uuid

import pytest

from handoff.core.ratelimit import limit_storage
from handoff.core.slowdown import Slowdown
from tests.service.support.polling import until


def slowdown(storage_url: str | None = None, free: int = 2) -> Slowdown:
    return Slowdown(limit_storage(storage_url), "guess", free, base=1, cap=4, window=600)


async def test_free_attempts_then_one_per_doubling_wait() -> None:
    guesses = slowdown()
    assert [(await guesses.claim("k")).wait for _ in range(2)] == [0, 0]  # the second is the last free one
    refused = await guesses.claim("k")
    assert refused.wait > 0 and refused.wait <= 1 and await guesses.failures("k") == 2  # refused: not counted

    async def let_through() -> bool:
        return (await guesses.claim("k")).wait == 0

    await until(let_through, "let the third attempt through after 1 s")
    assert 1 < (await guesses.claim("k")).wait <= 2  # the next wait doubles
    assert (await guesses.claim("other")).wait == 0  # keys apart


def test_delays_double_and_are_capped() -> None:
    assert [slowdown().delay(excess) for excess in (1, 2, 3, 4, 10, 10_000)] == [1, 2, 4, 4, 4, 4]


async def test_release_takes_an_attempt_back_and_forgive_clears_the_gate() -> None:
    guesses = slowdown()
    await guesses.claim("k")
    await guesses.release("k")  # it was right
    assert await guesses.failures("k") == 0
    await guesses.claim("k")
    await guesses.claim("k")
    assert (await guesses.claim("k")).wait > 0
    await guesses.forgive("k")
    assert (await guesses.claim("k")).wait == 0 and await guesses.failures("k") == 1


@pytest.mark.redis
async def test_two_workers_slow_one_key_together_on_redis(redis_url: str) -> None:
    key = uuid.uuid4().hex
    first, second = slowdown(redis_url), slowdown(redis_url)
    assert (await first.claim(key)).wait == 0 and (await second.claim(key)).wait == 0
    assert (await first.claim(key)).wait > 0 and (await second.claim(key)).wait > 0
    assert await first.failures(key) == 2
    await second.forgive(key)
    assert (await first.claim(key)).wait == 0
    assert (await slowdown(None).claim(key)).wait == 0  # memory is this process's own


async def test_a_failure_restarts_its_wait() -> None:
    guesses = Slowdown(limit_storage(None), "guess", 1, base=60, cap=600, window=600)
    claim = await guesses.claim("k")
    assert claim.wait == 0 and claim.count == 1
    await guesses.failed("k", claim.count)
    assert 59 < (await guesses.claim("k")).wait <= 60
