"""Webhook bodies → timeline, assistant turns and delivery states, on SQLite and PostgreSQL, Graph stand-in."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.core.customers import resolve_customer
from handoff.core.timeline import verify_case
from handoff.core.webhook_store import store_webhook
from handoff.store.models import Customer, Identity, InboundWebhook, Outbox, PendingTurn, RefusedWebhookItem
from tests.service.support.whatsapp_webhooks import (
    WA_ID,
    button_reply_webhook,
    messages_webhook,
    status_webhook,
    text_webhook,
)


async def test_a_signed_text_message_gets_the_assistants_answer_as_graph_json(channel) -> None:
    await channel.webhook(text_webhook())
    [asked] = channel.rasa.asked
    assert asked["message"] == "Hola, donde esta mi pedido?"
    assert asked["metadata"]["channel"] == "whatsapp"
    assert asked["metadata"]["customer"]["name"] == "Sheena Nelson"
    assert asked["metadata"]["customer"]["identities"] == [{"kind": "phone", "value": "+16505551234", "verified": True}]
    assert channel.graph.reads() == [{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.TEXT1"}]
    assert channel.graph.sends() == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                                      "type": "text", "text": {"preview_url": False,
                                                               "body": "Recibido: Hola, donde esta mi pedido?"}}]
    assert all(r.authorization == "Bearer test-access-token" for r in channel.graph.requests)
    inbound, answer = await channel.events(kind="message")
    assert (inbound.direction, inbound.provider_id, inbound.payload["address"]) == ("in", "wamid.TEXT1", WA_ID)
    assert (answer.direction, answer.actor, answer.delivery_status) == ("out", "bot", "accepted")
    async with channel.sessions() as session:
        row = await session.scalar(select(Outbox).where(Outbox.event_id == answer.id))
        assert row.provider_message_id.startswith("wamid.standin") and row.status == "sent"
        assert (await verify_case(session, inbound.case_id)).ok


async def test_a_button_reply_reaches_the_assistant_as_its_payload(channel) -> None:
    channel.rasa.reply = lambda message: [{"text": "¿Quieres que te comunique con una persona?",
                                           "buttons": [{"title": "Si", "payload": "/affirm"},
                                                       {"title": "No", "payload": "/deny"}]}]
    await channel.webhook(text_webhook("mi pedido no llega"))
    [offer] = channel.graph.sends()
    assert offer["interactive"]["action"]["buttons"][0]["reply"] == {"id": "/affirm", "title": "Si"}
    async with channel.sessions() as session:
        offer_row = await session.scalar(select(Outbox).where(Outbox.payload.is_not(None), Outbox.status == "sent",
                                                              Outbox.provider_message_id.is_not(None)))
    channel.rasa.reply = lambda message: [{"text": "Te comunico con una persona."}]
    await channel.webhook(button_reply_webhook("/affirm", "Si", offer_row.provider_message_id))
    assert channel.rasa.asked[-1]["message"] == "/affirm"
    tapped = (await channel.events(direction="in"))[-1]
    assert tapped.text == "Si" and tapped.payload["bot_input"] == "/affirm"
    assert tapped.payload["in_reply_to_event_id"] == offer_row.event_id


async def test_the_same_webhook_twice_gives_one_event_and_one_answer(channel) -> None:
    body = text_webhook()
    await channel.webhook(body)
    await channel.webhook(body)
    assert len(await channel.events(direction="in")) == 1
    assert len(channel.rasa.asked) == 1 and len(channel.graph.sends()) == 1
    async with channel.sessions() as session:
        unprocessed = await session.scalar(select(func.count()).select_from(InboundWebhook)
                                           .where(InboundWebhook.processed_at.is_(None)))
    assert unprocessed == 0


async def test_every_message_type_is_kept_and_media_is_fetched_and_checked(channel) -> None:
    photo = b"\xff\xd8\xff\xe0 a photo"
    photo_sha = channel.graph.add_media("img-1", photo)
    channel.graph.add_media("aud-1", b"OggS voice", "audio/ogg")
    await channel.webhook(text_webhook("hola"))
    answer = (await channel.events(direction="out"))[0]
    async with channel.sessions() as session:
        answer_wamid = await session.scalar(select(Outbox.provider_message_id).where(Outbox.event_id == answer.id))
    await channel.webhook(messages_webhook(
        {"id": "wamid.IMG", "type": "image", "image": {"id": "img-1", "mime_type": "image/jpeg", "sha256": photo_sha,
                                                        "caption": "mi paquete roto"}},
        {"id": "wamid.AUD", "type": "audio", "audio": {"id": "aud-1", "mime_type": "audio/ogg", "voice": True,
                                                        "sha256": photo_sha}},
        {"id": "wamid.LOC", "type": "location", "location": {"latitude": 19.4, "longitude": -99.1}},
        {"id": "wamid.VCF", "type": "contacts", "contacts": [{"name": {"formatted_name": "Ana"}, "phones": []}]},
        {"id": "wamid.REA", "type": "reaction", "reaction": {"message_id": answer_wamid, "emoji": "❤️"}},
        {"id": "wamid.UNS", "type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]},
    ))
    events = {e.provider_id: e for e in await channel.events(direction="in")}
    image = events["wamid.IMG"]
    assert image.text == "[image] mi paquete roto" and image.payload["media"]["size"] == len(photo)
    assert (channel.media_dir / image.payload["media"]["path"]).read_bytes() == photo
    voice = events["wamid.AUD"]
    assert "sha256 mismatch" in voice.payload["media_error"] and "could not be fetched" in voice.text
    assert not list(channel.media_dir.rglob("*.ogg")) and not list((channel.media_dir / "tmp").iterdir())
    assert events["wamid.LOC"].text == "[location] (19.4, -99.1)"
    assert events["wamid.VCF"].text == "[contacts] Ana"
    reaction = events["wamid.REA"]
    assert reaction.payload["reacts_to_event_id"] == answer.id and reaction.text.startswith("[reaction ❤️] to: Recibido")
    assert events["wamid.UNS"].text == "[unsupported message: (131051) Message type unknown]"
    asked = [a["message"] for a in channel.rasa.asked]
    assert asked[1:] == ["mi paquete roto", "/nlu_fallback", "/nlu_fallback", "/nlu_fallback", "/nlu_fallback"]
    async with channel.sessions() as session:
        assert (await session.scalars(select(PendingTurn))).all() == []


async def test_the_same_number_on_another_channel_is_the_same_customer(channel) -> None:
    async with channel.sessions() as session, session.begin():
        caller = await resolve_customer(session, "phone", "+16505551234", verified=True, verified_by="caller_id")
    await channel.webhook(text_webhook())
    [inbound] = await channel.events(direction="in")
    async with channel.sessions() as session:
        customer = await session.get(Customer, inbound.customer_id)
        identities = list(await session.scalars(select(Identity)))
    assert customer.id == caller.id and customer.display_name == "Sheena Nelson"
    assert [(i.kind, i.value) for i in identities] == [("phone", "+16505551234")]


async def test_statuses_move_delivery_forward_and_a_failure_is_visible_on_the_message(channel) -> None:
    await channel.webhook(text_webhook("hola", wamid="wamid.A"))
    await channel.webhook(text_webhook("sigues ahi?", wamid="wamid.B"))
    first, second = await channel.events(direction="out", kind="message")
    async with channel.sessions() as session:
        ids = {row.event_id: row.provider_message_id
               for row in await session.scalars(select(Outbox).where(Outbox.provider_message_id.is_not(None)))}
    for status in ("sent", "read", "delivered", "read"):  # out of order and repeated, as Meta may send them
        await channel.webhook(status_webhook(ids[first.id], status))
    failed = [{"code": 131026, "title": "Message undeliverable",
               "error_data": {"details": "Message Undeliverable."}}]
    await channel.webhook(status_webhook(ids[second.id], "failed", errors=failed))
    await channel.webhook(status_webhook("wamid.NEVER_OURS", "delivered"))  # acknowledged, ignored
    first, second = await channel.events(direction="out", kind="message")
    assert first.delivery_status == "read"
    assert [e.payload["status"] for e in await channel.events(kind="delivery")
            if e.payload["message_event_id"] == first.id] == ["sent", "read", "delivered"]
    assert second.delivery_status == "failed"
    [notice] = [e for e in await channel.events(kind="delivery") if e.payload["message_event_id"] == second.id]
    assert notice.text == "Not delivered: (131026) Message undeliverable: Message Undeliverable."
    assert (notice.payload["error_code"], notice.payload["error_title"]) == (131026, "Message undeliverable")
    async with channel.sessions() as session:
        assert (await verify_case(session, second.case_id)).ok


async def test_concurrent_duplicates_store_one_event(channel) -> None:
    body = text_webhook()
    rows = [await store_webhook(channel.sessions, "whatsapp", body) for _ in range(3)]
    await asyncio.gather(*(channel.ingest.process_row(row) for row in rows))
    await channel.flush()
    assert len(await channel.events(direction="in")) == 1
    assert len(channel.graph.sends()) == 1


async def test_two_workers_racing_on_a_new_customer_and_a_repeated_wamid(channel) -> None:
    other = WhatsAppIngest(channel.sessions, channel.conversations, channel.ingest.media)
    bodies = [text_webhook("uno", wamid="wamid.R1"), text_webhook("dos", wamid="wamid.R2"),
              text_webhook("uno", wamid="wamid.R1")]
    rows = [await store_webhook(channel.sessions, "whatsapp", body) for body in bodies]
    await asyncio.gather(*(worker.process_row(row) for row in rows for worker in (channel.ingest, other)))
    await channel.flush()
    inbound = await channel.events(direction="in")
    assert sorted(e.provider_id for e in inbound) == ["wamid.R1", "wamid.R2"]
    assert len({e.customer_id for e in inbound}) == 1 and len({e.case_id for e in inbound}) == 1
    async with channel.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboundWebhook)
                                    .where(InboundWebhook.processed_at.is_(None))) == 0
    assert len(channel.rasa.asked) == 2


async def test_a_batch_of_thousands_of_broken_items_keeps_the_first_hundred_and_a_count(channel) -> None:
    """A signed body of 3 MB could hold a million broken items: the table keeps a bounded number per body."""
    body = messages_webhook({"id": "wamid.GOOD", "type": "text", "text": {"body": "hola"}},
                            *({"id": f"wamid.BAD{n}", "type": "text", "timestamp": "x"} for n in range(150)))
    row_id = await channel.webhook(body)
    async with channel.sessions() as session:
        errors = list(await session.scalars(select(RefusedWebhookItem.error).where(
            RefusedWebhookItem.webhook_id == row_id).order_by(RefusedWebhookItem.id)))
        row = await session.get(InboundWebhook, row_id)
    assert len(errors) == 100 and errors[-1].endswith(f"(and 50 more refused items in this body, see inbound_webhooks "
                                                      f"id {row_id})")
    assert row.last_error == "150 item(s) refused, see refused_webhook_items"
    assert [e.text for e in await channel.events(direction="in")] == ["hola"]
