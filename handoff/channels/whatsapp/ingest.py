"""Inbound WhatsApp webhooks: stored before the 200, processed after; a worker that dies leaves them to another.

The accepting worker holds a lease on each row it stored (core.claims, from the insert); every worker's round
claims unprocessed rows whose lease lapsed (its holder died) or whose retry delay passed. Processing twice is
harmless anyway: a message's wamid is stored once (a unique provider id) and a status once per state.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.channels.whatsapp import CHANNEL
from handoff.channels.whatsapp.addresses import BSUID_KIND
from handoff.channels.whatsapp.graph import MediaError
from handoff.channels.whatsapp.inbound import (
    MalformedWebhook,
    ParsedMessage,
    StatusUpdate,
    describe_error,
    parse_webhook,
)
from handoff.channels.whatsapp.media import MediaStore
from handoff.channels.whatsapp.numbers import phone_of
from handoff.channels.whatsapp.opt_out import WhatsAppOptOuts, asks_to_stop
from handoff.channels.whatsapp.schema import RefusedItem
from handoff.core.claims import LEASE, claim, release
from handoff.core.conversation import Conversations, Received, Turn
from handoff.core.customers import follow_merges, link_identities
from handoff.core.delivery import record_delivery
from handoff.core.identity import InvalidIdentity
from handoff.core.merge_evidence import weigh_proved
from handoff.core.messages import InboundMessage
from handoff.core.timeline import provider_id_seen
from handoff.core.webhook_store import WebhookWriter, keep_refused
from handoff.store.models import Customer, InboundWebhook, Outbox, TimelineEvent, utcnow

log = structlog.get_logger(__name__)
RECEIVE_ATTEMPTS = 3
BURST_ACCEPTS = 10
BURST_WINDOW = 0.1
RESUME_BATCH = 50  # rows claimed per statement by a round: few enough to start well within the lease


def in_burst(accepted_at: Sequence[float], now: float) -> bool:
    """Webhooks arriving faster than BURST_ACCEPTS per BURST_WINDOW seconds (the last accept times, oldest first)."""
    return len(accepted_at) >= BURST_ACCEPTS and now - accepted_at[-BURST_ACCEPTS] < BURST_WINDOW


def sender_identities(wa_id: str | None, user_id: str | None) -> list[tuple[str, str]]:
    """The verified identities WhatsApp gives for a sender: their phone first when Meta shows it, then their
    business-scoped user id (a customer with a username may hide the number)."""
    identities: list[tuple[str, str]] = []
    if wa_id:
        try:
            identities.append(("phone", phone_of(wa_id)))
        except InvalidIdentity:
            identities.append(("whatsapp", wa_id))  # a wa_id phonenumbers cannot place is still an identity
    if user_id:
        identities.append((BSUID_KIND, user_id))
    return identities


def inbound_message(message: ParsedMessage) -> InboundMessage:
    """The service's inbound message for a parsed WhatsApp message: the sender's verified identities (phone,
    business-scoped id or both, linked to one customer), the username as their handle."""
    (kind, value), *linked = sender_identities(message.wa_id, message.user_id)
    payload: dict[str, Any] = {**message.payload, "profile_name": message.profile_name}
    if message.timestamp is not None:
        payload["sent_at"] = message.timestamp
    stop = asks_to_stop(message)  # the service answers an opt-out, not the assistant
    if stop:
        payload["opt_out"] = True
    return InboundMessage(channel=CHANNEL, identity_kind=kind, identity_value=value, address=message.address,
                          text=message.text, bot_input=message.bot_input, provider_id=message.wamid, verified=True,
                          verified_by="whatsapp", display_name=message.profile_name, payload=payload,
                          for_bot=message.for_bot and not stop, linked_identities=tuple(linked),
                          handle=message.username)


class WhatsAppIngest:
    """Turns stored webhook bodies into timeline events, assistant turns and delivery updates."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], conversations: Conversations,
                 media: MediaStore, *, concurrency: int = 4, max_attempts: int = 5,
                 poll_seconds: float = 30.0, yield_seconds: float = 1.0,
                 writer: WebhookWriter | None = None, lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.lease = lease
        self.writer = writer or WebhookWriter(sessions)
        self.writer.hold = self.writer.hold or lease  # what this worker accepts, it processes: held from the insert
        self.conversations = conversations
        self.media = media
        self.opt_outs = WhatsAppOptOuts(sessions, conversations.deliverers, conversations.operations,
                                        conversations.events)
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._inflight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # One customer's messages are stored one at a time in this process, in the order they are processed:
        # the fast path. Across workers the database holds: receiving locks the identity until the commit
        # (core.customers.resolve_contact, an advisory lock on PostgreSQL; SQLite has one writer), so two
        # workers never open two cases for one customer. No Redis lock is needed for a single transaction.
        self._customer_locks = [asyncio.Lock() for _ in range(64)]
        # Acknowledging comes first: during a burst (BURST_ACCEPTS within BURST_WINDOW seconds) processing
        # waits, each row at most `yield_seconds`, so Meta gets its 200s fast; below that it runs at once.
        self.yield_seconds = yield_seconds
        self._accepted_at: deque[float] = deque(maxlen=BURST_ACCEPTS)

    async def accept(self, body: bytes) -> int:
        """Persists a verified body (group commit) and schedules it; the caller then acknowledges."""
        self._accepted_at.append(time.monotonic())
        row_id = await self.writer.store(CHANNEL, body)
        self.schedule(row_id, body)
        return row_id

    async def _let_acknowledgements_pass(self) -> None:
        """During a burst, Meta's requests are answered first; processing never waits more than a moment."""
        deadline = time.monotonic() + self.yield_seconds
        while in_burst(self._accepted_at, time.monotonic()) and time.monotonic() < deadline:
            await asyncio.sleep(BURST_WINDOW / 5)

    def schedule(self, row_id: int, body: bytes | None = None) -> None:
        """Processes a stored webhook this worker holds in the background, after the request was acknowledged
        (`body`: the one it just stored, so it is not read back)."""
        if row_id in self._inflight:
            return
        self._inflight.add(row_id)
        task = asyncio.create_task(self._guarded(row_id, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guarded(self, row_id: int, body: bytes | None) -> None:
        try:
            async with self._limit:  # storing is database-bound: a few at a time keep acknowledgements fast
                await self._let_acknowledgements_pass()
                turns = await self.store_row(row_id, body)
        finally:
            self._inflight.discard(row_id)
        if turns:
            await self._let_acknowledgements_pass()
        await self.run_turns(turns)

    async def run(self, started_at: datetime | None = None) -> None:
        """Forever: claims and processes what nobody holds (unfinished before a restart, a dead worker's rows,
        failed rows due again), then waits `poll_seconds`."""
        while True:
            try:
                await self.resume()
            except Exception:  # the database may be briefly away: the next round claims the same rows
                log.exception("whatsapp_webhooks_resume_failed")
            await asyncio.sleep(self.poll_seconds)

    async def resume(self) -> int:
        """One round: claims unprocessed rows whose lease is free, a batch at a time, and schedules them."""
        resumed = 0
        while True:
            async with self.sessions() as session, session.begin():
                ids = await claim(session, InboundWebhook.id, (
                    InboundWebhook.channel == CHANNEL, InboundWebhook.processed_at.is_(None),
                    InboundWebhook.attempts < self.max_attempts),
                    now=utcnow(), lease=self.lease, order_by=(InboundWebhook.id,), limit=RESUME_BATCH)
            for row_id in ids:
                self.schedule(row_id)
            resumed += len(ids)
            if len(ids) < RESUME_BATCH:
                break
            await self.drain()  # the next batch is claimed once this one is done, well within its lease
        if resumed:
            log.info("whatsapp_webhooks_resumed", count=resumed)
        return resumed

    async def drain(self) -> None:
        """Waits for every scheduled webhook (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Stops processing and gives back the rows it held (another worker, or this one restarted, takes them at
        once instead of after the lease)."""
        held = sorted(self._inflight)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        with contextlib.suppress(Exception):  # the database may be gone at shutdown: the leases lapse instead
            async with self.sessions() as session, session.begin():
                await release(session, InboundWebhook.id, held)

    async def process_row(self, row_id: int) -> None:
        """Stores every message and status of one webhook, marks it processed, then runs the assistant's turns."""
        await self.run_turns(await self.store_row(row_id))

    async def run_turns(self, turns: Sequence[int | Turn]) -> None:
        """The assistant's turns of stored messages (an event id, or the turn `receive` gathered); a failure
        leaves the pending turn for the next start."""
        for turn in turns:
            event_id = turn if isinstance(turn, int) else turn.event_id
            try:
                await self.conversations.process(event_id, None if isinstance(turn, int) else turn)
            except Exception:
                log.exception("whatsapp_turn_failed", event_id=event_id)

    async def store_row(self, row_id: int, body: bytes | None = None) -> list[int | Turn]:
        """Every message and status of one stored webhook onto the timeline; returns the turns to run.

        `body` is the row's, when the worker that stored it processes it: then it is not read back. The first
        turn keeps what receiving gathered for it; a later one of the same webhook is read again when its turn
        comes, as the turns before it may have handed the case to people or taught the assistant something."""
        if body is None:
            async with self.sessions() as session:
                row = await session.get(InboundWebhook, row_id)
            if row is None or row.processed_at is not None:
                return []
            body = row.body
        turns: list[int | Turn] = []
        try:
            batch = parse_webhook(body)
            for message in batch.messages:
                received = await self.receive(message)
                if asks_to_stop(message):  # also for a repeat: a retried webhook finishes what a failure left
                    await self.opt_outs.record(message.wamid)
                if received.to_bot and received.event_id is not None:
                    turns.append(received.turn if received.turn is not None and not turns else received.event_id)
            for status in batch.statuses:
                await self.apply_status(status)
            for error in batch.errors:
                log.warning("whatsapp_webhook_error", webhook_id=row_id, error=describe_error(error))
        except MalformedWebhook as exc:  # only a body stored by an older version could get here
            await self._finish(row_id, error=f"malformed webhook: {exc}")
            return []
        except Exception as exc:
            log.exception("whatsapp_webhook_failed", webhook_id=row_id)
            async with self.sessions() as session, session.begin():  # retried by any worker after poll_seconds
                await session.execute(update(InboundWebhook).where(InboundWebhook.id == row_id).values(
                    attempts=InboundWebhook.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    claimed_until=utcnow() + timedelta(seconds=self.poll_seconds)))
            return []
        for item in batch.refused:
            log.warning("whatsapp_item_refused", webhook_id=row_id, path=item.path, error=item.error)
        await self._finish(row_id, refused=batch.refused)
        return turns

    async def _finish(self, row_id: int, error: str | None = None, refused: Sequence[RefusedItem] = ()) -> None:
        """Marks the row processed, with the items of it that could not be read, once."""
        if refused and error is None:
            error = f"{len(refused)} item(s) refused, see refused_webhook_items"
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(InboundWebhook).where(InboundWebhook.id == row_id, InboundWebhook.processed_at.is_(None))
                .values(processed_at=utcnow(), last_error=error))
            if refused and cast("CursorResult[Any]", result).rowcount == 1:
                await keep_refused(session, row_id, CHANNEL, [(i.path, i.error, i.raw) for i in refused])

    async def receive(self, message: ParsedMessage) -> Received:
        """One customer message onto the timeline (media fetched first); a repeated wamid is ignored.

        A repeat is looked for first only when reading the message costs more than storing it (a media download,
        a context to look up); otherwise storing finds it (core.timeline.append_event), in the same statement that
        reads the case's head."""
        links: dict[str, Any] = {}
        if message.media is not None or message.context_id:
            async with self.sessions() as session:
                if await provider_id_seen(session, CHANNEL, message.wamid):
                    return Received(None, None, duplicate=True)
                links = await self._links(session, message)
        inbound = inbound_message(message)
        extra: dict[str, Any] = dict(links)
        text = inbound.text
        if message.media is not None:
            try:
                extra["media"] = {**message.media, **await self.media.fetch(message.media)}
            except MediaError as exc:
                log.warning("whatsapp_media_failed", wamid=message.wamid, error=str(exc))
                extra["media"], extra["media_error"] = message.media, str(exc)
                text = f"{text} (the file could not be fetched: {exc})"
        if links.get("reacts_to_text"):
            text = f"{text} to: {links['reacts_to_text']}"
        inbound = replace(inbound, text=text, payload={**inbound.payload, **extra})
        async with self._customer_locks[hash(message.user_id or message.wa_id) % len(self._customer_locks)]:
            attempts = 0
            while True:
                try:
                    return await self.conversations.receive(inbound)
                except IntegrityError:  # another worker stored this wamid or created this customer first
                    attempts += 1
                    async with self.sessions() as session:
                        if await provider_id_seen(session, CHANNEL, message.wamid):
                            return Received(None, None, duplicate=True)
                    if attempts >= RECEIVE_ATTEMPTS:
                        raise

    async def _links(self, session: AsyncSession, message: ParsedMessage) -> dict[str, Any]:
        """The timeline event a button reply answers or a reaction reacts to, when it is ours."""
        if not message.context_id:
            return {}
        event_id = await session.scalar(select(Outbox.event_id).where(
            Outbox.channel == CHANNEL, Outbox.provider_message_id == message.context_id).limit(1))
        if event_id is None:
            event_id = await session.scalar(select(TimelineEvent.id).where(
                TimelineEvent.channel == CHANNEL, TimelineEvent.provider_id == message.context_id))
        if event_id is None:
            return {}
        if message.type == "reaction":
            target = await session.get(TimelineEvent, event_id)
            snippet = (target.text or "")[:60] if target else ""
            return {"reacts_to_event_id": event_id, **({"reacts_to_text": snippet} if snippet else {})}
        return {"in_reply_to_event_id": event_id}

    async def apply_status(self, status: StatusUpdate) -> None:
        """sent / delivered / read / failed onto our outbound message; an id we never sent is acknowledged."""
        async with self.sessions() as session, session.begin():
            row = await session.scalar(select(Outbox).where(Outbox.channel == CHANNEL,
                                                            Outbox.provider_message_id == status.wamid).limit(1))
            event = await session.get(TimelineEvent, row.event_id) if row and row.event_id else None
            if event is None:
                log.info("whatsapp_status_unknown_message", status=status.status)
                return
            error = "; ".join(describe_error(e) for e in status.errors) or None
            detail: dict[str, Any] = {"provider_message_id": status.wamid, **status.extra}
            if status.errors:
                first = status.errors[0]
                detail.update({"error_code": first.get("code"), "error_title": first.get("title")})
            if await record_delivery(session, event, status.status, provider_id=f"{status.wamid}:{status.status}",
                                     error=error, detail=detail) and error and row is not None:
                row.last_error = error
            await self._learn_recipient(session, event.customer_id, status)

    async def _learn_recipient(self, session: AsyncSession, customer_id: str, status: StatusUpdate) -> None:
        """A status naming both the phone and the business-scoped id of whoever got our message links them on
        that customer; a username there is their current handle."""
        identities = sender_identities(status.recipient_id, status.recipient_user_id)
        if len(identities) < 2 and not status.username:
            return
        customer = await session.get(Customer, customer_id)
        if customer is None:
            return
        customer = await follow_merges(session, customer)  # merged since: the survivor has the phone now
        if len(identities) == 2:
            kept_elsewhere = await link_identities(session, customer, identities, verified_by="whatsapp")
            await weigh_proved(session, customer, kept_elsewhere, "whatsapp")  # two customers: one person
        if status.username and customer.handle != status.username:
            customer.handle = status.username
