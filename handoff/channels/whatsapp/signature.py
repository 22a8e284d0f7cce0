"""Meta's webhook signature: `X-Hub-Signature-256`, HMAC-SHA256 of the exact raw body under the app secret."""
from __future__ import annotations

import hashlib
import hmac
from enum import Enum

from handoff.core.signing import same_secret


class SignatureCheck(Enum):
    """How a webhook's signature compared: the routes answer MISSING with 401 and INVALID with 403."""

    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"


def sign(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` header Meta sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(secret: str, body: bytes, header: str | None) -> SignatureCheck:
    """Constant-time check of Meta's HMAC-SHA256 over the exact raw bytes."""
    if not header:
        return SignatureCheck.MISSING
    if not header.startswith("sha256="):
        return SignatureCheck.INVALID
    return SignatureCheck.OK if same_secret(header.strip(), sign(secret, body)) else SignatureCheck.INVALID
