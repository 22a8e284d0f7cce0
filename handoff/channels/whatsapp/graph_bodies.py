"""Graph API message bodies out: texts, reply buttons, lists, images, templates, read receipts, in Meta's limits.

Pure functions only; an address goes out as `to` (a wa_id) or `recipient` (a business-scoped user id).
"""
from __future__ import annotations

from typing import Any

from handoff.channels.whatsapp.addresses import graph_recipient
from handoff.core.messages import OutboundMessage, QuickReply
from handoff.core.texts import text as service_text

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
MAX_BUTTONS = 3
ROW_TITLE_LIMIT = 24
ROW_ID_LIMIT = 200
ROW_DESCRIPTION_LIMIT = 72
MAX_ROWS = 10


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Long texts go out as several messages, cut at line or word boundaries when possible."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        at = max(rest.rfind("\n", 0, limit), rest.rfind(" ", 0, limit))
        at = at if at > limit // 2 else limit
        chunks.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    return [*chunks, rest] if rest else chunks


def _envelope(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    """A message body for an address: `to` a wa_id, or `recipient` a business-scoped user id (never both: with
    both, Meta sends to `to`)."""
    field_name, value = graph_recipient(to)
    return {"messaging_product": "whatsapp", "recipient_type": "individual", field_name: value, "type": kind,
            kind: content}


def text_body(to: str, text: str) -> dict[str, Any]:
    return _envelope(to, "text", {"preview_url": "http://" in text or "https://" in text, "body": text})


def buttons_body(to: str, text: str, replies: tuple[QuickReply, ...]) -> dict[str, Any]:
    """Interactive reply buttons: at most 3, titles cut to 20 characters, the payload as the reply id."""
    buttons = [{"type": "reply", "reply": {"id": reply.payload[:BUTTON_ID_LIMIT] or reply.title[:BUTTON_ID_LIMIT],
                                           "title": cut(reply.title, BUTTON_TITLE_LIMIT)}}
               for reply in replies[:MAX_BUTTONS]]
    return _envelope(to, "interactive", {"type": "button", "body": {"text": text}, "action": {"buttons": buttons}})


def list_body(to: str, text: str, replies: tuple[QuickReply, ...], language: str,
              tone: str = "tuteo") -> dict[str, Any]:
    """An interactive list for more than 3 choices: up to 10 rows; a cut title keeps its full text as description."""
    rows = []
    for reply in replies[:MAX_ROWS]:
        row: dict[str, Any] = {"id": reply.payload[:ROW_ID_LIMIT] or reply.title[:ROW_ID_LIMIT],
                               "title": cut(reply.title, ROW_TITLE_LIMIT)}
        if len(reply.title) > ROW_TITLE_LIMIT:
            row["description"] = cut(reply.title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    label = service_text("list_button", language, tone)
    return _envelope(to, "interactive", {"type": "list", "body": {"text": text},
                                         "action": {"button": label, "sections": [{"title": cut(label, 24),
                                                                                  "rows": rows}]}})


def speaks(message: OutboundMessage) -> bool:
    """Whether rendering the message writes words of ours (a list's prompt and button), so needs the language."""
    return bool(message.quick_replies) and not isinstance((message.custom or {}).get("whatsapp_template"), dict)


def render(message: OutboundMessage, to: str, language: str = "es", tone: str = "tuteo") -> list[dict[str, Any]]:
    """Graph API bodies for one outbound message, in sending order."""
    template = message.custom.get("whatsapp_template") if message.custom else None
    if isinstance(template, dict):
        return [template_body(to, template)]
    text = message.text or ""
    if text and message.agent_name:
        text = f"*{message.agent_name}*: {text}"
    bodies: list[dict[str, Any]] = []
    if message.image and text and not message.quick_replies and len(text) <= CAPTION_LIMIT:
        return [_envelope(to, "image", {"link": message.image, "caption": text})]
    if message.quick_replies:
        prompt = service_text("list_prompt", language, tone)
        lead, body = (split_text(text), prompt) if len(text) > BODY_LIMIT else ([], text or prompt)
        bodies += [text_body(to, chunk) for chunk in lead]
        if len(message.quick_replies) <= MAX_BUTTONS:
            bodies.append(buttons_body(to, body, message.quick_replies))
        else:
            bodies.append(list_body(to, body, message.quick_replies, language, tone))
    elif text:
        bodies += [text_body(to, chunk) for chunk in split_text(text)]
    if message.image:
        bodies.append(_envelope(to, "image", {"link": message.image}))
    return bodies


def template_body(to: str, template: dict[str, Any]) -> dict[str, Any]:
    """A template message: name, language code and the body parameters in order."""
    content: dict[str, Any] = {"name": template["name"], "language": {"policy": "deterministic",
                                                                      "code": template["language"]}}
    parameters = template.get("parameters") or []
    if parameters:
        content["components"] = [{"type": "body", "parameters": [{"type": "text", "text": str(value)}
                                                                 for value in parameters]}]
    return _envelope(to, "template", content)


def authentication_body(to: str, name: str, language: str, code: str) -> dict[str, Any]:
    """An authentication template with a copy-code button (Meta: the code is the body's one parameter and the
    button's, a button of sub_type url at index 0)."""
    return _envelope(to, "template", {
        "name": name, "language": {"policy": "deterministic", "code": language},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": code}]},
                       {"type": "button", "sub_type": "url", "index": "0",
                        "parameters": [{"type": "text", "text": code}]}]})


def read_body(wamid: str) -> dict[str, Any]:
    """Marks a customer's message (and all before it) as read: blue ticks."""
    return {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
