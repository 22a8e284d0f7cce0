"""Identity normalization: the same phone or email written differently is the same customer."""
from __future__ import annotations

import re

import phonenumbers

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# whatsapp_bsuid: WhatsApp's business-scoped user id, kept exactly as Meta sends it (users may hide their number)
IDENTITY_KINDS = frozenset({"phone", "email", "whatsapp", "whatsapp_bsuid", "webchat", "crm"})


class InvalidIdentity(ValueError):
    """A value that cannot be an identity of its kind."""


def parse_phone(raw: str, default_region: str | None = None) -> phonenumbers.PhoneNumber:
    """The number in `raw`; digits without a region are read as international (country code first)."""
    text = raw.strip()
    if text and text[0].isdigit() and default_region is None:
        text = "+" + text  # caller ids and channel numbers often come as digits with the country code
    try:
        return phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentity(f"not a phone number: {raw!r}") from exc


def e164(number: phonenumbers.PhoneNumber, raw: str) -> str:
    """The stored form of a parsed number; `raw` names it when it cannot be a phone number."""
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {raw!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone(raw: str, default_region: str | None = None) -> str:
    """E.164, so a channel's number, a caller id and a typed number compare equal."""
    return e164(parse_phone(raw, default_region), raw)


def normalize_told_phone(raw: str, region: str) -> str:
    """E.164 of a number as a person writes it: after a '+' its own country code, without one `region`'s."""
    return normalize_phone(raw, None if raw.strip().startswith("+") else region)


def normalize_email(raw: str) -> str:
    """Lower-cased and trimmed; mailbox case-sensitivity is not worth splitting customers over."""
    value = raw.strip().lower()
    if not EMAIL_RE.match(value):
        raise InvalidIdentity(f"not an email address: {raw!r}")
    return value


def normalize(kind: str, raw: str, default_region: str | None = None) -> str:
    """The stored form of an identity value of `kind`."""
    if kind not in IDENTITY_KINDS:
        raise InvalidIdentity(f"unknown identity kind: {kind!r}")
    if kind in ("phone", "whatsapp"):
        return normalize_phone(raw, default_region)
    if kind == "email":
        return normalize_email(raw)
    value = raw.strip()
    if not value:
        raise InvalidIdentity(f"empty {kind} identity")
    return value
