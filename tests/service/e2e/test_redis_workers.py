"""With REDIS_URL, two service processes serve one widget population."""
from __future__ import annotations

import asyncio

import pytest

from tests.service.support.webchat_client import Visitor

pytestmark = [pytest.mark.redis, pytest.mark.e2e]


async def test_a_message_emitted_by_one_worker_reaches_a_client_on_the_other(service_factory, redis_url,
                                                                              workdir) -> None:
    shared = {"REDIS_URL": redis_url, "SECRET_KEY": "two-workers-test-secret",
              "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'two-workers.sqlite3'}"}
    first, second = service_factory(**shared), service_factory(**shared)
    on_first, on_second = Visitor(first.base_url), Visitor(second.base_url)
    session_id = await on_first.connect()
    assert await on_second.connect(session_id) == session_id  # same visitor, another tab, other worker

    await on_first.say("hola")
    reply = await on_second.next_event("bot_uttered", timeout=60)
    assert reply["text"]
    await on_first.close()
    await on_second.close()


async def test_without_redis_the_other_worker_does_not_hear_it(service_factory, workdir) -> None:
    shared = {"SECRET_KEY": "two-workers-test-secret",
              "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'no-redis.sqlite3'}"}
    first, second = service_factory(**shared), service_factory(**shared)
    on_first, on_second = Visitor(first.base_url), Visitor(second.base_url)
    session_id = await on_first.connect()
    await on_second.connect(session_id)
    await on_first.say("hola")
    with pytest.raises(asyncio.TimeoutError):
        await on_second.next_event("bot_uttered", timeout=3)
    await on_first.close()
    await on_second.close()
