"""Agents read the label the assistant offered for a clicked payload, never the client's `title` (issue 17)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import TimelineEvent
from tests.service.inbox.support import AgentClient, create_agent
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import Served, served_with_assistant
from tests.service.support.webchat_client import Visitor

LIE = "NO, I do NOT authorise this"


def answers(message: str) -> list[dict[str, Any]]:
    if message == "cargo":
        return [{"text": "¿Autorizas el cargo de 900 pesos?",
                 "buttons": [{"title": "Sí, autorizo", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}]
    return [{"text": f"Recibido: {message}"}]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=answers), webchat_max_message_chars=50) as running:
        yield running


async def customer_events(database_url: str) -> list[TimelineEvent]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        events = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.actor == "customer")
                                            .order_by(TimelineEvent.id)))
    await engine.dispose()
    return events


async def test_agents_see_the_offered_label_not_the_claimed_title(served: Served) -> None:
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        offer = await visitor.say("cargo")
        assert offer[0]["quick_replies"][0] == {"content_type": "text", "title": "Sí, autorizo", "payload": "/affirm"}
        assert not any("error" in reply for reply in await visitor.say("/affirm", title=LIE))
        assert served.assistant.asked[-1]["message"] == "/affirm"  # what the assistant acted on
    finally:
        await visitor.close()
    events = await customer_events(served.database_url)
    assert [event.text for event in events] == ["cargo", "Sí, autorizo"]

    await asyncio.to_thread(create_agent, served.database_url, "supervisa@example.com", role="supervisor")
    supervisor = AgentClient(served.base_url)
    try:
        assert (await supervisor.login("supervisa@example.com")).status_code == 200
        view = (await supervisor.get(f"/cases/{events[-1].case_id}")).json()
    finally:
        await supervisor.close()
    shown = [event["text"] for event in view["events"] if event["kind"] == "message" and event["actor"] == "customer"]
    assert shown == ["cargo", "Sí, autorizo"] and LIE not in str(view)


async def test_a_payload_never_offered_shows_as_sent(served: Served) -> None:
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        await visitor.say("cargo")
        await visitor.say("/transfer_all", title="Sí, autorizo")  # not among the buttons offered
        await visitor.say("hola")  # the buttons are gone once the assistant said something else
        await visitor.say("/affirm", title="Sí, autorizo")
    finally:
        await visitor.close()
    assert [event.text for event in await customer_events(served.database_url)] == [
        "cargo", "/transfer_all", "hola", "/affirm"]


async def test_a_title_longer_than_a_message_is_refused_and_nothing_stored(served: Served) -> None:
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        await visitor.say("cargo")
        refused = await visitor.say("/affirm", title="x" * 51)
    finally:
        await visitor.close()
    assert refused == [{"error": {"code": "message_too_large", "message": "Tu mensaje es demasiado largo (máximo 50 "
                                                                          "caracteres)."}}]
    assert [event.text for event in await customer_events(served.database_url)] == ["cargo"]


async def test_a_nul_character_is_refused_and_nothing_stored(served: Served) -> None:
    """PostgreSQL's text cannot hold U+0000: a message, title or message id carrying one is refused at the door."""
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        await visitor.say("cargo")
        refused = [await visitor.say("ho\x00la"), await visitor.say("/affirm", title="S\x00í"),
                   await visitor.say("hola", message_id="m\x001")]
    finally:
        await visitor.close()
    assert [reply[0]["error"]["code"] for reply in refused] == ["invalid_message"] * 3
    assert [event.text for event in await customer_events(served.database_url)] == ["cargo"]
