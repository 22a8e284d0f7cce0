"""Non-ASCII values where Meta sends a signature or our verify token: refused (401/403), never a 500."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.service.channels.whatsapp.test_routes import running, settings, stored
from tests.service.support.graph_api import GraphStandIn
from tests.service.support.whatsapp_webhooks import text_webhook

NON_ASCII = "sha256=é…".encode()  # raw UTF-8 bytes on the wire, as a client that does not check would send


@pytest.fixture
async def client(database_url: str, tmp_path: Path, graph: GraphStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async for client in running(settings(database_url, tmp_path, graph)):
        yield client


async def test_a_non_ascii_signature_gets_403_and_stores_nothing(client, database_url) -> None:
    for header in (NON_ASCII, "sha256=é…".encode("latin-1", "replace"), b"sha256=\xff\xfe"):
        response = await client.post("/webhooks/whatsapp", content=text_webhook(),
                                     headers={"X-Hub-Signature-256": header})
        assert (response.status_code, response.json()) == (403, {"error": "invalid X-Hub-Signature-256"})
    assert await stored(database_url) == (0, 0, 0)


async def test_a_non_ascii_verify_token_gets_403(client) -> None:
    for token in ("verify-m%C3%A9", "%C3%A9%E2%80%A6", "%ED%A0%80", "%FF"):  # é, é…, a lone surrogate, not UTF-8
        response = await client.get(f"/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={token}"
                                    "&hub.challenge=1158201444")
        assert (response.status_code, response.json()) == (403, {"error": "verification failed"})
