"""The service's secret and the tokens it signs (webchat session ids), verifiable on any worker."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
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


def _signature(key: bytes, value: str) -> str:
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def issue_token(key: bytes) -> str:
    """A random id with its signature: unguessable, and forged ids are told apart without a lookup."""
    raw = secrets.token_urlsafe(18)
    return f"{raw}.{_signature(key, raw)}"


def verify_token(key: bytes, token: object) -> bool:
    """Whether `token` is one this service issued."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 100:
        return False
    raw, signature = token.split(".")
    return bool(raw) and hmac.compare_digest(signature, _signature(key, raw))
