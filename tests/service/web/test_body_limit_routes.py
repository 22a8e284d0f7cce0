"""Every door's body limit through the whole app: 413 for a declared or a streamed excess, the rest never pulled,
nothing stored; under the limit the routes answer as before; the OpenAPI schema says so."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.app import create_app
from handoff.channels.voice import pbx, twilio
from handoff.channels.whatsapp import routes as whatsapp_routes
from handoff.inbox import routes as inbox_routes
from handoff.settings import Settings
from handoff.store.models import Call, InboundWebhook, TimelineEvent
from handoff.web.body_limit import DEFAULT_MAX_BODY_BYTES
from tests.service.support.processes import free_port
from tests.service.support.stack import migrate
from tests.service.support.twilio_calls import AUTH_TOKEN, CALL_EVENTS_SECRET
from tests.service.support.whatsapp_webhooks import APP_SECRET

CHUNK = 64 * 1024
DOORS = [  # path, its limit, a content type it takes
    ("/webhooks/whatsapp", whatsapp_routes.MAX_BODY_BYTES, "application/json"),
    ("/webhooks/calls", pbx.MAX_BODY_BYTES, "application/json"),
    ("/webhooks/twilio/voice", twilio.MAX_BODY_BYTES, "application/x-www-form-urlencoded"),
    ("/webhooks/twilio/voice/status", twilio.MAX_BODY_BYTES, "application/x-www-form-urlencoded"),
    ("/inbox/api/login", inbox_routes.MAX_BODY_BYTES, "application/json"),
    ("/inbox/api/transitions/1/review", inbox_routes.MAX_BODY_BYTES, "application/json"),
]


class Stream:
    """A body of `total` bytes handed out CHUNK by CHUNK, counting how many chunks the app pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled * CHUNK < self.total:
            self.pulled += 1
            yield b" " * CHUNK


async def stored(client: httpx.AsyncClient) -> list[int]:
    sessions: async_sessionmaker[AsyncSession] = client.sessions  # type: ignore[attr-defined]
    async with sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (InboundWebhook, TimelineEvent, Call)]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'limits.sqlite3'}"
    migrate(database_url)
    settings = Settings(database_url=database_url, rasa_url=f"http://127.0.0.1:{free_port()}", bot_retries=0,
                        whatsapp_app_secret=APP_SECRET, whatsapp_access_token="t", whatsapp_phone_number_id="1",
                        whatsapp_api_base=f"http://127.0.0.1:{free_port()}", twilio_auth_token=AUTH_TOKEN,
                        call_events_secret=CALL_EVENTS_SECRET, media_dir=tmp_path / "media", secret_key="k" * 32,
                        log_json=False)
    asgi = create_app(settings)
    api: FastAPI = asgi.other_asgi_app
    async with api.router.lifespan_context(api), \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://test") as client:
        client.sessions = api.state.services.get(async_sessionmaker)  # type: ignore[attr-defined]
        yield client


@pytest.mark.parametrize(("path", "limit", "content_type"), DOORS)
async def test_a_streamed_body_past_the_limit_gets_413_and_is_not_pulled_further(
        client: httpx.AsyncClient, path: str, limit: int, content_type: str) -> None:
    body = Stream(150 * 1024 * 1024)
    response = await client.post(path, content=body.__aiter__(), headers={"Content-Type": content_type})
    assert (response.status_code, response.json()) == (413, {"error": "body too large"})
    assert body.pulled == limit // CHUNK + 1  # the chunk that passed the limit was the last one read
    assert await stored(client) == [0, 0, 0]


@pytest.mark.parametrize(("path", "limit", "content_type"), DOORS)
async def test_a_declared_length_past_the_limit_gets_413_unread(
        client: httpx.AsyncClient, path: str, limit: int, content_type: str) -> None:
    body = Stream(limit + 1)

    async def declared() -> AsyncIterator[bytes]:
        async for chunk in body:
            yield chunk

    response = await client.post(path, content=declared(),
                                 headers={"Content-Type": content_type, "Content-Length": str(limit + 1)})
    assert (response.status_code, response.json(), body.pulled) == (413, {"error": "body too large"}, 0)


async def test_a_body_just_under_the_limit_reaches_the_route(client: httpx.AsyncClient) -> None:
    """Unsigned: the route read it whole and refused the signature (not the size); nothing was stored."""
    for path, limit, content_type in DOORS[:3]:
        response = await client.post(path, content=b" " * limit, headers={"Content-Type": content_type})
        assert response.status_code in (401, 403), (path, response.status_code)
    credentials = json.dumps({"email": "a@example.com", "password": "nope"}).encode()
    padded = credentials + b" " * (inbox_routes.MAX_BODY_BYTES - len(credentials))  # JSON allows trailing spaces
    login = await client.post("/inbox/api/login", content=padded, headers={"Content-Type": "application/json"})
    assert (login.status_code, login.json()) == (401, {"detail": "wrong email or password"})
    assert await stored(client) == [0, 0, 0]


async def test_paths_no_door_declared_take_the_default(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz", content=b" " * (DEFAULT_MAX_BODY_BYTES + 1))
    assert (response.status_code, response.json()) == (413, {"error": "body too large"})


async def test_the_openapi_schema_documents_the_413(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    documented = sorted(f"{method.upper()} {path}" for path, item in paths.items() for method, operation
                        in item.items() if "413" in operation["responses"])
    posts = sorted(f"POST {path}" for path, item in paths.items() if "post" in item and (
        path.startswith("/webhooks/") or "requestBody" in item["post"]))
    assert posts and set(posts) <= set(documented)
    assert paths["/inbox/api/login"]["post"]["responses"]["413"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BodyTooLarge"}
