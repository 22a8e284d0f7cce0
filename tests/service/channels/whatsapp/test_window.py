"""The 24-hour window per customer: an agent's free text is refused after it, an approved template goes out."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from handoff.channels.whatsapp.window import OutsideWindow, UnknownTemplate
from handoff.store.models import Outbox, TimelineEvent
from tests.service.support.whatsapp_webhooks import WA_ID, text_webhook


async def test_an_agents_text_outside_the_window_is_refused_and_a_template_goes_out(channel) -> None:
    yesterday = str(int(time.time()) - 25 * 3600)  # Meta's timestamp of the customer's last message
    await channel.webhook(text_webhook("hola", timestamp=yesterday))
    [inbound] = await channel.events(direction="in")
    state = await channel.deliverer.window(inbound.case_id)
    assert not state.open and state.closes_at is not None
    sent_before = len(channel.graph.sends())

    with pytest.raises(OutsideWindow) as refused:
        await channel.deliverer.send_agent_text(inbound.case_id, "agent-1", "Hola, ya revise tu pedido",
                                                agent_name="Ana")
    message = str(refused.value)
    assert "Free text was not sent" in message
    assert "case_follow_up [es_MX] (customer_name)" in message and "case_follow_up [en_US]" in message
    async with channel.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(TimelineEvent)
                                    .where(TimelineEvent.actor == "agent:agent-1")) == 0
    with pytest.raises(UnknownTemplate):
        await channel.deliverer.send_template(inbound.case_id, "agent-1", "promo_black_friday", [])

    event_id = await channel.deliverer.send_template(inbound.case_id, "agent-1", "case_follow_up", ["Sheena"],
                                                     language="es_MX")
    await channel.flush()
    [template] = channel.graph.sends()[sent_before:]
    assert template == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                        "type": "template", "template": {
                            "name": "case_follow_up", "language": {"policy": "deterministic", "code": "es_MX"},
                            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]}]}}
    async with channel.sessions() as session:
        shown = await session.get(TimelineEvent, event_id)
    assert shown.text.startswith("Hola Sheena, tenemos novedades") and shown.delivery_status == "accepted"
    assert shown.actor == "agent:agent-1" and shown.payload["custom"]["whatsapp_template"]["name"] == "case_follow_up"


async def test_inside_the_window_an_agents_text_goes_out_and_marks_the_message_read(channel) -> None:
    channel.rasa.reply = lambda message: [{"custom": {"handoff": {"reason": "explicit_request"}}}]
    await channel.webhook(text_webhook("quiero hablar con una persona", wamid="wamid.HUMAN"))
    read = {"messaging_product": "whatsapp", "status": "read"}
    assert channel.graph.reads() == [{**read, "message_id": "wamid.HUMAN"}]  # the place-in-line notice answered it
    await channel.webhook(text_webhook("sigo aqui", wamid="wamid.WAITING"))
    inbound = (await channel.events(direction="in"))[-1]
    assert (await channel.deliverer.window(inbound.case_id)).open
    assert len(channel.graph.reads()) == 1  # people hold the case: nobody answered the second message yet
    sent_before = len(channel.graph.sends())
    await channel.deliverer.send_agent_text(inbound.case_id, "agent-1", "Hola, soy Ana", agent_name="Ana")
    await channel.flush()
    assert channel.graph.reads()[1:] == [{**read, "message_id": "wamid.WAITING"}]
    [text] = channel.graph.sends()[sent_before:]
    assert text["text"]["body"] == "*Ana*: Hola, soy Ana"
    await channel.deliverer.send_agent_text(inbound.case_id, "agent-1", "¿Me das tu numero de pedido?")
    await channel.flush()
    assert len(channel.graph.reads()) == 2  # read once, not per answer
    async with channel.sessions() as session:
        kinds = [row.payload["kind"] for row in await session.scalars(select(Outbox).order_by(Outbox.id))]
    assert kinds == ["read", "message", "read", "message", "message"]
