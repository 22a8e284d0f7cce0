"""An integration's webhook receiver on loopback: records each request's headers and exact body; it can be down
(stopped: connections refused) and up again on the same port."""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from aiohttp import web

from tests.service.support.loopback import Loopback


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


class WebhookReceiver(Loopback):
    """Answers `status` (200) to POST /hooks, `delay` seconds after it arrived, and keeps what came, in order."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.delay = 0.0
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def routes(self, app: web.Application) -> None:
        async def hook(request: web.Request) -> web.Response:
            body = await request.read()
            with self._lock:
                self.received.append(Received(dict(request.headers), body))
            await asyncio.sleep(self.delay)
            return web.Response(status=self.status, text="ok")

        app.router.add_post("/hooks", hook)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def bodies(self) -> list[Received]:
        with self._lock:
            return list(self.received)
