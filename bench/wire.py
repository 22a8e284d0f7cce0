"""The webchat's wire protocol (Engine.IO 4 over a websocket, Socket.IO 5 packets), light enough for thousands.

The widget speaks this through socket.io-client; python-socketio's client costs an HTTP session and several tasks
per visitor, which caps one bench process at a few hundred. Here thousands of visitors share one aiohttp session,
each with one reader task that answers the server's pings and queues events.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp


def socket_url(base_url: str, socket_path: str = "/socket.io") -> str:
    return base_url.replace("http://", "ws://").replace("https://", "wss://").rstrip("/") + \
        f"{socket_path}/?EIO=4&transport=websocket"


class WireVisitor:
    """One widget: connects, asks for a session, writes and waits for the assistant's answer."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str, socket_path: str = "/socket.io",
                 deflate: bool = True) -> None:
        self.http = http
        self.deflate = deflate  # browsers offer permessage-deflate: a server that accepts keeps zlib state each
        self.base_url = base_url.rstrip("/")
        self.url = socket_url(base_url, socket_path)
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None
        self.session_id: str | None = None

    async def connect(self, timeout: float = 30) -> str:
        """Open packet, namespace connect, then session_request answered by session_confirm."""
        self.ws = await self.http.ws_connect(self.url, headers={"Origin": self.base_url}, heartbeat=None,
                                             autoping=True, compress=15 if self.deflate else 0,
                                             timeout=aiohttp.ClientWSTimeout(ws_close=5))
        opened = await asyncio.wait_for(self.ws.receive_str(), timeout)
        if not opened.startswith("0"):
            raise ConnectionError(f"no Engine.IO open packet: {opened[:80]}")
        await self.ws.send_str("40")
        joined = await asyncio.wait_for(self.ws.receive_str(), timeout)
        if not joined.startswith("40"):
            raise ConnectionError(f"namespace refused: {joined[:80]}")
        self.reader = asyncio.create_task(self._read())
        await self.emit("session_request", {"session_id": None})
        event, data = await self.next_of("session_confirm", "error", timeout=timeout)
        if event != "session_confirm":
            raise ConnectionError(f"no session: {data}")
        self.session_id = data["session_id"]
        return str(self.session_id)

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            packet = message.data
            if packet == "2":  # the server's ping
                await self.ws.send_str("3")
            elif packet.startswith("42"):
                event, *rest = json.loads(packet[2:])
                await self.events.put((event, rest[0] if rest else None))
        await self.events.put(("disconnect", None))

    async def emit(self, event: str, data: Any) -> None:
        assert self.ws is not None
        await self.ws.send_str("42" + json.dumps([event, data]))

    async def next_of(self, *names: str, timeout: float = 60) -> tuple[str, Any]:
        async def wait() -> tuple[str, Any]:
            while True:
                event, data = await self.events.get()
                if event in names or event == "disconnect":
                    return event, data
        return await asyncio.wait_for(wait(), timeout)

    async def say(self, text: str, timeout: float = 60) -> float | None:
        """Seconds from sending to the assistant's typing-off after its answer; None for an error or silence."""
        while not self.events.empty():
            self.events.get_nowait()  # a late answer of an earlier turn is not this one's
        started = time.perf_counter()
        await self.emit("user_uttered", {"message": text, "session_id": self.session_id,
                                         "message_id": uuid.uuid4().hex})
        answered = False
        try:
            while True:
                event, data = await self.next_of("bot_uttered", "typing", "error", timeout=timeout)
                if event == "bot_uttered":
                    answered = True
                elif event == "typing" and data == {"actor": "bot", "on": False}:
                    return time.perf_counter() - started if answered else None
                elif event in ("error", "disconnect"):
                    return None
        except asyncio.TimeoutError:
            return None

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()
