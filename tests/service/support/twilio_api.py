"""A Twilio REST stand-in on loopback: POST /2010-04-01/Accounts/{sid}/Calls.json with HTTP basic auth, answered
201 with a call resource as Twilio documents it; records each request's form; scripted failures first."""
from __future__ import annotations

import base64
import itertools
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.service.support.loopback import Loopback

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-twilio-rest-token"
CALLER_ID = "+525500000001"


@dataclass
class TwilioStandIn(Loopback):
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    calls: list[dict[str, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (status, why) of requests answered with errors
    script: deque[tuple[int, Any]] = field(default_factory=deque)
    port: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    async def create_call(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            with self._lock:
                self.refused.append((401, "authenticate"))
            return web.json_response({"code": 20003, "message": "Authenticate", "status": 401}, status=401)
        if not form.get("To") or not form.get("From") or not (form.get("Twiml") or form.get("Url")):
            with self._lock:
                self.refused.append((400, "missing parameter"))
            return web.json_response({"code": 21201, "message": "No 'To' number is specified", "status": 400},
                                     status=400)
        with self._lock:
            self.calls.append(form)
            scripted = self.script.popleft() if self.script else None
        if scripted is not None:
            return web.json_response(scripted[1], status=scripted[0])
        sid = f"CA{next(self._ids):032d}"
        return web.json_response({"sid": sid, "account_sid": self.account_sid, "to": form["To"],
                                  "from": form["From"], "status": "queued", "direction": "outbound-api",
                                  "api_version": "2010-04-01"}, status=201)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self.create_call)
