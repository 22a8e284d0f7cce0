"""The whole app under uvicorn inside the test's event loop, with an in-process assistant stand-in on loopback.

Faster than a service process, and like `make run` in what matters to limits: a real Socket.IO server, and
uvicorn's proxy headers (X-Forwarded-For is trusted from loopback, FORWARDED_ALLOW_IPS' default), so a test can
speak from several client addresses.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiohttp import web

from handoff.app import create_app
from handoff.settings import Settings
from handoff.stack import SERVICE_WEBSOCKETS
from tests.service.support.polling import until
from tests.service.support.processes import free_port
from tests.service.support.rasa_standin import RasaStandIn
from tests.service.support.stack import migrate


@asynccontextmanager
async def served_standin(standin: RasaStandIn) -> AsyncIterator[str]:
    """RasaStandIn's answers over HTTP, for an app that builds its own Rasa client."""
    async def answer(request: web.Request) -> web.Response:
        reply = standin.handler(httpx.Request(request.method, str(request.url), content=await request.read()))
        return web.Response(status=reply.status_code, body=reply.content, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def app_settings(workdir: Path, rasa_url: str, **overrides: Any) -> Settings:
    """A fresh migrated SQLite database, a fixed secret, the harvester off."""
    database = workdir / f"served-{free_port()}.sqlite3"
    database_url = f"sqlite+aiosqlite:///{database}"
    migrate(database_url)
    values: dict[str, Any] = {"database_url": database_url, "rasa_url": rasa_url, "bot_retries": 0,
                              "secret_key": "served-app-test-secret-0123456789", "nlu_harvest_interval_seconds": 0,
                              "log_json": False, "log_level": "WARNING", **overrides}
    return Settings(**values)


@asynccontextmanager
async def served_app(settings: Settings) -> AsyncIterator[str]:
    """Serves `create_app(settings)` on a free loopback port (lifespan included) and yields its base URL."""
    port = free_port()
    settings = settings.model_copy(update={"port": port, "public_base_url": f"http://127.0.0.1:{port}"})
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           **SERVICE_WEBSOCKETS))  # the workers' websocket protocol and limits
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        if task.done():
            task.result()  # a failed start fails the test with its own error
        return server.started

    try:
        await until(started, "served the app")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class Served:
    """A served app's address and database, and the assistant stand-in behind it (what it was asked)."""

    base_url: str
    database_url: str
    assistant: RasaStandIn


@asynccontextmanager
async def served_with_assistant(workdir: Path, assistant: RasaStandIn, **overrides: Any) -> AsyncIterator[Served]:
    """The whole app (`app_settings(workdir, …, **overrides)`) with `assistant` answering it over HTTP."""
    async with served_standin(assistant) as rasa_url:
        settings = app_settings(workdir, rasa_url, **overrides)
        async with served_app(settings) as url:
            yield Served(url, settings.database_url, assistant)
