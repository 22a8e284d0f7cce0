"""Stopping Rasa mid-conversation loses nothing; when it is back, the held customer (no agent took the case yet)
and new conversations reach it again."""
from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Handoff, TimelineEvent
from tests.service.support.processes import free_port
from tests.service.support.webchat_client import Visitor

pytestmark = pytest.mark.e2e


async def test_rasa_outage_is_survived(rasa_stack, service_factory) -> None:
    port = free_port()
    rasa, rasa_url = rasa_stack.second_rasa(port)
    service = service_factory(RASA_URL=rasa_url, BOT_TIMEOUT_SECONDS="5")
    visitor = Visitor(service.base_url)
    await visitor.connect()
    assert (await visitor.say("hi there"))[0]["text"]

    rasa.stop()
    held = await visitor.say("I need to know where my order is")
    assert len(held) == 2 and all(reply["actor"] == "system" for reply in held)  # holding + queue notice
    assert "person" in held[0]["text"]  # in English, the language the customer writes in
    assert "in line" in held[1]["text"]
    assert httpx.get(f"{service.base_url}/readyz").status_code == 503

    engine = create_engine(service.database_url)
    async with session_factory(engine)() as session:
        kept = await session.scalar(select(TimelineEvent)
                                    .where(TimelineEvent.text == "I need to know where my order is"))
        case = await session.get(Case, kept.case_id)
        handoff = await session.scalar(select(Handoff).where(Handoff.case_id == case.id))
    assert case.status == "queued" and handoff.reason == "bot_unavailable"
    assert await visitor.say("hola?") == []  # still down: people keep it, no second holding message

    await asyncio.to_thread(rasa_stack.second_rasa, port)  # the widget's socket keeps answering pings meanwhile
    replies = await visitor.say("hola")  # the same widget: the assistant answers and holds the case again
    assert replies and all("actor" not in reply for reply in replies), replies
    async with session_factory(engine)() as session:
        case = await session.get(Case, case.id)
        transitions = list(await session.scalars(select(Handoff).where(Handoff.case_id == case.id)
                                                 .order_by(Handoff.id)))
    assert case.status == "bot" and case.handoff_count == 1
    assert [(h.direction, h.reason, h.outcome) for h in transitions] == [
        ("to_human", "bot_unavailable", "withdrawn"), ("to_bot", "bot_available", "returned_to_bot")]

    newcomer = Visitor(service.base_url)
    await newcomer.connect()
    replies = await newcomer.say("hola")
    assert replies and "actor" not in replies[0], replies
    await newcomer.close()
    await visitor.close()
    await engine.dispose()
