"""A visitor on the webchat talks to the real trained assistant through the service."""
from __future__ import annotations

import re

import httpx
import pytest
import socketio
from sqlalchemy import select

from handoff.core.timeline import verify_case
from handoff.store.db import create_engine, session_factory
from handoff.store.models import TimelineEvent
from tests.service.support.webchat_client import Visitor

pytestmark = pytest.mark.e2e
SPANISH = re.compile(r"\b(abrimos|abierto|cerrado|cerramos|horario|hoy|manana|lunes|estamos)\b", re.I)
ENGLISH = re.compile(r"\b(open|closed|we|today|tomorrow|monday|hours)\b", re.I)


def texts(replies: list[dict]) -> str:
    return " ".join(reply.get("text", "") for reply in replies)


async def test_hours_are_answered_in_the_customers_language(live_service) -> None:
    spanish, english = Visitor(live_service.base_url), Visitor(live_service.base_url)
    await spanish.connect()
    await english.connect()
    es = texts(await spanish.say("a q hora abren?"))
    en = texts(await english.say("what time do you open?"))
    await spanish.close()
    await english.close()
    assert SPANISH.search(es) and not ENGLISH.search(es), es
    assert ENGLISH.search(en) and not SPANISH.search(en), en
    assert re.search(r"\d{1,2}:\d{2}", es) and re.search(r"\d{1,2}:\d{2}", en)


async def test_order_status_comes_from_the_demo_backend(live_service) -> None:
    visitor = Visitor(live_service.base_url)
    await visitor.connect()
    answer = texts(await visitor.say("hola, donde esta mi pedido 100002?"))
    await visitor.close()
    assert "100002" in answer and re.search(r"https?://", answer), answer


async def test_the_timeline_holds_every_message_in_order_and_verifies(live_service) -> None:
    visitor = Visitor(live_service.base_url)
    session_id = await visitor.connect()
    said: list[tuple[str, str]] = []
    for message in ("hola", "a que hora abren el sabado?", "gracias"):
        replies = await visitor.say(message)
        said.append(("customer", message))
        said.extend(("bot", reply["text"]) for reply in replies if reply.get("text"))
    await visitor.close()

    engine = create_engine(live_service.database_url)
    async with session_factory(engine)() as session:
        first = await session.scalar(select(TimelineEvent).where(TimelineEvent.text == "a que hora abren el sabado?"))
        events = list(await session.scalars(select(TimelineEvent).where(TimelineEvent.case_id == first.case_id)
                                            .order_by(TimelineEvent.seq)))
        check = await verify_case(session, first.case_id)
        stored = [(e.actor, e.text) for e in events if e.kind == "message"]
        event = events[1]
        event.text = event.text + "."
        await session.commit()
        tampered = await verify_case(session, first.case_id)
    await engine.dispose()
    assert stored == said
    assert check.ok and not tampered.ok
    assert session_id


async def test_reconnecting_restores_the_conversation_and_unknown_ids_start_fresh(live_service) -> None:
    visitor = Visitor(live_service.base_url)
    session_id = await visitor.connect()
    await visitor.say("hola")
    await visitor.close()

    again = Visitor(live_service.base_url)
    assert await again.connect(session_id) == session_id
    assert again.history[0]["text"] == "hola" and again.history[0]["actor"] == "customer"
    assert any(item["actor"] == "bot" for item in again.history)
    await again.close()

    forged = Visitor(live_service.base_url)
    new_id = await forged.connect(session_id.split(".")[0] + ".forgedsignature00000")
    assert new_id != session_id and forged.history is None
    await forged.close()


async def test_oversized_and_too_fast_messages_get_an_error_and_store_nothing(service_factory) -> None:
    service = service_factory(WEBCHAT_RATE_LIMIT_MESSAGES="2", WEBCHAT_MAX_MESSAGE_CHARS="50")
    visitor = Visitor(service.base_url)
    await visitor.connect()
    too_big = await visitor.say("x" * 51)
    assert too_big[0]["error"]["code"] == "message_too_large"
    await visitor.say("hola")
    await visitor.say("hola de nuevo")
    limited = await visitor.say("tercero")
    assert limited[0]["error"]["code"] == "rate_limited"
    await visitor.close()
    engine = create_engine(service.database_url)
    async with session_factory(engine)() as session:
        customer_texts = list(await session.scalars(select(TimelineEvent.text)
                                                    .where(TimelineEvent.actor == "customer")))
    await engine.dispose()
    assert customer_texts == ["hola", "hola de nuevo"]


async def test_origins_not_allowed_are_refused(live_service) -> None:
    visitor = Visitor(live_service.base_url, origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await visitor.connect()


def test_health_and_readiness(live_service) -> None:
    assert httpx.get(f"{live_service.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{live_service.base_url}/readyz")
    assert ready.status_code == 200, ready.text
    assert set(ready.json()["checks"]) == {"database", "rasa", "action_server"}
