"""Builds the inbox's objects once per process and attaches them to the app."""
from __future__ import annotations

from collections.abc import Mapping
import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import socketio
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.inbox.auth import Auth
from handoff.inbox.actions import InboxActions
from handoff.inbox.desk import Desk
from handoff.inbox.live import LiveInbox
from handoff.inbox.people import People
from handoff.core.messages import Deliverer
from handoff.core.operations import Operations
from handoff.core.ratelimit import RateLimit, limit_storage
from handoff.settings import Settings

LOGIN_WINDOW_SECONDS = 300.0


@dataclass
class Inbox:
    auth: Auth
    desk: Desk
    actions: InboxActions
    people: People
    live: LiveInbox
    abandon_after: timedelta
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        """Background work of the inbox: the abandoned-case sweeper."""
        self.tasks.append(asyncio.create_task(self.desk.run_sweeper(self.abandon_after)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def mount(self, api: FastAPI) -> None:
        """Routes and static files; the routes ask for their services by type (handoff/inbox/deps.py)."""
        from handoff.inbox import routes as inbox_routes
        from handoff.inbox import media_routes

        api.include_router(inbox_routes.router)
        api.include_router(media_routes.router)
        api.mount("/inbox/static", StaticFiles(directory=inbox_routes.STATIC), name="inbox-static")


def build_inbox(settings: Settings, sessions: async_sessionmaker[AsyncSession], operations: Operations,
                sio: socketio.AsyncServer, deliverers: Mapping[str, Deliverer], secret: bytes) -> Inbox:
    """The inbox shares the channels' deliverers, so agents answer exactly the way the assistant does."""
    auth = Auth(sessions, secret, ttl_hours=settings.inbox_session_hours,
                secure_cookie=settings.public_base_url.startswith("https://"),
                limiter=RateLimit(limit_storage(settings.redis_url), "login-email", settings.inbox_login_attempts,
                                  LOGIN_WINDOW_SECONDS))
    own = [settings.public_base_url.rstrip("/"), f"http://127.0.0.1:{settings.port}",
           f"http://localhost:{settings.port}"]
    live = LiveInbox(sio, auth, own)
    desk = Desk(sessions, operations, deliverers, live)
    live.cases = desk
    return Inbox(auth, desk, InboxActions(desk), People(desk), live,
                 timedelta(hours=settings.inbox_abandon_after_hours))
