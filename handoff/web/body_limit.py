"""Request bodies bounded while they stream: past its endpoint's limit a request gets 413 and the rest is never read.

A declared Content-Length over the limit is refused before reading; a chunked body is counted as the app reads it.
Each door declares its limits next to its routes (`BODY_LIMITS`: path prefix -> bytes); app.py makes one table.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 16 * 1024  # paths no door declared take no body worth more
TOO_LARGE_BODY = b'{"error":"body too large"}'


class BodyTooLarge(BaseModel):
    """What a request over its endpoint's limit gets, with status 413."""

    error: str


TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": BodyTooLarge, "description": "The body is over this endpoint's limit"}}


class BodyLimits:
    """Path prefix -> bytes: the longest matching prefix (whole path segments) wins, else the default."""

    def __init__(self, by_prefix: Mapping[str, int], default: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.by_prefix = sorted(((prefix.rstrip("/"), limit) for prefix, limit in by_prefix.items()),
                                key=lambda item: -len(item[0]))
        self.default = default

    def for_path(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path == prefix or path.startswith(prefix + "/"):
                return limit
        return self.default


class BodyOverLimit(Exception):
    """Raised into the app by `receive` once the body passed its limit: the app stops, the 413 is already sent."""


class BodyLimitMiddleware:
    """Pure ASGI, so it sees each chunk as it arrives instead of a body some layer has already buffered."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.for_path(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await answer_too_large(send)
            return
        received = 0
        started = answered = over = False

        async def counted_receive() -> Message:
            nonlocal received, answered, over
            if over:  # the app asks again after the refusal: nothing more is read
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    if not started:
                        answered = True
                        await answer_too_large(send)
                    raise BodyOverLimit(f"{scope['path']}: more than {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:  # whatever the app makes of the exception (a 400, a 500), the client has its 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not answered:  # the app's own error, or a body over its limit once the response had started
                raise


def declared_length(scope: Scope) -> int | None:
    """The Content-Length the client declared, if it is a number (servers refuse malformed ones before us)."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def answer_too_large(send: Send) -> None:
    """413 with a JSON reason, and the connection closed: the rest of the body is not wanted."""
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(TOO_LARGE_BODY)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": TOO_LARGE_BODY})
