"""The WhatsApp adapter's pure decisions: signatures, parsing every message type, rendering Graph API bodies."""
from __future__ import annotations

import copy
import json

import pytest

from handoff.channels.whatsapp.graph_bodies import read_body, render, template_body
from handoff.channels.whatsapp.inbound import FALLBACK_INPUT, MalformedWebhook, parse_webhook
from handoff.channels.whatsapp.signature import SignatureCheck, check_signature, sign
from handoff.core.messages import OutboundMessage, QuickReply
from tests.service.support.graph_api import fixture

SECRET = "app-secret"


def body_of(data: object) -> bytes:
    return json.dumps(data).encode()


def with_message(message: dict, contacts: bool = True) -> bytes:
    """The text-message fixture with its message replaced."""
    data = fixture("webhook_text_message.json")
    value = data["entry"][0]["changes"][0]["value"]
    value["messages"] = [{"from": "16505551234", "id": "wamid.X1", "timestamp": "1749416383", **message}]
    if not contacts:
        del value["contacts"]
    return body_of(data)


def one(message: dict):
    return parse_webhook(with_message(message)).messages[0]


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    raw = (__import__("pathlib").Path(__file__).parent / "fixtures" / "webhook_text_message.json").read_bytes()
    header = sign(SECRET, raw)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert check_signature(SECRET, raw, header) is SignatureCheck.OK
    assert check_signature(SECRET, raw + b" ", header) is SignatureCheck.INVALID  # re-serialized bodies fail
    assert check_signature("other", raw, header) is SignatureCheck.INVALID
    assert check_signature(SECRET, raw, header.replace("sha256=", "sha1=")) is SignatureCheck.INVALID
    assert check_signature(SECRET, raw, None) is SignatureCheck.MISSING
    assert check_signature(SECRET, raw, "") is SignatureCheck.MISSING


def test_text_fixture() -> None:
    batch = parse_webhook(body_of(fixture("webhook_text_message.json")))
    [message] = batch.messages
    assert (message.wamid, message.wa_id, message.profile_name) == (
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "16505551234", "Sheena Nelson")
    assert message.text == message.bot_input == "Does it come in another color?"
    assert message.for_bot and message.timestamp == 1749416383 and message.payload["address"] == "16505551234"


def test_button_and_list_replies_give_the_assistant_the_reply_id() -> None:
    [button] = parse_webhook(body_of(fixture("webhook_interactive_button_reply.json"))).messages
    [row] = parse_webhook(body_of(fixture("webhook_interactive_list_reply.json"))).messages
    assert (button.text, button.bot_input) == ("Cancel", "cancel-button")
    assert button.context_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MEM2RUJFNkI0RENGQTVDRjUA"
    assert (row.text, row.bot_input) == ("Priority Mail Express", "priority_express")


def test_template_quick_reply_button_links_to_the_template() -> None:
    message = one({"type": "button", "context": {"from": "15550783881", "id": "wamid.TEMPLATE"},
                   "button": {"payload": "/affirm", "text": "Yes, continue"}})
    assert (message.text, message.bot_input, message.context_id) == ("Yes, continue", "/affirm", "wamid.TEMPLATE")


def test_media_messages_carry_what_is_needed_to_fetch_them() -> None:
    [image] = parse_webhook(body_of(fixture("webhook_image_message.json"))).messages
    assert image.text == "[image] Taj Mahal" and image.bot_input == "Taj Mahal"
    assert image.media["id"] == "1003383421387256" and image.media["sha256"].endswith("=")
    voice = one({"type": "audio", "audio": {"id": "m2", "mime_type": "audio/ogg; codecs=opus", "voice": True}})
    assert voice.text == "[voice note]" and voice.bot_input == FALLBACK_INPUT and voice.media["id"] == "m2"
    document = one({"type": "document", "document": {"id": "m3", "filename": "factura.pdf", "caption": "mi factura"}})
    assert document.text == "[document: factura.pdf] mi factura" and document.bot_input == "mi factura"
    sticker = one({"type": "sticker", "sticker": {"id": "m4", "mime_type": "image/webp", "animated": False}})
    assert sticker.text == "[sticker]" and not sticker.for_bot
    video = one({"type": "video", "video": {"id": "m5", "mime_type": "video/mp4"}})
    assert video.text == "[video]" and video.for_bot and video.bot_input == FALLBACK_INPUT


def test_location_contacts_reaction_referral_unsupported_and_system() -> None:
    location = one({"type": "location", "location": {"latitude": 19.43, "longitude": -99.13, "name": "Oficina",
                                                      "address": "Reforma 1"}})
    assert location.text == "[location] Oficina Reforma 1 (19.43, -99.13)"
    contacts = one({"type": "contacts", "contacts": [{"name": {"formatted_name": "Ana Lopez"},
                                                      "phones": [{"phone": "+52 55 1234 5678", "type": "CELL"}]}]})
    assert contacts.text == "[contacts] Ana Lopez +52 55 1234 5678" and contacts.bot_input == FALLBACK_INPUT
    reaction = one({"type": "reaction", "reaction": {"message_id": "wamid.OURS", "emoji": "👍"}})
    assert (reaction.text, reaction.context_id, reaction.for_bot) == ("[reaction 👍]", "wamid.OURS", False)
    removed = one({"type": "reaction", "reaction": {"message_id": "wamid.OURS"}})
    assert removed.text == "[reaction removed]"
    referral = one({"type": "text", "text": {"body": "Hola, vi su anuncio"},
                    "referral": {"source_url": "https://fb.me/ad", "source_type": "ad", "source_id": "1",
                                 "headline": "Envio gratis", "ctwa_clid": "abc"}})
    assert referral.bot_input == "Hola, vi su anuncio"
    assert referral.text.endswith("[from ad: Envio gratis https://fb.me/ad]")
    assert referral.payload["referral"]["ctwa_clid"] == "abc"
    unsupported = one({"type": "unsupported", "unsupported": {"type": "poll_creation"},
                       "errors": [{"code": 131051, "title": "Message type unknown",
                                   "error_data": {"details": "Message type is currently not supported."}}]})
    assert unsupported.text.startswith("[unsupported message: (131051) Message type unknown")
    assert unsupported.payload["errors"][0]["code"] == 131051 and unsupported.bot_input == FALLBACK_INPUT
    system = one({"type": "system", "system": {"body": "User changed number", "type": "user_changed_number"}})
    assert system.text == "[system] User changed number" and not system.for_bot
    future = one({"type": "hologram", "hologram": {"x": 1}})
    assert future.text == "[hologram message]" and not future.for_bot


def test_a_batch_with_several_entries_changes_messages_and_statuses() -> None:
    data = fixture("webhook_text_message.json")
    status = fixture("webhook_status_sent_with_pricing.json")["entry"][0]["changes"][0]
    second = copy.deepcopy(data["entry"][0])
    second["changes"][0]["value"]["messages"][0]["id"] = "wamid.SECOND"
    second["changes"][0]["value"]["messages"].append({**second["changes"][0]["value"]["messages"][0],
                                                      "id": "wamid.THIRD"})
    second["changes"].append(status)
    second["changes"][0]["value"]["errors"] = [{"code": 130501, "title": "Unsupported"}]
    data["entry"].append(second)
    batch = parse_webhook(body_of(data))
    assert [m.wamid for m in batch.messages][1:] == ["wamid.SECOND", "wamid.THIRD"]
    assert [(s.status, s.extra["pricing"]["category"]) for s in batch.statuses] == [("sent", "marketing")]
    assert batch.errors[0]["code"] == 130501


def test_failed_status_keeps_meta_error() -> None:
    data = fixture("webhook_status_sent_with_pricing.json")
    data["entry"][0]["changes"][0]["value"]["statuses"][0].update(
        {"status": "failed", "errors": [{"code": 131026, "title": "Message undeliverable"}]})
    [status] = parse_webhook(body_of(data)).statuses
    assert status.status == "failed" and status.errors[0]["code"] == 131026


@pytest.mark.parametrize("raw", [
    b"not json", b"[]", b'{"object": "page", "entry": []}', b'{"object": "whatsapp_business_account", "entry": {}}',
    b"\xff\xfe", b'{"object": "whatsapp_business_account", "entry": [{"id": NaN}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"id": 1e999}]}',
])
def test_malformed_bodies_are_refused(raw: bytes) -> None:
    with pytest.raises(MalformedWebhook):
        parse_webhook(raw)


@pytest.mark.parametrize(("part", "path", "reason"), [
    ({"changes": "x"}, "entry[0]", "entry[0].changes: Input should be a valid list"),
    ({"changes": [{"value": []}]}, "entry[0].changes[0]", "entry[0].changes[0].value: Input should be"),
    ({"changes": [{"value": {"messages": [{"type": "text"}]}}]}, "entry[0].changes[0].value.messages[0]",
     "entry[0].changes[0].value.messages[0].id: Field required"),
    ({"changes": [{"value": {"statuses": [{"id": "x"}]}}]}, "entry[0].changes[0].value.statuses[0]",
     "entry[0].changes[0].value.statuses[0].status: Field required"),
    ({"changes": [{"value": {"messages": [{"id": "w", "from": "1", "type": "text", "timestamp": "1" * 30}]}}]},
     "entry[0].changes[0].value.messages[0]", "messages[0].timestamp: must be Unix seconds within years 1970..9999"),
    ({"changes": [{"value": {"messages": [{"id": "w", "from": {"n": "1"}, "type": "text"}]}}]},
     "entry[0].changes[0].value.messages[0]", "messages[0].from: Input should be a valid string"),
    ({"changes": [{"value": {"statuses": [{"id": "w", "status": "sent", "timestamp": 17500}]}}]}, None, None),
])
def test_a_bad_part_of_a_batch_is_refused_alone(part: dict, path: str | None, reason: str | None) -> None:
    """Entries, changes, messages and statuses are items: one that fails its schema is kept with where and why."""
    good = fixture("webhook_text_message.json")
    good["entry"].append(part)
    batch = parse_webhook(body_of(good))
    assert [m.text for m in batch.messages] == ["Does it come in another color?"]
    if path is None:
        assert batch.refused == () and batch.statuses[0].timestamp == 17500
        return
    [refused] = batch.refused
    assert refused.path == path.replace("entry[0]", "entry[1]", 1)
    assert reason.replace("entry[0]", "entry[1]", 1) in refused.error
    assert json.loads(refused.raw) == (part if path == "entry[0]" else refused_part(part, path))


def refused_part(part: dict, path: str) -> object:
    """The item at `path` (entry[0]… relative to `part` as the entry)."""
    item: object = part
    for step in path.split(".")[1:]:
        name, _, index = step.partition("[")
        item = item[name]  # type: ignore[index]
        if index:
            item = item[int(index.rstrip("]"))]  # type: ignore[index]
    return item


def test_wrong_types_and_oversized_strings_in_a_message_are_refused() -> None:
    for message in ({"type": "text", "text": {"body": "x" * 4097}}, {"type": "text", "text": "hola"},
                    {"type": "location", "location": {"latitude": 91, "longitude": 0}},
                    {"type": "location", "location": {"latitude": "19.4", "longitude": 0}},
                    {"type": "audio", "audio": {"id": "m", "voice": "yes"}},
                    {"type": "Text!", "Text!": {}}, {"type": "text", "id": "w" * 201},
                    {"type": "text", "timestamp": True}, {"type": "text", "timestamp": "-5"}):
        batch = parse_webhook(with_message(message))
        assert batch.messages == () and len(batch.refused) == 1, message


def test_an_interactive_reply_of_an_unexpected_shape_is_read_not_crashed_on() -> None:
    """A crash here failed the whole stored batch at every retry: the other messages in it were never stored."""
    flow = one({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": "{\"a\": 1}"}})
    assert (flow.text, flow.bot_input) == ("[interactive nfm_reply]", FALLBACK_INPUT)


def test_text_renders_as_the_documented_send_request() -> None:
    expected = fixture("send_text_request.json")
    [body] = render(OutboundMessage(actor="bot", text=expected["text"]["body"]), expected["to"])
    assert body == expected


def test_up_to_three_buttons_render_as_reply_buttons_with_titles_cut_to_20() -> None:
    replies = (QuickReply("Si, con una persona por favor", "/affirm"), QuickReply("No", "/deny"))
    [body] = render(OutboundMessage(actor="bot", text="¿Te comunico?", quick_replies=replies), "16505551234")
    documented = fixture("send_interactive_buttons_request.json")
    assert body.keys() == documented.keys() and body["type"] == "interactive"
    assert body["interactive"]["type"] == "button" and body["interactive"]["body"] == {"text": "¿Te comunico?"}
    assert body["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "/affirm", "title": "Si, con una persona…"}},
        {"type": "reply", "reply": {"id": "/deny", "title": "No"}}]
    assert len(body["interactive"]["action"]["buttons"][0]["reply"]["title"]) == 20


def test_more_than_three_choices_render_as_a_list_of_at_most_ten_rows() -> None:
    replies = tuple(QuickReply(f"Opcion numero {n} con un titulo largo", f"/choose{{\"n\":{n}}}") for n in range(12))
    bodies = render(OutboundMessage(actor="bot", text="Elige", quick_replies=replies), "16505551234", "en")
    [body] = bodies
    documented = fixture("send_interactive_list_request.json")["interactive"]
    interactive = body["interactive"]
    assert interactive["type"] == documented["type"] == "list"
    assert interactive["action"].keys() == documented["action"].keys()
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 10 and interactive["action"]["button"] == "See options"
    assert all(len(row["title"]) <= 24 and len(row.get("description", "")) <= 72 for row in rows)
    assert rows[0]["id"] == '/choose{"n":0}' and rows[0]["description"].startswith("Opcion numero 0")
    four = render(OutboundMessage(actor="bot", text="x", quick_replies=replies[:4]), "1")[0]
    assert four["interactive"]["type"] == "list" and four["interactive"]["action"]["button"] == "Ver opciones"


def test_long_texts_split_and_buttons_keep_a_short_body() -> None:
    long_text = ("palabra " * 700).strip()  # 5599 characters
    bodies = render(OutboundMessage(actor="bot", text=long_text, quick_replies=(QuickReply("Si", "/affirm"),)), "1")
    assert [b["type"] for b in bodies] == ["text", "text", "interactive"]
    assert all(len(b["text"]["body"]) <= 4096 for b in bodies[:2])
    assert " ".join(b["text"]["body"] for b in bodies[:2]) == long_text
    assert bodies[2]["interactive"]["body"]["text"] == "Elige una opción:"


def test_images_agent_names_templates_and_read_receipts() -> None:
    [captioned] = render(OutboundMessage(actor="bot", text="Tu guia", image="https://x.test/g.png"), "1")
    assert captioned["image"] == {"link": "https://x.test/g.png", "caption": "Tu guia"}
    [plain] = render(OutboundMessage(actor="bot", image="https://x.test/g.png"), "1")
    assert plain["image"] == {"link": "https://x.test/g.png"}
    [agent] = render(OutboundMessage(actor="agent", text="Hola", agent_name="Ana"), "1")
    assert agent["text"]["body"] == "*Ana*: Hola"
    body = template_body("16505551234", {"name": "case_follow_up", "language": "es_MX", "parameters": ["Sheena"]})
    documented = fixture("template_object_nodejs_sdk.json")
    assert body["type"] == "template" and body["template"].keys() == documented.keys()
    assert body["template"]["language"] == {"policy": "deterministic", "code": "es_MX"}
    assert body["template"]["components"] == [{"type": "body", "parameters": [{"type": "text", "text": "Sheena"}]}]
    expected = fixture("mark_as_read_request.json")
    assert read_body(expected["message_id"]) == expected
