"""Integration tokens and what an integration may be given: pure checks, the token and its hash.

A token is 32 random bytes (256 bits) from `secrets`, so it is stored as its plain SHA-256: a slow password hash
(argon2, bcrypt) defends low-entropy secrets against guessing from a leaked hash, and nobody can enumerate 2^256
candidates; a fast hash also lets a request find its integration by one indexed equality, with nothing to compare
in Python (no timing to measure).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from handoff.core.refusals import Refused

SCOPES = ("contacts:write", "cases:read", "webhooks", "notifications:send")
EVENTS = ("case.handed_off", "case.assigned", "case.resolved", "csat.received", "commitment.due")
PREFIX = "fdi_"  # "front door integration": a token is recognisable in a leaked config or a secret scanner
TOKEN_RE = re.compile(r"fdi_[A-Za-z0-9_-]{43}")
NAME_MAX = 100
URL_MAX = 2000


class IntegrationError(Refused):
    """A refused request about integrations, with the HTTP status that says why."""


@dataclass(frozen=True)
class Caller:
    """The integration a request's bearer token belongs to (live: not revoked)."""

    id: str
    name: str
    scopes: frozenset[str]


def new_token() -> str:
    """Shown once to whoever created the integration; only its hash is kept."""
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Hex SHA-256 of the token's UTF-8 bytes (see the module's docstring for why not a password hash)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_hint(token: str) -> str:
    """The first characters, enough for an admin to tell which token a system holds."""
    return token[: len(PREFIX) + 6]


def looks_like_token(value: str) -> bool:
    """Anything else is refused before the database is asked."""
    return TOKEN_RE.fullmatch(value) is not None


def checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > NAME_MAX:
        raise IntegrationError(422, f"a name of 1 to {NAME_MAX} characters")
    return name


def checked_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes, each once, in the order of SCOPES; at least one."""
    given = {scope.strip() for scope in scopes if scope.strip()}
    unknown = sorted(given - set(SCOPES))
    if unknown:
        raise IntegrationError(422, f"unknown scope {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    if not given:
        raise IntegrationError(422, f"at least one scope of {', '.join(SCOPES)}")
    return [scope for scope in SCOPES if scope in given]


def checked_webhook(url: str | None, events: Iterable[str], scopes: Iterable[str]) -> tuple[str | None, list[str]]:
    """An absolute http(s) URL and known events, only for an integration with the `webhooks` scope."""
    chosen = {event.strip() for event in events if event.strip()}
    unknown = sorted(chosen - set(EVENTS))
    if unknown:
        raise IntegrationError(422, f"unknown event {', '.join(unknown)} (known: {', '.join(EVENTS)})")
    url = (url or "").strip() or None
    if url is None:
        if chosen:
            raise IntegrationError(422, "events need a webhook URL")
        return None, []
    if "webhooks" not in set(scopes):
        raise IntegrationError(422, "a webhook URL needs the webhooks scope")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > URL_MAX:
        raise IntegrationError(422, "the webhook URL must be an absolute http(s) URL")
    return url, [event for event in EVENTS if event in (chosen or set(EVENTS))]
