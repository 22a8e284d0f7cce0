"""A site's signed word about who its visitor is: an HS256 JWT checked here, pure, before anything is stored.

Only HS256 with the site's shared secret is accepted (so `alg: none` and an RS256/HS256 confusion are refused),
`exp` and `sub` are required, `exp` may be at most `max_hours` ahead (a leaked token stops working soon), and every
claim we keep has its type and length checked. A refusal names only why, never a claim's value.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import jwt

from handoff.core.identity import InvalidIdentity, normalize_email, normalize_phone

ALGORITHM = "HS256"
VERIFIED_BY = "site_token"
MAX_TOKEN_CHARS = 4096
LEEWAY_SECONDS = 30  # the site's clock and ours may differ a little
MAX_SUB_CHARS = 255
MAX_EMAIL_CHARS = 254
MAX_PHONE_CHARS = 32
MAX_NAME_CHARS = 200  # customers.display_name


@dataclass(frozen=True)
class SiteIdentity:
    """Who the site says the visitor is: its customer id (identity kind `crm`) and what it knows of them."""

    crm_id: str
    email: str | None = None
    phone: str | None = None
    name: str | None = None

    def identities(self) -> list[tuple[str, str]]:
        """(kind, normalized value), the site's own id first: it decides whose customer the visitor is."""
        found = [("crm", self.crm_id)]
        if self.phone:
            found.append(("phone", self.phone))
        if self.email:
            found.append(("email", self.email))
        return found


@dataclass(frozen=True)
class Refused:
    """Why a token was refused: a fixed code, safe to log (no claim values)."""

    reason: str


def _text(claims: dict[str, Any], name: str, limit: int) -> str | None:
    """An optional string claim within `limit` characters, without NUL (PostgreSQL's text cannot hold it)."""
    value = claims.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise InvalidIdentity(name)
    return value.strip() or None


def read_claims(claims: dict[str, Any]) -> SiteIdentity | Refused:
    """The identity in verified claims, or a refusal when one is of the wrong type, too long or malformed."""
    try:
        sub = _text(claims, "sub", MAX_SUB_CHARS)
        email, phone = _text(claims, "email", MAX_EMAIL_CHARS), _text(claims, "phone", MAX_PHONE_CHARS)
        name = _text(claims, "name", MAX_NAME_CHARS)
    except InvalidIdentity as exc:
        return Refused(f"claim_{exc}")
    if sub is None:
        return Refused("claim_sub")
    try:
        email = normalize_email(email) if email else None
    except InvalidIdentity:
        return Refused("claim_email")
    try:
        phone = normalize_phone(phone) if phone else None
    except InvalidIdentity:
        return Refused("claim_phone")
    return SiteIdentity(crm_id=sub, email=email, phone=phone, name=name)


class IdentityTokens:
    """Verifies `identity_token`s with the site's secret; without one configured every token is refused."""

    def __init__(self, secret: str | None, *, max_hours: float) -> None:
        self.secret = secret
        self.max_hours = max_hours

    def verify(self, token: object) -> SiteIdentity | Refused:
        """The site's identity in a valid token, else why not."""
        if not self.secret:
            return Refused("not_configured")
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
            return Refused("malformed")
        try:
            claims: dict[str, Any] = jwt.decode(token, self.secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
                                                options={"require": ["exp", "sub"], "verify_aud": False})
        except jwt.ExpiredSignatureError:
            return Refused("expired")
        except jwt.InvalidAlgorithmError:
            return Refused("algorithm")
        except jwt.InvalidSignatureError:
            return Refused("signature")
        except jwt.MissingRequiredClaimError as exc:
            return Refused(f"missing_{exc.claim}")
        except jwt.InvalidTokenError:
            return Refused("malformed")
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            return Refused("claim_exp")
        if exp - datetime.now(timezone.utc).timestamp() > self.max_hours * 3600 + LEEWAY_SECONDS:
            return Refused("exp_too_far")
        return read_claims(claims)
