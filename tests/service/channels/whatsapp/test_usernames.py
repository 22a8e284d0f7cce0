"""Customers who hide their number behind a WhatsApp username: one customer known by their business-scoped user id,
linked to their phone when Meta shows both, answered with `recipient` (real database, Graph API stand-in)."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from handoff.channels.whatsapp.window import OutsideWindow
from handoff.core.customers import resolve_customer
from handoff.core.merges import undo_merge
from handoff.core.timeline import verify_case
from handoff.store.models import Case, Customer, Identity, Merge, MergeSuggestion, Outbox
from tests.service.support.whatsapp_webhooks import (
    BSUID,
    WA_ID,
    both_ids_webhook,
    status_webhook,
    text_webhook,
    username_status_webhook,
    username_webhook,
)


async def identities(channel) -> list[tuple[str, str, str, bool, str | None]]:
    async with channel.sessions() as session:
        return [(i.customer_id, i.kind, i.value, i.verified, i.verified_by)
                for i in await session.scalars(select(Identity).order_by(Identity.id))]


async def wamid_of(channel, event_id: int) -> str:
    async with channel.sessions() as session:
        return str(await session.scalar(select(Outbox.provider_message_id).where(Outbox.event_id == event_id,
                                                                                 Outbox.payload["kind"].as_string()
                                                                                 == "message")))


async def test_a_username_only_message_opens_a_case_for_that_id_and_is_answered_with_recipient(channel) -> None:
    await channel.webhook(username_webhook())
    [asked] = channel.rasa.asked
    assert asked["message"] == "hola, quiero saber de mi pedido"
    assert asked["metadata"]["customer"]["name"] == "Sofia Rojas"
    assert asked["metadata"]["customer"]["identities"] == [{"kind": "whatsapp_bsuid", "value": BSUID,
                                                            "verified": True}]
    assert channel.graph.sends() == [{"messaging_product": "whatsapp", "recipient_type": "individual",
                                      "recipient": BSUID, "type": "text",
                                      "text": {"preview_url": False,
                                               "body": "Recibido: hola, quiero saber de mi pedido"}}]
    assert channel.graph.reads() == [{"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.USER1"}]
    inbound, answer = await channel.events(kind="message")
    assert inbound.payload["address"] == f"whatsapp_bsuid:{BSUID}" and inbound.payload["username"] == "@sofi.rojas"
    assert answer.delivery_status == "accepted"
    [(customer_id, *identity)] = await identities(channel)
    assert identity == ["whatsapp_bsuid", BSUID, True, "whatsapp"]
    async with channel.sessions() as session:
        customer = await session.get(Customer, customer_id)
        case = await session.get(Case, inbound.case_id)
        assert (customer.display_name, customer.handle) == ("Sofia Rojas", "@sofi.rojas")
        assert (case.customer_id, case.channel) == (customer_id, "whatsapp")
        assert (await verify_case(session, case.id)).ok

    await channel.webhook(username_status_webhook(await wamid_of(channel, answer.id), "delivered"))
    [_, answer] = await channel.events(kind="message")
    assert answer.delivery_status == "delivered"
    [delivery] = await channel.events(kind="delivery")
    assert delivery.payload["status"] == "delivered" and delivery.payload["message_event_id"] == answer.id


async def test_an_agents_answer_to_a_username_only_customer_goes_with_recipient_inside_the_window(channel) -> None:
    channel.rasa.reply = lambda message: [{"custom": {"handoff": {"reason": "explicit_request"}}}]
    await channel.webhook(username_webhook("quiero hablar con una persona"))
    [inbound] = await channel.events(direction="in")
    assert (await channel.deliverer.window(inbound.case_id)).open
    sent_before = len(channel.graph.sends())
    event_id = await channel.deliverer.send_agent_text(inbound.case_id, "agent-1", "Hola, soy Ana", agent_name="Ana")
    await channel.flush()
    [text] = channel.graph.sends()[sent_before:]
    assert text["recipient"] == BSUID and "to" not in text and text["text"]["body"] == "*Ana*: Hola, soy Ana"
    async with channel.sessions() as session:
        row = await session.scalar(select(Outbox).where(Outbox.event_id == event_id))
        assert row.recipient == f"whatsapp_bsuid:{BSUID}" and row.status == "sent"


async def test_the_window_closes_for_a_username_only_customer_and_a_template_goes_with_recipient(channel) -> None:
    await channel.webhook(username_webhook("hola", timestamp=str(int(time.time()) - 25 * 3600)))
    [inbound] = await channel.events(direction="in")
    assert not (await channel.deliverer.window(inbound.case_id)).open
    sent_before = len(channel.graph.sends())
    with pytest.raises(OutsideWindow):
        await channel.deliverer.send_agent_text(inbound.case_id, "agent-1", "Hola, ya revise tu pedido")
    await channel.deliverer.send_template(inbound.case_id, "agent-1", "case_follow_up", ["Sofia"], language="es_MX")
    await channel.flush()
    [template] = channel.graph.sends()[sent_before:]
    assert template["recipient"] == BSUID and template["type"] == "template" and "to" not in template


async def test_a_webhook_with_both_ids_links_the_id_to_the_phones_customer(channel) -> None:
    await channel.webhook(text_webhook("hola", wamid="wamid.PHONE1"))  # before April 2026: the number only
    await channel.webhook(both_ids_webhook("sigo aqui", wamid="wamid.BOTH1"))
    await channel.webhook(username_webhook("ahora con usuario", wamid="wamid.USER1"))  # the number now hidden
    inbound = await channel.events(direction="in")
    assert [e.provider_id for e in inbound] == ["wamid.PHONE1", "wamid.BOTH1", "wamid.USER1"]
    assert len({e.customer_id for e in inbound}) == 1 and len({e.case_id for e in inbound}) == 1
    assert [identity[1:] for identity in await identities(channel)] == [
        ("phone", "+16505551234", True, "whatsapp"), ("whatsapp_bsuid", BSUID, True, "whatsapp")]
    async with channel.sessions() as session:
        customer = await session.get(Customer, inbound[0].customer_id)
        assert (customer.display_name, customer.handle) == ("Sheena Nelson", "@sofi.rojas")
    sends = channel.graph.sends()
    assert [s.get("to") for s in sends[:2]] == [WA_ID, WA_ID]
    assert sends[2]["recipient"] == BSUID and "to" not in sends[2]  # answered where the customer wrote from


async def test_a_username_only_customer_who_shows_the_number_later_keeps_one_customer(channel) -> None:
    await channel.webhook(username_webhook("hola", wamid="wamid.USER1"))
    await channel.webhook(both_ids_webhook("este es mi numero", wamid="wamid.BOTH1"))
    inbound = await channel.events(direction="in")
    assert len({e.customer_id for e in inbound}) == 1 and len({e.case_id for e in inbound}) == 1
    assert [identity[1:3] for identity in await identities(channel)] == [
        ("whatsapp_bsuid", BSUID), ("phone", "+16505551234")]


async def test_an_id_and_a_phone_of_two_customers_proved_together_merge_them_undoably(channel) -> None:
    async with channel.sessions() as session, session.begin():
        caller = await resolve_customer(session, "phone", "+16505551234", verified=True, verified_by="caller_id")
    await channel.webhook(username_webhook("hola", wamid="wamid.USER1"))
    await channel.webhook(both_ids_webhook("soy yo", wamid="wamid.BOTH1"))  # WhatsApp proves both are one user
    by_wamid = {e.provider_id: e for e in await channel.events(direction="in")}
    username_customer = by_wamid["wamid.USER1"].customer_id  # filed under the survivor since the merge
    async with channel.sessions() as session:
        merge = await session.scalar(select(Merge))
        assert merge is not None and (merge.actor, merge.survivor_customer_id) == ("system", caller.id)
        assert merge.evidence["identity_kind"] == "whatsapp_bsuid" and merge.evidence["owner_verified_by"] == "whatsapp"
        assert await session.scalar(select(MergeSuggestion)) is None  # verified evidence: no agent needed
    assert username_customer == by_wamid["wamid.BOTH1"].customer_id == caller.id
    assert by_wamid["wamid.USER1"].case_id == by_wamid["wamid.BOTH1"].case_id  # one customer, one case
    assert {customer_id for customer_id, *_ in await identities(channel)} == {caller.id}
    async with channel.sessions() as session, session.begin():
        await undo_merge(session, merge.id, "agent:test")  # an agent may still take it back
    owners = {(kind, value): customer_id for customer_id, kind, value, _, _ in await identities(channel)}
    assert owners[("phone", "+16505551234")] == caller.id
    assert owners[("whatsapp_bsuid", BSUID)] == merge.absorbed_customer_id != caller.id
    async with channel.sessions() as session:
        for case_id in {e.case_id for e in by_wamid.values()}:
            assert (await verify_case(session, case_id)).ok


async def test_a_status_naming_both_ids_links_them_on_the_customer_it_went_to(channel) -> None:
    await channel.webhook(text_webhook("hola", wamid="wamid.PHONE1"))
    [_, answer] = await channel.events(kind="message")
    data = json.loads(status_webhook(await wamid_of(channel, answer.id), "delivered"))
    data["entry"][0]["changes"][0]["value"]["statuses"][0]["recipient_user_id"] = BSUID
    data["entry"][0]["changes"][0]["value"]["contacts"] = [{"profile": {"username": "@sheena"}, "wa_id": WA_ID,
                                                            "user_id": BSUID}]
    await channel.webhook(json.dumps(data).encode())
    assert [identity[1:3] for identity in await identities(channel)] == [
        ("phone", "+16505551234"), ("whatsapp_bsuid", BSUID)]
    async with channel.sessions() as session:
        assert (await session.get(Customer, answer.customer_id)).handle == "@sheena"
    await channel.webhook(username_webhook("hola otra vez", wamid="wamid.USER1"))
    assert len({e.customer_id for e in await channel.events(direction="in")}) == 1
