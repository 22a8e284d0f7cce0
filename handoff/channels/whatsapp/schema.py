"""Meta's webhook shapes as pydantic models: what each part of a body must be before any of it is stored.

The envelope (`object`, the `entry` list) decides whether the body is a WhatsApp webhook at all; each entry,
change, message, status and error inside is then checked on its own, so one odd item never sinks its batch.
Unknown fields are kept (Meta adds some) but every number is finite and range-checked and every known string
capped; a nested object where a string belongs is refused.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)

TEXT_CHARS = 4096  # Meta's own limit on a text body
RAW_CHARS = 16_000  # how much of a refused item is kept for the operator
LATEST_EPOCH = 253402300799  # 9999-12-31T23:59:59Z


def _epoch_seconds(value: Any) -> int:
    """Unix seconds, as Meta sends them (a string of digits) or as a number; within years 1970..9999."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("must be Unix seconds (a string of digits)")
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 12 or int(text) > LATEST_EPOCH:
        raise ValueError("must be Unix seconds within years 1970..9999")
    return int(text)


EpochSeconds = Annotated[int, BeforeValidator(_epoch_seconds)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=200)]  # wamids, media ids (provider_id is 255)
Address = Annotated[str, StringConstraints(min_length=1, max_length=64)]  # wa_id, phone numbers
# A business-scoped user id: a two-letter country code, a period, up to 128 alphanumerics; a parent BSUID has
# `ENT.` in between (Meta's "Business-scoped user IDs" page; the dots after the country are not restricted further,
# as Meta says the shape may still change). Fits the identity value (320) and its address (whatsapp_bsuid:…).
UserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}\.[A-Za-z0-9.]{1,140}$")]
Kind = Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
Short = Annotated[str, StringConstraints(max_length=1024)]
Text = Annotated[str, StringConstraints(max_length=TEXT_CHARS)]


class Part(BaseModel):
    """Strict types (no "1" for 1, no object for a string), unknown fields kept, strings capped."""

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False, str_max_length=TEXT_CHARS)


class ErrorData(Part):
    details: Text | None = None


class MetaError(Part):
    code: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None
    title: Text | None = None
    message: Text | None = None
    error_data: ErrorData | None = None


class TextContent(Part):
    body: Text | None = None


class Reply(Part):
    id: Short | None = None
    title: Short | None = None
    description: Short | None = None


class InteractiveContent(Part):
    type: Kind | None = None
    button_reply: Reply | None = None
    list_reply: Reply | None = None


class ButtonContent(Part):
    text: Short | None = None
    payload: Short | None = None


class MediaContent(Part):
    id: Id | None = None
    mime_type: Short | None = None
    sha256: Short | None = None
    caption: Text | None = None
    filename: Short | None = None
    voice: StrictBool | None = None
    animated: StrictBool | None = None
    url: Text | None = None


class LocationContent(Part):
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    name: Short | None = None
    address: Short | None = None
    url: Text | None = None


class CardName(Part):
    formatted_name: Short | None = None


class CardPhone(Part):
    phone: Short | None = None
    type: Short | None = None


class ContactCard(Part):
    name: CardName | None = None
    phones: Annotated[list[CardPhone], Field(max_length=50)] | None = None


class ReactionContent(Part):
    message_id: Id | None = None
    emoji: Short | None = None


class SystemContent(Part):
    body: Text | None = None
    type: Short | None = None


class Context(Part):
    id: Id | None = None
    from_: Address | None = Field(default=None, alias="from")


class Referral(Part):
    source_url: Text | None = None
    source_type: Short | None = None
    source_id: Short | None = None
    headline: Short | None = None
    body: Text | None = None
    ctwa_clid: Short | None = None


class Profile(Part):
    name: Short | None = None
    username: Short | None = None  # a user with a username may hide their number


class Contact(Part):
    """One `contacts[]` item: who wrote, by phone (`wa_id`, may be missing) and business-scoped id (`user_id`)."""

    wa_id: Address | None = None
    user_id: UserId | None = None
    profile: Profile | None = None


class Message(Part):
    """One `messages[]` item: who sent it (phone, business-scoped id or both), what type, and its content."""

    id: Id
    from_: Address | None = Field(default=None, alias="from")
    from_user_id: UserId | None = None
    type: Kind
    timestamp: EpochSeconds | None = None
    context: Context | None = None
    referral: Referral | None = None
    errors: Annotated[list[MetaError], Field(max_length=20)] | None = None
    text: TextContent | None = None
    interactive: InteractiveContent | None = None
    button: ButtonContent | None = None
    image: MediaContent | None = None
    audio: MediaContent | None = None
    video: MediaContent | None = None
    document: MediaContent | None = None
    sticker: MediaContent | None = None
    location: LocationContent | None = None
    contacts: Annotated[list[ContactCard], Field(max_length=50)] | None = None
    reaction: ReactionContent | None = None
    system: SystemContent | None = None

    @model_validator(mode="after")
    def _has_a_sender(self) -> Message:
        if self.from_ is None and self.from_user_id is None:
            raise ValueError("message without `from` or `from_user_id`")
        return self


class Conversation(Part):
    id: Short | None = None
    expiration_timestamp: EpochSeconds | None = None


class Pricing(Part):
    billable: StrictBool | None = None
    pricing_model: Short | None = None
    category: Short | None = None
    type: Short | None = None


class Status(Part):
    """One `statuses[]` item: what happened to one of our outbound messages."""

    id: Id
    status: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,16}$")]
    timestamp: EpochSeconds | None = None
    recipient_id: Address | None = None
    recipient_user_id: UserId | None = None
    errors: Annotated[list[MetaError], Field(max_length=20)] | None = None
    conversation: Conversation | None = None
    pricing: Pricing | None = None


class Value(Part):
    """A change's value: the lists are checked item by item, not here."""

    contacts: list[Any] = []
    messages: list[Any] = []
    statuses: list[Any] = []
    errors: list[Any] = []


class Change(Part):
    field: Short | None = None
    value: Value


class Entry(Part):
    id: Short | None = None
    changes: list[Any]


class Envelope(BaseModel):
    """What makes a body a WhatsApp webhook at all; anything wrong here refuses the whole body."""

    model_config = ConfigDict(strict=True, extra="allow")

    object: Literal["whatsapp_business_account"]
    entry: list[Any]


@dataclass(frozen=True)
class RefusedItem:
    """One part of a body that could not be read: where it was, why, and what it held (cut)."""

    path: str
    error: str
    raw: str


def describe(exc: ValidationError, prefix: str = "", limit: int = 3) -> str:
    """`entry[0].changes[0].value.messages[1].timestamp: must be Unix seconds …`, for the first few errors."""
    lines = []
    for error in exc.errors(include_url=False)[:limit]:
        path = prefix
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
        lines.append(f"{path or 'body'}: {error['msg'].removeprefix('Value error, ')}")
    more = exc.error_count() - limit
    return "; ".join(lines) + (f" (and {more} more)" if more > 0 else "")


def refused(path: str, item: Any, error: str) -> RefusedItem:
    raw = json.dumps(item, ensure_ascii=False, default=str)
    return RefusedItem(path, error[:2000], raw if len(raw) <= RAW_CHARS else raw[: RAW_CHARS - 1] + "…")
