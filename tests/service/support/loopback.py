"""An aiohttp app on 127.0.0.1 in a thread of its own: the one server the stand-ins share, so that synchronous
tests and service processes can reach them alike."""
from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from typing import TypeVar

from aiohttp import web

Served = TypeVar("Served", bound="Loopback")


class Loopback(ABC):
    """A stand-in's HTTP side: `routes` adds what it answers; `start` serves them on `port` (0: a free one)."""

    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @abstractmethod
    def routes(self, app: web.Application) -> None:
        """Adds the routes this stand-in answers."""

    def start(self: Served) -> Served:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            app = web.Application()
            self.routes(app)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
            self.port = runner.addresses[0][1]
            self._loop = loop
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
