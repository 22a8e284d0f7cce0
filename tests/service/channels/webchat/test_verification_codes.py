"""An anonymous web visitor proves their WhatsApp number with a code, through the whole app (Socket.IO, uvicorn,
SQLite and PostgreSQL): the assistant's offer sends the code through the Graph API stand-in, the code typed in the
chat joins the WhatsApp customer and their case, and the digits are in no table, log or request to the assistant."""
from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Case, Handoff, Merge, TimelineEvent
from tests.service.support.codes import leaks, other_than, template_code, text_columns
from tests.service.support.graph_api import PHONE_NUMBER_ID, TOKEN, GraphStandIn
from tests.service.support.merging import chains_ok, whatsapp_ana_at
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.served_app import Served, served_with_assistant
from tests.service.support.webchat_client import Visitor

SENT = ("Te enviamos un código de 6 dígitos por WhatsApp al número que termina en 78. "
        "Escríbelo aquí para continuar.")


def assistant_reply(message: str) -> list[dict[str, Any]]:
    """The assistant offers a code; on /affirm its action sends the one payload, no text."""
    if message == "/affirm":
        return [{"custom": {"verification": {"phone": "55 1234 5678"}}}]
    return [{"text": f"Recibido: {message}"}]


@pytest.fixture
async def served(tmp_path: Any, database_url: str, graph: GraphStandIn) -> AsyncIterator[Served]:
    async with served_with_assistant(tmp_path, RasaStandIn(reply=assistant_reply), database_url=database_url,
                                     log_level="DEBUG", whatsapp_api_base=graph.base_url, whatsapp_access_token=TOKEN,
                                     whatsapp_phone_number_id=PHONE_NUMBER_ID) as running:
        yield running


async def typed(visitor: Visitor, text: str, message_id: str | None = None) -> None:
    """A message the service answers itself (no assistant turn, so no typing signal to wait for)."""
    await visitor.client.emit("user_uttered", {"message": text, "session_id": visitor.session_id,
                                               "message_id": message_id or uuid.uuid4().hex})


async def test_a_code_sent_on_whatsapp_and_typed_in_the_chat_makes_the_visitor_the_whatsapp_customer(
        served: Served, graph: GraphStandIn, caplog: pytest.LogCaptureFixture) -> None:
    ids = await whatsapp_ana_at(served.database_url)
    caplog.set_level(logging.DEBUG)
    visitor = Visitor(served.base_url)
    await visitor.connect()
    try:
        assert await visitor.say("te escribí por whatsapp, mi número es 55 1234 5678") == [
            {"text": "Recibido: te escribí por whatsapp, mi número es 55 1234 5678"}]
        assert await visitor.say("/affirm") == [{"text": SENT, "actor": "system"}]
        [template] = graph.sends()
        code = template_code(template)
        assert template["to"] == "525512345678" and template["template"]["name"] == "verification_code"
        await typed(visitor, other_than(code), "typed-1")
        assert (await visitor.next_event("bot_uttered"))["text"].endswith("te quedan 4 intentos.")
        await typed(visitor, other_than(code), "typed-1")  # the same message again (a widget's retry): ignored
        await typed(visitor, code)
        assert (await visitor.next_event("bot_uttered"))["text"] == (
            "Listo, verificamos tu número. Seguimos con tu caso; no necesitas repetir nada.")
        assert await visitor.say("¿y mi pedido?") == [{"text": "Recibido: ¿y mi pedido?"}]
    finally:
        await visitor.close()
    last = served.assistant.asked[-1]
    assert last["sender"] == ids["case"] and last["metadata"]["customer"]["id"] == ids["ana"]
    assert last["metadata"]["known"]["order_number"] == "100002"  # asked nothing again
    engine = create_engine(served.database_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session:
            cases = list(await session.scalars(select(Case).where(Case.status.in_(("bot", "queued", "assigned")))))
            assert [case.id for case in cases] == [ids["case"]]
            merge = await session.scalar(select(Merge))
            assert merge is not None and merge.evidence["verified_by"] == "otp_whatsapp"
            entered = list(await session.scalars(select(TimelineEvent.text).where(
                TimelineEvent.actor == "customer", TimelineEvent.channel == "webchat")))
            assert entered.count("código de verificación ingresado") == 2  # the repeat was not stored
            assert await session.scalar(select(Handoff)) is None
        stored = await text_columns(sessions)
        await chains_ok(sessions)
    finally:
        await engine.dispose()
    for digits in (code, other_than(code)):
        assert leaks(digits, stored) == []
        assert leaks(digits, [caplog.text]) == []
        assert leaks(digits, [str(asked) for asked in served.assistant.asked]) == []
    assert "verification_code_entered" in caplog.text  # the logs were captured, by verdict only
