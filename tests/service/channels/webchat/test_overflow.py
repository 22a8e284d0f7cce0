"""Overflow through the served web chat door (Socket.IO, the app with an assistant stand-in over HTTP): nobody
online, the visitor gets the choices as quick replies; a click is their one answer (agents read its offered label),
and going on with the assistant keeps the case in people's queue while the assistant answers."""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from handoff.core.overflow import payload
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Handoff, TimelineEvent
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import Served, served_with_assistant
from tests.service.support.webchat_client import Visitor


def answers(message: str) -> list[dict[str, Any]]:
    if "persona" in message:
        return [{"text": "Te comunico con una persona."},
                {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human"}}}]
    return [{"text": f"Recibido: {message}"}]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=answers)) as running:
        yield running


async def stored(database_url: str) -> tuple[Case, Handoff, list[TimelineEvent]]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        case = (await session.scalars(select(Case))).one()
        handoff = (await session.scalars(select(Handoff))).one()
        events = list(await session.scalars(select(TimelineEvent).order_by(TimelineEvent.id)))
    await engine.dispose()
    return case, handoff, events


async def click(visitor: Visitor, choice: str) -> dict[str, Any]:
    """Sends the quick reply's payload, as the widget does, and returns the service's answer."""
    await visitor.client.emit("user_uttered", {"message": payload(choice), "session_id": visitor.session_id,
                                               "message_id": uuid.uuid4().hex})
    return await visitor.next_event("bot_uttered")


async def test_the_visitor_clicks_to_go_on_with_the_assistant_and_keeps_their_place(served: Served) -> None:
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        replies = await visitor.say("quiero hablar con una persona")
        offer = replies[-1]
        assert "¿Qué prefieres?" in offer["text"]
        assert offer["quick_replies"] == [
            {"content_type": "text", "title": "Esperar", "payload": payload("wait")},
            {"content_type": "text", "title": "Seguir con asistente", "payload": payload("assistant")}]
        asked = len(served.assistant.asked)
        told = await click(visitor, "assistant")
        assert "sigo contigo mientras tanto" in told["text"]
        assert len(served.assistant.asked) == asked  # the click never reached the assistant
        later = await visitor.say("¿y mi pedido?")
        assert [reply["text"] for reply in later] == ["Recibido: ¿y mi pedido?"]
    finally:
        await visitor.close()
    case, handoff, events = await stored(served.database_url)
    assert (case.status, case.handoff_count, handoff.overflow_choice, handoff.ended_at) == ("queued", 1, "assistant",
                                                                                            None)
    clicked = [event for event in events if event.actor == "customer" and event.kind == "message"]
    assert [event.text for event in clicked] == ["quiero hablar con una persona", "Seguir con asistente",
                                                 "¿y mi pedido?"]  # agents read the offered label


async def test_the_visitor_clicks_to_wait_and_is_told_their_place(served: Served) -> None:
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        await visitor.say("quiero hablar con una persona")
        told = await click(visitor, "wait")
        assert "eres el número 1 en la fila" in told["text"] and "quick_replies" not in told
    finally:
        await visitor.close()
    case, handoff, events = await stored(served.database_url)
    assert (case.status, handoff.overflow_choice) == ("queued", "wait")
    assert [event.payload["choice"] for event in events if event.kind == "overflow"] == ["wait"]
