"""Overflow on WhatsApp through the Graph API stand-in over SQLite and PostgreSQL: nobody online, the customer gets
the choices as reply buttons (WhatsApp never offers itself, so three fit); the tapped button is their one answer,
caught before the assistant; going on with the assistant keeps their place in the queue."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from handoff.core.overflow import payload
from handoff.store.models import Case, Handoff, Outbox
from tests.service.support.whatsapp_webhooks import WA_ID, button_reply_webhook, text_webhook


def assistant(message: str) -> list[dict[str, Any]]:
    if "persona" in message:
        return [{"text": "Te comunico con una persona."},
                {"custom": {"handoff": {"reason": "explicit_request", "intent": "request_human"}}}]
    return [{"text": f"Recibido: {message}"}]


async def overflowed(channel) -> str:
    """Returns the provider id of the offer the customer answers (the buttons' message)."""
    channel.rasa.reply = assistant
    await channel.webhook(text_webhook("Quiero hablar con una persona", wamid="wamid.OVER1"))
    async with channel.sessions() as session:
        rows = list(await session.scalars(select(Outbox).where(Outbox.status == "sent").order_by(Outbox.id)))
    offer = rows[-1]
    assert offer.payload["body"]["type"] == "interactive" and offer.provider_message_id is not None
    return offer.provider_message_id


async def test_the_offer_is_three_reply_buttons_and_a_tap_is_the_recorded_answer(channel) -> None:
    offer_id = await overflowed(channel)
    body = channel.graph.sends()[-1]
    assert body["to"] == WA_ID and body["interactive"]["type"] == "button"
    assert "no hay nadie del equipo disponible" in body["interactive"]["body"]["text"]
    assert [(b["reply"]["id"], b["reply"]["title"]) for b in body["interactive"]["action"]["buttons"]] == [
        (payload("wait"), "Esperar"), (payload("callback"), "Que me llamen"),
        (payload("assistant"), "Seguir con asistente")]
    asked = len(channel.rasa.asked)
    await channel.webhook(button_reply_webhook(payload("wait"), "Esperar", offer_id, wamid="wamid.OVER2"))
    assert len(channel.rasa.asked) == asked  # caught before the assistant
    assert "conservas tu lugar" in channel.graph.sends()[-1]["text"]["body"]
    async with channel.sessions() as session:
        handoff = (await session.scalars(select(Handoff))).one()
        case = (await session.scalars(select(Case))).one()
    assert (handoff.overflow_choice, case.status) == ("wait", "queued")
    [chosen] = await channel.events(kind="overflow")
    assert chosen.payload["choice"] == "wait"


async def test_going_on_with_the_assistant_it_answers_while_the_case_keeps_its_place(channel) -> None:
    offer_id = await overflowed(channel)
    await channel.webhook(button_reply_webhook(payload("assistant"), "Seguir con asistente", offer_id,
                                               wamid="wamid.OVER3"))
    assert "sigo contigo" in channel.graph.sends()[-1]["text"]["body"]
    await channel.webhook(text_webhook("y mi pedido?", wamid="wamid.OVER4"))
    assert channel.rasa.asked[-1]["message"] == "y mi pedido?"
    assert channel.graph.sends()[-1]["text"]["body"] == "Recibido: y mi pedido?"
    async with channel.sessions() as session:
        case = (await session.scalars(select(Case))).one()
        handoff = (await session.scalars(select(Handoff))).one()
    assert (case.status, case.handoff_count, handoff.ended_at, handoff.overflow_choice) == \
        ("queued", 1, None, "assistant")
