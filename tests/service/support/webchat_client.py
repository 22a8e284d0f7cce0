"""A visitor speaking the webchat protocol with python-socketio's client, as a widget would."""
from __future__ import annotations

import asyncio
import uuid
from typing import Any

import socketio


class Visitor:
    """Connects, asks for a session and collects every event the service sends."""

    def __init__(self, base_url: str, origin: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.base_url = base_url
        self.origin = origin or base_url
        self.headers = headers or {}  # e.g. X-Forwarded-For, which the service trusts from loopback only
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.session_id: str | None = None
        self.history: list[dict[str, Any]] | None = None
        self.client.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        await self.events.put((event, data))

    async def open(self) -> None:
        """The socket alone, without a session yet."""
        await self.client.connect(self.base_url, socketio_path="socket.io", transports=["websocket"],
                                  headers={"Origin": self.origin, **self.headers}, wait_timeout=10)

    async def ask_session(self, session_id: str | None = None) -> tuple[str, Any]:
        """`session_request`, answered by `session_confirm` (kept as this visitor's session) or by an `error`."""
        await self.client.emit("session_request", {"session_id": session_id})
        event, data = await self.next_of("session_confirm", "error")
        if event == "session_confirm":
            self.session_id = data["session_id"]
        return event, data

    async def next_of(self, *names: str, timeout: float = 60) -> tuple[str, Any]:
        """The next event of any of these names; earlier events of other names are dropped."""
        async def wait() -> tuple[str, Any]:
            while True:
                event, data = await self.events.get()
                if event in names:
                    return event, data
        return await asyncio.wait_for(wait(), timeout)

    async def connect(self, session_id: str | None = None) -> str:
        await self.open()
        await self.client.emit("session_request", {"session_id": session_id})
        confirm = await self.next_event("session_confirm")
        self.session_id = confirm["session_id"]
        if session_id == self.session_id:
            self.history = (await self.next_event("history"))["messages"]
        return self.session_id

    async def next_event(self, name: str, timeout: float = 60) -> Any:
        """The next event called `name`; earlier events of other names are dropped."""
        async def wait() -> Any:
            while True:
                event, data = await self.events.get()
                if event == name:
                    return data
        return await asyncio.wait_for(wait(), timeout)

    async def say(self, message: str, timeout: float = 60, **extra: Any) -> list[dict[str, Any]]:
        """Sends a message and returns what the assistant answered, up to its typing-off signal."""
        await self.client.emit("user_uttered", {"message": message, "session_id": self.session_id,
                                                "message_id": uuid.uuid4().hex, **extra})
        replies: list[dict[str, Any]] = []

        async def collect() -> None:
            while True:
                event, data = await self.events.get()
                if event == "bot_uttered":
                    replies.append(data)
                elif event == "typing" and data == {"actor": "bot", "on": False}:
                    return
                elif event == "error":
                    replies.append({"error": data})
                    return
        await asyncio.wait_for(collect(), timeout)
        return replies

    async def close(self) -> None:
        await self.client.disconnect()
