"""The WhatsApp channel's parts wired once per process: sending first (the conversation service needs its
deliverer), then receiving (the ingest needs the conversation service)."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.whatsapp import CHANNEL
from handoff.channels.whatsapp.graph import GraphClient
from handoff.channels.whatsapp.ingest import WhatsAppIngest
from handoff.channels.whatsapp.media import MediaStore
from handoff.channels.whatsapp.outbound import WhatsAppDeliverer, WhatsAppFollowUp
from handoff.channels.whatsapp.window import load_templates
from handoff.core.conversation import Conversations
from handoff.core.operations import Operations
from handoff.core.outbox import OutboxWorker
from handoff.core.recovery import ChatRecovery
from handoff.core.webhook_store import WebhookWriter
from handoff.settings import Settings


class WhatsAppSending:
    """The Graph client, the outbox worker, the templates, the deliverer agents and the assistant share, and the
    follow-up other doors continue on."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession],
                 operations: Operations) -> None:
        self.graph = GraphClient(settings.whatsapp_api_base, settings.whatsapp_phone_number_id,
                                 settings.whatsapp_access_token, timeout=settings.whatsapp_send_timeout_seconds)
        self.outbox = OutboxWorker(sessions, {CHANNEL: self.graph}, max_attempts=settings.outbox_max_attempts,
                                   backoff=settings.outbox_backoff_seconds,
                                   backoff_max=settings.outbox_backoff_max_seconds,
                                   stale_after=max(300.0, settings.whatsapp_send_timeout_seconds * 3))
        self.templates = load_templates(operations.whatsapp_templates)
        self.deliverer = WhatsAppDeliverer(sessions, self.templates, self.outbox.wake, operations.default_language,
                                           operations.tone)
        self.follow_up = WhatsAppFollowUp(self.templates, self.deliverer)  # where other doors continue (missed calls)
        # Other systems' notifications (core/notifications.py): only the templates approved for that use.
        self.notifications = WhatsAppFollowUp(load_templates(operations.notifications.templates), self.deliverer)


class WhatsAppRuntime:
    """Owns the background tasks of the channel (ingest, outbox) so app.py only starts and stops them."""

    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession], sending: WhatsAppSending,
                 conversations: Conversations) -> None:
        self.sending = sending
        self.media = MediaStore(settings.media_dir, sending.graph, settings.media_max_bytes)
        lease = timedelta(seconds=settings.work_lease_seconds)  # on what this worker accepted (core/claims.py)
        self.writer = WebhookWriter(sessions, hold=lease)
        self.ingest = WhatsAppIngest(sessions, conversations, self.media, writer=self.writer, lease=lease)
        after = settings.abandoned_chat_recovery_seconds
        sends = bool(settings.whatsapp_access_token and settings.whatsapp_phone_number_id)
        # Abandoned website chats continue here (core/recovery.py): the channel's background task, off at 0 and
        # while the channel cannot send.
        self.recovery = ChatRecovery(sessions, conversations.events, conversations.operations, sending.follow_up,
                                     conversations.deliverers, after=timedelta(seconds=after)) \
            if after and sends else None
        self.recovery_every = min(30.0, max(after / 4, 1.0))
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, started_at: datetime) -> None:
        """Processes webhooks nobody holds (unfinished before a restart, a dead worker's), starts sending the outbox
        and recovering abandoned website chats."""
        self._tasks = [asyncio.create_task(self.ingest.run(started_at)),
                       asyncio.create_task(self.sending.outbox.run())]
        if self.recovery is not None:
            self._tasks.append(asyncio.create_task(self.recovery.run(self.recovery_every)))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.ingest.close()
        await self.sending.graph.aclose()
