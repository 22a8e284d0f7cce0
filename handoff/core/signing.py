"""The service's secret, the tokens it signs (webchat session ids, inbox cookies), and how secrets are compared."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path


def load_secret_key(configured: str | None, fallback_file: Path) -> bytes:
    """SECRET_KEY from the environment; in the embedded mode a random key kept in var/ (never a default)."""
    if configured:
        return configured.encode()
    if fallback_file.exists():
        return fallback_file.read_bytes().strip()
    fallback_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48).encode()
    fd = os.open(fallback_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{1,43}")  # what issue_token gives, in ASCII


def same_secret(given: str | bytes | None, expected: str | bytes) -> bool:
    """Constant-time equality of the UTF-8 bytes: a value from a client, whatever its characters, is just unequal.

    `hmac.compare_digest` raises on non-ASCII `str`; every signature, token, cookie or CSRF value is compared here.
    """
    if given is None:
        return False
    return hmac.compare_digest(_utf8(given), _utf8(expected))


def _utf8(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")  # JSON may carry lone ones


def _signature(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def issue_token(key: bytes) -> str:
    """A random id with its signature: unguessable, and forged ids are told apart without a lookup."""
    raw = secrets.token_urlsafe(18)
    return f"{raw}.{_signature(key, raw)}"


def verify_token(key: bytes, token: object) -> bool:
    """Whether `token` is one this service issued."""
    if not isinstance(token, str) or TOKEN_RE.fullmatch(token) is None:
        return False
    raw, signature = token.split(".")
    return same_secret(signature, _signature(key, raw))
