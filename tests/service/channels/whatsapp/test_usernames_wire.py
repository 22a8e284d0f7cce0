"""WhatsApp usernames on the wire: a customer who hides their number is read by their business-scoped user id
and answered with `recipient` (Meta's documented shapes, tests/service/channels/whatsapp/fixtures)."""
from __future__ import annotations

import json

from handoff.channels.whatsapp.addresses import bsuid_address, graph_recipient
from handoff.channels.whatsapp.graph_bodies import render, template_body
from handoff.channels.whatsapp.inbound import parse_webhook
from handoff.channels.whatsapp.ingest import inbound_message
from handoff.core.messages import OutboundMessage, QuickReply
from tests.service.support.graph_api import fixture

BSUID = "MX.1502576394655843"


def body_of(data: object) -> bytes:
    return json.dumps(data).encode()


def test_a_username_only_text_message_is_read_by_its_business_scoped_id() -> None:
    batch = parse_webhook(body_of(fixture("webhook_text_username_only.json")))
    assert batch.refused == ()
    [message] = batch.messages
    assert (message.wa_id, message.user_id, message.username, message.profile_name) == (
        None, BSUID, "@sofi.rojas", "Sofia Rojas")
    assert message.text == message.bot_input == "hola, quiero saber de mi pedido" and message.for_bot
    assert message.address == message.payload["address"] == bsuid_address(BSUID) == f"whatsapp_bsuid:{BSUID}"
    assert "wa_id" not in message.payload and message.payload["user_id"] == BSUID

    inbound = inbound_message(message)
    assert (inbound.identity_kind, inbound.identity_value, inbound.verified, inbound.verified_by) == (
        "whatsapp_bsuid", BSUID, True, "whatsapp")
    assert inbound.linked_identities == () and inbound.handle == "@sofi.rojas"
    assert inbound.address == f"whatsapp_bsuid:{BSUID}"


def test_a_username_only_delivered_status_names_the_business_scoped_id() -> None:
    batch = parse_webhook(body_of(fixture("webhook_status_delivered_username_only.json")))
    assert batch.refused == ()
    [status] = batch.statuses
    assert (status.wamid, status.status, status.timestamp) == (
        "wamid.HBgNMTIzNDU2Nzg5MDEyFQIAERgSMkQ1MzQ4QjQ1RUU4RjE2NzVBAA==", "delivered", 1795000060)
    assert (status.recipient_id, status.recipient_user_id, status.username) == (None, BSUID, "@sofi.rojas")


def test_a_message_with_both_ids_links_the_phone_and_the_business_scoped_id() -> None:
    data = fixture("webhook_text_message.json")
    value = data["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["user_id"] = BSUID  # Meta adds it to every contact since April 2026
    [message] = parse_webhook(body_of(data)).messages
    assert (message.wa_id, message.user_id, message.address) == ("16505551234", BSUID, "16505551234")
    inbound = inbound_message(message)
    assert (inbound.identity_kind, inbound.identity_value) == ("phone", "+16505551234")
    assert inbound.linked_identities == (("whatsapp_bsuid", BSUID),) and inbound.address == "16505551234"


def test_an_answer_to_a_business_scoped_id_goes_with_recipient_as_documented() -> None:
    expected = fixture("send_text_to_bsuid_request.json")
    [body] = render(OutboundMessage(actor="bot", text=expected["text"]["body"]), bsuid_address(expected["recipient"]))
    assert body == expected and "to" not in body
    [buttons] = render(OutboundMessage(actor="bot", text="¿Algo más?", quick_replies=(QuickReply("Sí", "/affirm"),)),
                       bsuid_address(BSUID))
    assert buttons["recipient"] == BSUID and buttons["type"] == "interactive" and "to" not in buttons
    template = template_body(bsuid_address(BSUID), {"name": "case_follow_up", "language": "es_MX"})
    assert template["recipient"] == BSUID and "to" not in template
    assert graph_recipient("16505551234") == ("to", "16505551234")
    assert render(OutboundMessage(actor="bot", text="hola"), "16505551234")[0]["to"] == "16505551234"


def test_a_message_without_any_sender_or_with_a_malformed_id_is_refused_alone() -> None:
    data = fixture("webhook_text_username_only.json")
    value = data["entry"][0]["changes"][0]["value"]
    good = value["messages"][0]
    value["messages"] = [{**good, "id": "wamid.GOOD1"},
                         {key: v for key, v in good.items() if key != "from_user_id"} | {"id": "wamid.NOBODY"},
                         {**good, "id": "wamid.ODD", "from_user_id": "<script>"},
                         {**good, "id": "wamid.GOOD2"}]
    batch = parse_webhook(body_of(data))
    assert [m.wamid for m in batch.messages] == ["wamid.GOOD1", "wamid.GOOD2"]
    nobody, odd = batch.refused
    assert nobody.path == "entry[0].changes[0].value.messages[1]"
    assert "message without `from` or `from_user_id`" in nobody.error
    assert odd.path == "entry[0].changes[0].value.messages[2]" and "from_user_id" in odd.error
