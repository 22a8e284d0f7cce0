"""Rasa's REST channel on loopback, for service processes whose tests need cases the assistant holds.

Answers every message at once (`RasaStandIn.reply`); the trained assistant is for the e2e tests.
"""
from __future__ import annotations

from aiohttp import web

from tests.service.support.loopback import Loopback
from tests.service.support.rasa_standin import RasaStandIn


class RasaLoopback(Loopback):
    """Serves a `RasaStandIn` over HTTP on 127.0.0.1 from a thread of its own."""

    def __init__(self, standin: RasaStandIn) -> None:
        self.standin = standin

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

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/webhooks/rest/webhook", self._turn)
        app.router.add_get("/conversations/{sender}/tracker", self._tracker)
