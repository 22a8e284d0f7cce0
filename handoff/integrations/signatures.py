"""Webhook signatures: `X-Frontdoor-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (pure).

The timestamp is signed with the body, so a receiver that refuses an old `t` (5 minutes is the usual tolerance)
cannot be replayed a captured request later; the delivery id in the body and the `X-Frontdoor-Delivery` header
tells a retry of the same delivery.
"""
from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Frontdoor-Signature"
DELIVERY_HEADER = "X-Frontdoor-Delivery"
EVENT_HEADER = "X-Frontdoor-Event"
TOLERANCE_SECONDS = 300


def webhook_secret(service_key: bytes, integration_id: str, generation: int) -> str:
    """An integration's signing secret, derived from the service's SECRET_KEY: never stored, so a copy of the
    database signs nothing; a new generation is a new secret (rotation)."""
    derived = hmac.new(service_key, f"integration-webhook:{integration_id}:{generation}".encode(), hashlib.sha256)
    return "whsec_" + derived.hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header's value for this body sent at `timestamp` (seconds since the epoch)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(header: str | None, body: bytes, secret: str, now: float, tolerance: float = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the HMAC matches one `v1` and `t` is within `tolerance` of its clock."""
    if not header:
        return False
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields.get("t", [""])[0])
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return any(hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))
               for given in fields.get("v1", []))
