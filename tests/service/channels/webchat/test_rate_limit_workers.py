"""A visitor's message limit counts on every worker together when REDIS_URL is set."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import TimelineEvent
from tests.service.support.polling import until
from tests.service.support.processes import free_port
from tests.service.support.stack import start_service
from tests.service.support.webchat_client import Visitor

pytestmark = pytest.mark.redis


async def customer_texts(database_url: str) -> list[str | None]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        texts = list(await session.scalars(select(TimelineEvent.text).where(TimelineEvent.actor == "customer")
                                           .order_by(TimelineEvent.id)))
    await engine.dispose()
    return texts


async def test_messages_on_two_workers_share_one_limit(redis_url: str, workdir: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{workdir / 'webchat-limits.sqlite3'}"
    shared = {"REDIS_URL": redis_url, "RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
              "SECRET_KEY": "webchat-limits-test-secret-0123456789", "WEBCHAT_RATE_LIMIT_MESSAGES": "2",
              "DATABASE_URL": database_url}
    services = [start_service(shared, workdir), start_service(shared, workdir)]
    on_first, on_second = Visitor(services[0].base_url), Visitor(services[1].base_url)
    other = Visitor(services[1].base_url)
    try:
        session_id = await on_first.connect()
        assert await on_second.connect(session_id) == session_id  # one visitor, two tabs, two workers
        await on_first.say("uno")  # Rasa is down: handed to people, so later messages get no typing signal
        await on_second.client.emit("user_uttered", {"message": "dos", "session_id": session_id,
                                                     "message_id": "dos"})
        async def second_stored() -> bool:  # stored, so counted, before the next one is sent
            return await customer_texts(database_url) == ["uno", "dos"]

        await until(second_stored, "stored the second message")
        for visitor, text in ((on_first, "tres"), (on_second, "cuatro")):
            await visitor.client.emit("user_uttered", {"message": text, "session_id": session_id,
                                                       "message_id": text})
            assert (await visitor.next_event("error", timeout=30))["code"] == "rate_limited"
        await other.connect()
        assert not any("error" in reply for reply in await other.say("hola"))  # another visitor's own count
    finally:
        for visitor in (on_first, on_second, other):
            await visitor.close()
        for service in services:
            service.stop()
    assert await customer_texts(database_url) == ["uno", "dos", "hola"]


async def test_an_address_new_ids_and_messages_count_on_both_workers(redis_url: str, workdir: Path) -> None:
    shared = {"REDIS_URL": redis_url, "RASA_URL": f"http://127.0.0.1:{free_port()}", "BOT_RETRIES": "0",
              "SECRET_KEY": "webchat-limits-test-secret-0123456789", "WEBCHAT_RATE_LIMIT_MESSAGES": "1",
              "WEBCHAT_RATE_LIMIT_NEW_SESSIONS": "2", "WEBCHAT_RATE_LIMIT_ADDRESS_FACTOR": "2",
              "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'webchat-address-limits.sqlite3'}"}
    services = [start_service(shared, workdir), start_service(shared, workdir)]
    office = {"X-Forwarded-For": "198.51.100.20"}  # trusted from loopback, as from a proxy on the same host
    visitors = [Visitor(services[number % 2].base_url, headers=office) for number in range(4)]
    try:
        for visitor in visitors:
            await visitor.open()
        for visitor in visitors[:2]:  # one on each worker: the address's two messages
            assert (await visitor.ask_session())[0] == "session_confirm"
            assert not any("error" in reply for reply in await visitor.say("hola"))
        assert (await visitors[2].ask_session())[0] == "session_confirm"  # the third new id of four
        assert (await visitors[2].say("hola"))[0]["error"]["code"] == "rate_limited"
        assert (await visitors[3].ask_session())[0] == "session_confirm"  # the fourth, on the other worker
        event, data = await visitors[2].ask_session()  # the fifth from this address
        assert event == "error" and data["code"] == "rate_limited"
    finally:
        for visitor in visitors:
            await visitor.close()
        for service in services:
            service.stop()
