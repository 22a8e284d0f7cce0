"""The body limit middleware with a fake ASGI app: 413 before reading a declared excess, and a chunked body stops
being read at the chunk that passes the limit, whatever the app does with the refusal."""
from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from handoff.web.body_limit import BodyLimitMiddleware, BodyLimits, BodyOverLimit

LIMITS = BodyLimits({"/webhooks/whatsapp": 100, "/webhooks/twilio/": 10, "/inbox/api": 50}, default=20)
CHUNK = b"x" * 30


class Client:
    """The server's side of one request: hands out body chunks on demand and records what is sent back."""

    def __init__(self, chunks: int, chunk: bytes = CHUNK) -> None:
        self.chunks = chunks
        self.chunk = chunk
        self.asked = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.asked += 1
        if self.asked > self.chunks:
            raise AssertionError("read past the end of the body")
        return {"type": "http.request", "body": self.chunk, "more_body": self.asked < self.chunks}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int | None:
        starts = [message["status"] for message in self.sent if message["type"] == "http.response.start"]
        assert len(starts) <= 1, starts
        return starts[0] if starts else None

    @property
    def body(self) -> bytes:
        return b"".join(message.get("body", b"") for message in self.sent if message["type"] == "http.response.body")


def scope(path: str, declared: int | None = None) -> Scope:
    headers = [(b"content-type", b"application/json")]
    if declared is not None:
        headers.append((b"content-length", str(declared).encode()))
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that reads the whole body, as `await request.body()` does, then answers 200 with its length."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


async def run(app: Any, path: str, client: Client, declared: int | None = None) -> None:
    await BodyLimitMiddleware(app, LIMITS)(scope(path, declared), client.receive, client.send)


def test_the_longest_prefix_on_whole_segments_wins_else_the_default() -> None:
    assert LIMITS.for_path("/webhooks/whatsapp") == 100
    assert LIMITS.for_path("/webhooks/twilio/voice/gather") == 10
    assert LIMITS.for_path("/webhooks/twilio") == 10
    assert LIMITS.for_path("/inbox/api/cases/1/reply") == 50
    assert LIMITS.for_path("/webhooks/whatsappX") == 20
    assert LIMITS.for_path("/inbox") == 20


async def test_a_declared_length_over_the_limit_is_refused_before_reading_or_calling_the_app() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app was called")

    client = Client(chunks=5)
    await run(app, "/webhooks/whatsapp", client, declared=101)
    assert (client.status, json.loads(client.body), client.asked) == (413, {"error": "body too large"}, 0)
    assert (b"connection", b"close") in client.sent[0]["headers"]


async def test_a_chunked_body_stops_being_read_at_the_chunk_that_passes_the_limit() -> None:
    client = Client(chunks=1000)  # 30 bytes a chunk: the 4th passes 100
    await run(reads_everything, "/webhooks/whatsapp", client)
    assert (client.status, json.loads(client.body), client.asked) == (413, {"error": "body too large"}, 4)


async def test_a_body_under_its_limit_reaches_the_app_whole() -> None:
    client = Client(chunks=3)  # 90 bytes, declared or not
    await run(reads_everything, "/webhooks/whatsapp", client)
    assert (client.status, client.body, client.asked) == (200, b"90", 3)
    declared = Client(chunks=3)
    await run(reads_everything, "/webhooks/whatsapp", declared, declared=90)
    assert (declared.status, declared.body) == (200, b"90")


async def test_a_lying_content_length_does_not_buy_a_larger_body() -> None:
    client = Client(chunks=1000)
    await run(reads_everything, "/inbox/api/login", client, declared=10)  # 50 for /inbox/api: passed at the 2nd
    assert (client.status, client.asked) == (413, 2)


async def test_an_app_that_turns_the_refusal_into_its_own_answer_is_not_heard() -> None:
    """FastAPI answers 400 when reading a JSON body fails; the client has had its 413 already."""
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await reads_everything(scope, receive, send)
        except Exception:
            assert await receive() == {"type": "http.disconnect"}  # asking again reads nothing more
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": b"There was an error parsing the body"})

    client = Client(chunks=1000)
    await run(app, "/webhooks/twilio/voice", client)
    assert (client.status, json.loads(client.body), client.asked) == (413, {"error": "body too large"}, 1)


async def test_past_the_limit_after_the_response_started_the_request_fails() -> None:
    """Nothing can be said any more: the error reaches the server, which closes the connection."""
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await reads_everything(scope, receive, send)

    client = Client(chunks=1000)
    with pytest.raises(BodyOverLimit):
        await run(app, "/webhooks/whatsapp", client)
    assert (client.status, client.asked) == (200, 4)


async def test_other_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    client = Client(chunks=1)
    await BodyLimitMiddleware(app, LIMITS)({"type": "lifespan"}, client.receive, client.send)
    assert seen == ["lifespan"] and client.asked == 0
