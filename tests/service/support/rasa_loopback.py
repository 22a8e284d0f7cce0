"""Rasa's REST channel on loopback, for service processes whose tests need cases the assistant holds.

Answers every message at once (`RasaStandIn.reply`); the trained assistant is for the e2e tests.
"""
from __future__ import annotations

import asyncio
import threading

from aiohttp import web

from tests.service.support.rasa_standin import RasaStandIn


class RasaLoopback:
    """Serves a `RasaStandIn` over HTTP on 127.0.0.1 from a thread of its own."""

    def __init__(self, standin: RasaStandIn) -> None:
        self.standin = standin
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _turn(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.standin.asked.append(body)
        return web.json_response([{"recipient_id": body["sender"], **item}
                                  for item in self.standin.reply(body["message"])])

    async def _tracker(self, request: web.Request) -> web.Response:
        return web.json_response(self.standin.tracker())

    def start(self) -> RasaLoopback:
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/webhooks/rest/webhook", self._turn)
            app.router.add_get("/conversations/{sender}/tracker", self._tracker)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
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
