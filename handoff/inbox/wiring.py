"""Builds the inbox's objects once per process and attaches them to the app."""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import socketio
from fastapi import FastAPI
from limits.aio.storage import Storage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.commitment_alerts import DueCommitments
from handoff.core.events import EventBus
from handoff.core.messages import Deliverer
from handoff.core.opening import OpeningChannel, Openings
from handoff.core.operations import Operations
from handoff.core.queues import Queues
from handoff.core.sweeper import AbandonSweeper
from handoff.inbox.actions import InboxActions
from handoff.inbox.auth import Auth
from handoff.inbox.case_access import CaseAccess
from handoff.inbox.commitments import Commitments
from handoff.inbox.live import LiveInbox
from handoff.inbox.live_pushes import LivePushes
from handoff.inbox.login_limits import LoginThrottle
from handoff.inbox.merging import Merging
from handoff.inbox.people import People
from handoff.settings import Settings


@dataclass(frozen=True)
class LiveParts:
    """The inbox's Socket.IO side, built before the event bus so its pushes can listen on it."""

    auth: Auth
    live: LiveInbox
    pushes: LivePushes


@dataclass
class Inbox:
    auth: Auth
    actions: InboxActions
    merging: Merging
    people: People
    live: LiveInbox
    sweeper: AbandonSweeper
    queues: Queues
    commitments: Commitments
    due_commitments: DueCommitments
    due_every_seconds: float
    openings: Openings
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        """Background work of the inbox: the abandoned-case sweeper, follow-ups whose hold ended, due commitments,
        the opening."""
        self.tasks.append(asyncio.create_task(self.sweeper.run()))
        self.tasks.append(asyncio.create_task(self.queues.run()))
        self.tasks.append(asyncio.create_task(self.due_commitments.run(self.due_every_seconds)))
        self.tasks.append(asyncio.create_task(self.openings.run()))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def mount(self, api: FastAPI) -> None:
        """Routes and static files; the routes ask for their services by type (handoff/inbox/deps.py)."""
        from handoff.inbox import (
            callback_routes,
            commitment_routes,
            contact_routes,
            customer_routes,
            integration_routes,
            media_routes,
            merge_routes,
            search_routes,
            template_routes,
        )
        from handoff.inbox import routes as inbox_routes

        api.include_router(inbox_routes.router)
        api.include_router(media_routes.router)
        api.include_router(merge_routes.router)
        api.include_router(customer_routes.router)
        api.include_router(search_routes.router)
        api.include_router(contact_routes.router)
        api.include_router(template_routes.router)
        api.include_router(commitment_routes.router)
        api.include_router(callback_routes.router)
        api.include_router(integration_routes.router)
        inbox_routes.ASSETS.current()  # hashed and compressed at start-up, not on the first agent's request


def build_live(settings: Settings, sessions: async_sessionmaker[AsyncSession], sio: socketio.AsyncServer,
               deliverers: Mapping[str, Deliverer], secret: bytes, limits: Storage) -> LiveParts:
    """Sign-in, the live namespace and its pushes (a listener the app gives to the event bus)."""
    auth = Auth(sessions, secret, ttl_hours=settings.inbox_session_hours,
                secure_cookie=settings.public_base_url.startswith("https://"),
                throttle=LoginThrottle(limits, free=settings.inbox_login_attempts,
                                       base=settings.inbox_login_delay_seconds,
                                       cap=settings.inbox_login_max_delay_seconds,
                                       window=settings.inbox_login_window_seconds))
    own = [settings.public_base_url.rstrip("/"), f"http://127.0.0.1:{settings.port}",
           f"http://localhost:{settings.port}"]
    live = LiveInbox(sio, auth, own, CaseAccess(sessions, deliverers))
    return LiveParts(auth, live, LivePushes(sessions, live))


def build_inbox(settings: Settings, sessions: async_sessionmaker[AsyncSession], operations: Operations,
                deliverers: Mapping[str, Deliverer], parts: LiveParts, events: EventBus, queues: Queues,
                follow_up: OpeningChannel | None = None) -> Inbox:
    """The inbox shares the channels' deliverers, so agents answer exactly the way the assistant does; cases kept
    after hours are routed at the opening (a template on `follow_up` when the WhatsApp window closed)."""
    actions = InboxActions(sessions, operations, deliverers, events, queues)
    sweeper = AbandonSweeper(sessions, events, timedelta(hours=settings.inbox_abandon_after_hours))
    people = People(sessions, operations, queues, parts.live)
    openings = Openings(sessions, events, queues, operations, deliverers, follow_up)
    return Inbox(parts.auth, actions, Merging(sessions, events, queues), people, parts.live, sweeper, queues,
                 Commitments(sessions, events), DueCommitments(sessions, events),
                 settings.commitments_due_check_seconds, openings)
