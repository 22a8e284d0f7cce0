"""WhatsApp webhook bodies in: every entry, change, message and status of one POST, read part by part.

Pure functions only: a part that fails its schema is refused alone; each message is rendered for agents and for the
assistant. Nothing else in the service knows Meta's shapes.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from handoff.channels.whatsapp import schema
from handoff.channels.whatsapp.addresses import bsuid_address
from handoff.channels.whatsapp.schema import RefusedItem
from handoff.core.json_values import NUL_REFUSED, JsonRefused, load_strict_object, nul_at

NAME_CHARS = 200  # customers.display_name
HANDLE_CHARS = 64  # customers.handle; Meta's usernames are 3 to 35 characters
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
FALLBACK_INPUT = "/nlu_fallback"  # what the assistant gets for something it cannot read: it asks to rephrase


class MalformedWebhook(ValueError):
    """A signed body that is not a WhatsApp webhook as a whole: refused with a 400, never stored."""


PartT = TypeVar("PartT", bound=schema.Part)


@dataclass(frozen=True)
class ParsedMessage:
    """One inbound message of a webhook, already rendered for agents and for the assistant.

    The sender is known by phone (`wa_id`), by business-scoped user id (`user_id`), or both; `address` is where
    answers go (the wa_id when Meta gave it, else the BSUID's address).
    """

    wamid: str
    wa_id: str | None
    profile_name: str | None
    type: str
    timestamp: int | None
    text: str
    bot_input: str
    for_bot: bool
    payload: dict[str, Any]
    media: dict[str, Any] | None = None  # {"id", "mime_type", "sha256", ...} when there is a file to fetch
    context_id: str | None = None  # the message this one answers (button) or reacts to (reaction)
    user_id: str | None = None  # the business-scoped user id (BSUID)
    username: str | None = None  # the WhatsApp username, shown as the customer's handle

    @property
    def address(self) -> str:
        return self.wa_id if self.wa_id else bsuid_address(str(self.user_id))


@dataclass(frozen=True)
class StatusUpdate:
    """What Meta says happened to one of our outbound messages."""

    wamid: str
    status: str
    timestamp: int | None
    recipient_id: str | None
    errors: tuple[dict[str, Any], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    recipient_user_id: str | None = None  # the business-scoped user id, alone when the number is hidden
    username: str | None = None  # in delivered and read statuses of a user with a username


@dataclass(frozen=True)
class WebhookBatch:
    messages: tuple[ParsedMessage, ...]
    statuses: tuple[StatusUpdate, ...]
    errors: tuple[dict[str, Any], ...]  # change-level errors that concern no single message
    refused: tuple[RefusedItem, ...] = ()  # items that could not be read: kept for operators, the rest processed


def _object_or_empty(value: Any) -> dict[str, Any]:
    """Optional parts of a message: an object when Meta sent one, else empty."""
    return value if isinstance(value, dict) else {}


def _list_or_empty(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def read_envelope(body: bytes) -> list[Any]:
    """The `entry` list of a strict-JSON WhatsApp webhook; raises MalformedWebhook when the body as a whole is not."""
    try:
        data = load_strict_object(body)
    except JsonRefused as exc:
        raise MalformedWebhook(str(exc)) from exc
    try:
        return schema.Envelope.model_validate(data).entry
    except ValidationError as exc:
        raise MalformedWebhook(schema.describe(exc)) from exc


class _Reader:
    """Walks one body's entries and changes; every part that fails its schema becomes a refused item."""

    def __init__(self) -> None:
        self.messages: list[ParsedMessage] = []
        self.statuses: list[StatusUpdate] = []
        self.errors: list[dict[str, Any]] = []
        self.refused: list[RefusedItem] = []

    def checked(self, model: type[PartT], item: Any, path: str) -> PartT | None:
        """The item as `model`, else None and the item refused; messages, statuses, errors and contacts (name,
        username) are stored, so a NUL anywhere in one (PostgreSQL's text refuses it, failing the whole batch at
        every retry) refuses it."""
        if model in (schema.Message, schema.Status, schema.MetaError, schema.Contact) and nul_at(item):
            self.refused.append(schema.refused(path, item, f"{path}: {NUL_REFUSED}"))
            return None
        try:
            return model.model_validate(item)
        except ValidationError as exc:
            self.refused.append(schema.refused(path, item, schema.describe(exc, path)))
            return None

    def entry(self, item: Any, path: str) -> None:
        entry = self.checked(schema.Entry, item, path)
        for number, change in enumerate(entry.changes if entry else []):
            self.change(change, f"{path}.changes[{number}]")

    def change(self, item: Any, path: str) -> None:
        change = self.checked(schema.Change, item, path)
        if change is None:
            return
        value, path = change.value, f"{path}.value"
        contacts: dict[str, schema.Contact] = {}  # by wa_id and by user_id: a message or status names either
        for number, raw in enumerate(value.contacts):
            if (contact := self.checked(schema.Contact, raw, f"{path}.contacts[{number}]")) is not None:
                contacts.update({key: contact for key in (contact.wa_id, contact.user_id) if key})
        for number, raw in enumerate(value.messages):
            where = f"{path}.messages[{number}]"
            if (message := self.checked(schema.Message, raw, where)) is not None:
                try:
                    self.messages.append(parse_message(message.model_dump(by_alias=True, exclude_unset=True), contacts))
                except Exception as exc:  # pure code: a shape the schema let through must not fail the batch
                    self.refused.append(schema.refused(where, raw, f"{where}: cannot be read ({type(exc).__name__})"))
        for number, raw in enumerate(value.statuses):
            if (status := self.checked(schema.Status, raw, f"{path}.statuses[{number}]")) is not None:
                self.statuses.append(parse_status(status.model_dump(by_alias=True, exclude_unset=True), contacts))
        for number, raw in enumerate(value.errors):
            if (error := self.checked(schema.MetaError, raw, f"{path}.errors[{number}]")) is not None:
                self.errors.append(error.model_dump(exclude_unset=True))


def parse_webhook(body: bytes) -> WebhookBatch:
    """Every entry, change, message and status of one POST; raises MalformedWebhook only when the body as a whole
    is unreadable (not strict JSON, not an object, not `whatsapp_business_account`, no `entry` list)."""
    reader = _Reader()
    for number, entry in enumerate(read_envelope(body)):
        reader.entry(entry, f"entry[{number}]")
    return WebhookBatch(tuple(reader.messages), tuple(reader.statuses), tuple(reader.errors), tuple(reader.refused))


def _sender(contacts: Mapping[str, schema.Contact] | None, wa_id: str | None,
            user_id: str | None) -> tuple[str | None, str | None, schema.Contact | None]:
    """(wa_id, business-scoped id, their `contacts[]` item) of whoever a message or status names: the item found by
    business-scoped id first, and what the message or status left out taken from it."""
    contacts = contacts or {}
    contact = (contacts.get(user_id) if user_id else None) or (contacts.get(wa_id) if wa_id else None)
    if contact is None:
        return wa_id, user_id, None
    return wa_id or contact.wa_id, user_id or contact.user_id, contact


def _username(contact: schema.Contact | None) -> str | None:
    username = contact.profile.username if contact and contact.profile else None
    return username.strip()[:HANDLE_CHARS] or None if username else None


def parse_status(status: dict[str, Any], contacts: Mapping[str, schema.Contact] | None = None) -> StatusUpdate:
    """A schema-checked `statuses[]` item: sent, delivered, read or failed with Meta's errors."""
    extra = {key: status[key] for key in ("conversation", "pricing") if isinstance(status.get(key), dict)}
    wa_id, user_id, contact = _sender(contacts, status.get("recipient_id"), status.get("recipient_user_id"))
    return StatusUpdate(wamid=status["id"], status=status["status"], timestamp=status.get("timestamp"),
                        recipient_id=wa_id, recipient_user_id=user_id, username=_username(contact),
                        errors=tuple(e for e in status.get("errors") or [] if isinstance(e, dict)), extra=extra)


def describe_error(error: dict[str, Any]) -> str:
    """Meta's error as one line an agent can read: code, title and details."""
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    title = error.get("title") or error.get("message") or "error"
    line = f"({error.get('code')}) {title}" if error.get("code") is not None else str(title)
    return f"{line}: {details}" if details and details != title else line


def parse_message(message: dict[str, Any], contacts: Mapping[str, schema.Contact] | None = None) -> ParsedMessage:
    """A schema-checked `messages[]` item: a readable rendering, the assistant's input and the payload.

    The sender is `from` (a wa_id, missing for a user who hides their number) and `from_user_id` (their
    business-scoped id), completed from the matching `contacts[]` item, which also gives the name and username.
    """
    wamid, kind = str(message["id"]), str(message["type"])
    wa_id, user_id, contact = _sender(contacts, message.get("from"), message.get("from_user_id"))
    name = contact.profile.name if contact and contact.profile else None
    username = _username(contact)
    content = _object_or_empty(message.get(kind))
    context = _object_or_empty(message.get("context"))
    payload: dict[str, Any] = {"address": wa_id or bsuid_address(str(user_id)), "type": kind,
                               kind: content or message.get(kind)}
    payload.update({key: found for key, found in (("wa_id", wa_id), ("user_id", user_id)) if found})
    if username:
        payload["username"] = username
    if context:
        payload["context"] = context
    if isinstance(message.get("referral"), dict):
        payload["referral"] = message["referral"]
    if message.get("errors"):
        payload["errors"] = message["errors"]
    text, bot_input, for_bot = _render_inbound(kind, content, message)
    if "referral" in payload:
        referral = payload["referral"]
        text += f"\n[from ad: {referral.get('headline') or referral.get('source_type') or 'ad'}" \
                f"{' ' + referral['source_url'] if referral.get('source_url') else ''}]"
        payload["referral_summary"] = text.splitlines()[-1]
    media = dict(content) if kind in MEDIA_TYPES and content.get("id") else None
    context_id = content.get("message_id") if kind == "reaction" else context.get("id")
    return ParsedMessage(wamid=wamid, wa_id=wa_id, profile_name=name.strip()[:NAME_CHARS] or None if name else None,
                         type=kind, timestamp=message.get("timestamp"), text=text.strip(),
                         bot_input=bot_input, for_bot=for_bot, payload=payload, media=media, context_id=context_id,
                         user_id=user_id, username=username)


def _render_inbound(kind: str, content: dict[str, Any], message: dict[str, Any]) -> tuple[str, str, bool]:
    """(agent text, assistant input, whether the assistant should answer) per message type."""
    if kind == "text":
        body = str(content.get("body") or "")
        return body, body, bool(body.strip())
    if kind == "interactive":
        reply = _object_or_empty(content.get(content.get("type") or ""))
        title, reply_id = str(reply.get("title") or ""), str(reply.get("id") or "")
        if reply_id:
            return title or reply_id, reply_id, True
        return f"[interactive {content.get('type') or 'reply'}]", FALLBACK_INPUT, True
    if kind == "button":
        label, payload = str(content.get("text") or ""), str(content.get("payload") or "")
        return label or payload, payload or label, bool(payload or label)
    if kind in MEDIA_TYPES:
        caption = str(content.get("caption") or "")
        label = "voice note" if kind == "audio" and content.get("voice") else kind
        if content.get("filename"):
            label += f": {content['filename']}"
        text = f"[{label}] {caption}".strip()
        return text, caption or FALLBACK_INPUT, kind != "sticker" or bool(caption)
    if kind == "location":
        parts = [str(content[k]) for k in ("name", "address") if content.get(k)]
        parts.append(f"({content.get('latitude')}, {content.get('longitude')})")
        return "[location] " + " ".join(parts), FALLBACK_INPUT, True
    if kind == "contacts":
        cards = _list_or_empty(message.get("contacts"))
        return "[contacts] " + "; ".join(_contact_line(c) for c in cards if isinstance(c, dict)), FALLBACK_INPUT, True
    if kind == "reaction":
        emoji = content.get("emoji")
        return (f"[reaction {emoji}]" if emoji else "[reaction removed]"), "", False
    if kind == "system":
        return f"[system] {content.get('body') or content.get('type') or ''}".strip(), "", False
    errors = _list_or_empty(message.get("errors"))
    reason = "; ".join(describe_error(e) for e in errors if isinstance(e, dict))
    return f"[{kind} message{': ' + reason if reason else ''}]", FALLBACK_INPUT, kind in ("unsupported", "unknown")


def _contact_line(card: dict[str, Any]) -> str:
    name = (card.get("name") or {}).get("formatted_name") if isinstance(card.get("name"), dict) else None
    phones = [p.get("phone") for p in card.get("phones") or [] if isinstance(p, dict) and p.get("phone")]
    return " ".join(str(part) for part in [name or "contact", *phones])
