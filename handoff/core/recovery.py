"""Abandoned website chats continued on WhatsApp: once per abandonment, on the same case.

A chat is left without an answer when the case is still open on the website chat and its customer has written
nothing for `after` (ABANDONED_CHAT_RECOVERY_SECONDS), at most HORIZON ago, and
- people hold it (queued or assigned): whoever spoke last, the visitor has gone quiet while people have it; or
- the assistant holds it and spoke last, waiting for an answer (it offered choices or asked a question).
A bot case whose last word is the assistant's plain answer is a finished conversation, not an abandoned one.

Each case is claimed (`cases.recovery_claimed_at`, under the row's lock: SKIP LOCKED on PostgreSQL, the write
lock on SQLite) in the transaction that stages the message, so two workers or two sweeps never send twice; a later
customer message opens a new silence that may be recovered again.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.events import CaseChanged, EventBus, EventsAdded
from handoff.core.follow_up import Continuation, Continued, continue_on
from handoff.core.messages import Deliverer
from handoff.core.operations import Operations
from handoff.core.rounds import repeat
from handoff.core.sending import deliver_staged
from handoff.core.timeline import append_event
from handoff.store.models import Case, TimelineEvent, utcnow

log = structlog.get_logger(__name__)
HELD_BY_PEOPLE = ("queued", "assigned")
HORIZON = timedelta(hours=24)  # older silences are not chased (a worker back from a long stop stays quiet)
BATCH = 50
RECOVERY_KIND = "recovery"


@dataclass(frozen=True)
class LastMessage:
    """The case's latest message, as much of it as the decision needs."""

    direction: str  # in, out
    actor: str  # customer, bot, system, agent:<id>
    text: str | None
    offers_choices: bool


def awaits_answer(message: LastMessage) -> bool:
    """The assistant's message expects the customer to go on: choices offered or a question asked."""
    text = (message.text or "").strip()
    return message.offers_choices or text.endswith("?")


def left_without_answer(status: str, last: LastMessage | None) -> bool:
    """Given a customer silent long enough: people's chats always, the assistant's only mid-conversation."""
    if status in HELD_BY_PEOPLE:
        return True
    return (status == "bot" and last is not None and last.direction == "out" and last.actor == "bot"
            and awaits_answer(last))


def last_message_of(event: TimelineEvent | None) -> LastMessage | None:
    if event is None:
        return None
    payload: dict[str, Any] = event.payload or {}
    return LastMessage(event.direction, event.actor, event.text, bool(payload.get("quick_replies")))


class ChatRecovery:
    """A background loop like the abandonment sweeper; `sweep` is one round."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: EventBus, operations: Operations,
                 via: Continuation, deliverers: Mapping[str, Deliverer], *, after: timedelta,
                 source_channel: str = "webchat") -> None:
        self.sessions = sessions
        self.events = events
        self.operations = operations
        self.via = via
        self.deliverers = deliverers
        self.after = after
        self.source_channel = source_channel

    def _abandoned(self, now: datetime) -> Any:
        """The WHERE of a case that may be recovered now (read again under the row's lock before claiming)."""
        return (Case.channel == self.source_channel, Case.status.in_(("bot", *HELD_BY_PEOPLE)),
                Case.last_customer_message_at <= now - self.after, Case.last_customer_message_at > now - HORIZON,
                or_(Case.recovery_claimed_at.is_(None), Case.recovery_claimed_at < Case.last_customer_message_at))

    async def sweep(self, now: datetime | None = None) -> int:
        """Looks at every abandoned chat once; returns how many were continued on WhatsApp."""
        now = now or utcnow()
        async with self.sessions() as session:
            ids = list(await session.scalars(select(Case.id).where(*self._abandoned(now))
                                             .order_by(Case.last_customer_message_at).limit(BATCH)))
        sent = 0
        for case_id in ids:
            sent += await self.recover(case_id, now)
        return sent

    async def recover(self, case_id: str, now: datetime) -> int:
        """Claims one case and continues it on WhatsApp when it qualifies; 1 when a message went out."""
        async with self.sessions() as session, session.begin():
            case = await session.scalar(select(Case).where(Case.id == case_id, *self._abandoned(now))
                                        .with_for_update(skip_locked=True))
            if case is None:  # another worker has it, or the customer wrote meanwhile
                return 0
            case.recovery_claimed_at = now
            last = await session.scalar(select(TimelineEvent).where(
                TimelineEvent.case_id == case.id, TimelineEvent.kind == "message")
                .order_by(TimelineEvent.seq.desc()).limit(1))
            if not left_without_answer(case.status, last_message_of(last)):
                return 0
            outcome = await continue_on(session, case, self.via, self.deliverers, self.operations,
                                        text_key="chat_recovery", template=self.operations.chat_recovery.template)
            if not isinstance(outcome, Continued):
                log.info("chat_recovery_skipped", case_id=case.id, reason=outcome.reason, detail=outcome.detail)
                return 0
            event = await append_event(
                session, case, channel=self.via.channel, direction="internal", actor="system", kind=RECOVERY_KIND,
                text=f"Website chat left without an answer: continued on {self.via.channel}",
                payload={"from": self.source_channel, "message_event_id": outcome.staged.event_id,
                         "template": outcome.template, "silent_since": case.last_customer_message_at.isoformat()
                         if case.last_customer_message_at else None})
        log.info("chat_recovered", case_id=case_id, template=outcome.template)
        await deliver_staged(self.deliverers, [outcome.staged])
        await self.events.publish(EventsAdded(case_id, (outcome.staged.event_id, event.id)), CaseChanged(case_id))
        return 1

    async def run(self, every_seconds: float = 30.0) -> None:
        """Sweeps forever; a failed round is retried the next one, never fatal."""
        await repeat(self.sweep, every_seconds, "chat_recovery_failed")
