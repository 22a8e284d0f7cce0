"""A Graph API stand-in on loopback: records requests and answers as Meta documents (messages, media)."""
from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.service.support.loopback import Loopback
from tests.service.support.polling import until, until_sync

FIXTURES = Path(__file__).resolve().parents[1] / "channels" / "whatsapp" / "fixtures"
TOKEN = "test-access-token"
PHONE_NUMBER_ID = "106540352242922"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def graph_error(code: int, title: str, details: str = "") -> dict[str, Any]:
    """An error body shaped like Meta's (error_response_130429.json)."""
    body = fixture("error_response_130429.json")
    body["error"].update({"code": code, "message": f"(#{code}) {title}"})
    body["error"]["error_data"]["details"] = details or title
    return body


@dataclass
class Recorded:
    method: str
    path: str
    authorization: str | None
    body: Any


@dataclass
class GraphStandIn(Loopback):
    """Answers POST /{phone}/messages, GET /{media-id} and media downloads; scripted failures first."""

    token: str = TOKEN
    phone_number_id: str = PHONE_NUMBER_ID
    requests: list[Recorded] = field(default_factory=list)
    script: deque[tuple[int, Any]] = field(default_factory=deque)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_sha_override: dict[str, str] = field(default_factory=dict)
    hold_downloads: threading.Event | None = None
    download_started: threading.Event = field(default_factory=threading.Event)
    port: int = 0
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v21.0"

    def _record(self, request: web.Request, body: Any) -> None:
        with self._lock:
            self.requests.append(Recorded(request.method, request.path, request.headers.get("Authorization"), body))

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def messages(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._record(request, body)
        if not self._authorized(request):
            return web.json_response(graph_error(190, "Invalid OAuth access token"), status=401)
        if request.match_info["phone"] != self.phone_number_id:
            return web.json_response(graph_error(100, "Invalid parameter"), status=400)
        with self._lock:
            scripted = self.script.popleft() if self.script and body.get("status") != "read" else None
        if scripted is not None:
            return web.json_response(scripted[1], status=scripted[0])
        if body.get("status") == "read":
            return web.json_response(fixture("mark_as_read_response.json"))
        answer = fixture("send_response.json")
        if body.get("to"):  # a phone number; with both, Meta sends to `to`
            answer["contacts"] = [{"input": body["to"], "wa_id": str(body["to"]).lstrip("+")}]
        elif body.get("recipient"):  # a business-scoped user id: the answer names it, not a number
            answer["contacts"] = [{"input": body["recipient"], "user_id": body["recipient"]}]
        else:
            return web.json_response(graph_error(100, "Invalid parameter", "to or recipient is required"),
                                     status=400)
        answer["messages"] = [{"id": f"wamid.standin{next(self._ids):06d}"}]
        return web.json_response(answer)

    async def media_info(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        self._record(request, None)
        if not self._authorized(request):
            return web.json_response(graph_error(190, "Invalid OAuth access token"), status=401)
        if media_id not in self.media:
            return web.json_response(graph_error(100, "Invalid parameter"), status=400)
        data, mime = self.media[media_id]
        return web.json_response({
            "messaging_product": "whatsapp", "url": f"http://127.0.0.1:{self.port}/download/{media_id}",
            "mime_type": mime, "sha256": self.media_sha_override.get(media_id, hashlib.sha256(data).hexdigest()),
            "file_size": str(len(data)), "id": media_id})

    async def download(self, request: web.Request) -> web.Response:
        self._record(request, None)
        self.download_started.set()
        if self.hold_downloads is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold_downloads.wait)
        if not self._authorized(request):
            return web.Response(status=401)
        data, mime = self.media[request.match_info["media_id"]]
        return web.Response(body=data, content_type=mime)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    # --- test helpers -------------------------------------------------------------------------

    def add_media(self, media_id: str, data: bytes, mime: str = "image/jpeg") -> str:
        """Registers a file; returns its sha256 in base64, as webhooks state it."""
        self.media[media_id] = (data, mime)
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    def sends(self) -> list[dict[str, Any]]:
        """Message bodies POSTed (read receipts excluded), in order."""
        with self._lock:
            return [r.body for r in self.requests if r.method == "POST" and r.body.get("status") != "read"]

    def texts_to(self, wa_id: str) -> list[str]:
        """What one customer read, in order: texts, and the bodies of interactive messages."""
        found = []
        for body in self.sends():
            if body.get("to") != wa_id:
                continue
            if body.get("type") == "text":
                found.append(body["text"]["body"])
            elif body.get("type") == "interactive":
                found.append(body["interactive"]["body"]["text"])
        return found

    def reads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests if r.method == "POST" and r.body.get("status") == "read"]

    def wait_for(self, check: Any, timeout: float = 60, what: str = "the expected requests") -> None:
        """Polls until `check()` is true; a failure shows what was received."""
        until_sync(check, f"saw {what} at the Graph stand-in", timeout,
                   explain=lambda: f"got {[r.body for r in self.requests]}")

    async def arrived(self, check: Any, timeout: float = 60, what: str = "the expected requests") -> None:
        """`wait_for` for a test whose app runs in its own event loop (served_app): waiting yields to the app, where
        `wait_for` would block the loop that has to send the requests."""

        async def holds() -> bool:
            return bool(check())

        await until(holds, f"saw {what} at the Graph stand-in", timeout,
                    explain=lambda: f"got {[r.body for r in self.requests]}")

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v21.0/{phone}/messages", self.messages)
        app.router.add_get("/v21.0/{media_id}", self.media_info)
        app.router.add_get("/download/{media_id}", self.download)
        app.router.add_get("/healthz", self.healthz)

    def stop(self) -> None:
        if self.hold_downloads is not None:
            self.hold_downloads.set()
        super().stop()
