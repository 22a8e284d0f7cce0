"""Retention: content older than `retention:` in operations.yml says is erased by the same means as an erasure on
request (core/erasure.py): timeline text and payload (media files too), call recordings and transcripts, stored
webhook bodies. Each case touched gets an erasure marker, each round an audit entry.

A round works in batches, each its own transaction holding one lock across workers, and picks only content not
yet erased: two workers never erase one item twice, and a batch that fails is simply picked again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.erasure import ERASED, ERASED_BODY, MARKER_KIND, erase_event_content, overwrite_freed
from handoff.core.locks import xact_lock
from handoff.core.operations import RetentionOperations
from handoff.core.rounds import repeat
from handoff.core.timeline import CaseRef, append_event
from handoff.store.models import Call, Case, InboundWebhook, RefusedWebhookItem, TimelineEvent, utcnow

log = structlog.get_logger(__name__)

ACTOR = "system:retention"
LOCK_KEY = "retention"


def cutoffs(policy: RetentionOperations, now: datetime) -> dict[str, datetime]:
    """Per kind of content, the moment before which it is erased (kinds kept forever are absent)."""
    days = {"message_text": policy.message_text, "recordings": policy.recordings,
            "webhook_bodies": policy.webhook_bodies}
    return {kind: now - timedelta(days=kept) for kind, kept in days.items() if kept is not None}


@dataclass
class RetentionRound:
    events: int = 0
    media_files: int = 0
    calls: int = 0
    webhooks: int = 0


async def _lock(session: AsyncSession) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await xact_lock(session, LOCK_KEY)
    else:  # SQLite: the write lock, held to the commit
        await session.execute(text("UPDATE timeline_events SET seq = seq WHERE 1 = 0"))


class Retention:
    """The retention round over the policy of operations.yml."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], policy: RetentionOperations, media_dir: Path,
                 batch: int = 500, clock: Callable[[], datetime] = utcnow) -> None:
        self.sessions = sessions
        self.policy = policy
        self.media_dir = media_dir
        self.batch = batch
        self.clock = clock

    @property
    def active(self) -> bool:
        return bool(cutoffs(self.policy, self.clock()))

    async def sweep(self) -> RetentionRound:
        """Erases everything past its kind's retention, batch by batch."""
        done = RetentionRound()
        limits = cutoffs(self.policy, self.clock())
        if "message_text" in limits:
            while await self._events(limits["message_text"], done) == self.batch:
                pass
        if "recordings" in limits or "webhook_bodies" in limits:
            async with self.sessions() as session, session.begin():
                await _lock(session)
                await overwrite_freed(session)
                if "recordings" in limits:
                    calls = await session.execute(update(Call).where(
                        Call.started_at < limits["recordings"],
                        or_(Call.recording_url.is_not(None), Call.transcript.is_not(None)))
                        .values(recording_url=None, transcript=None, transcript_segments=[]))
                    done.calls = calls.rowcount  # type: ignore[attr-defined]
                if "webhook_bodies" in limits:
                    bodies = await session.execute(update(InboundWebhook).where(
                        InboundWebhook.received_at < limits["webhook_bodies"],
                        InboundWebhook.processed_at.is_not(None), InboundWebhook.body != ERASED_BODY)
                        .values(body=ERASED_BODY))
                    done.webhooks = bodies.rowcount  # type: ignore[attr-defined]
                    await session.execute(update(RefusedWebhookItem).where(
                        RefusedWebhookItem.created_at < limits["webhook_bodies"], RefusedWebhookItem.raw != ERASED)
                        .values(raw=ERASED, error=ERASED))
                if done.calls or done.webhooks:
                    await audit.record(session, ACTOR, "retention_erased", calls=done.calls, webhooks=done.webhooks)
        if done.events or done.calls or done.webhooks:
            log.info("retention_erased", events=done.events, media_files=done.media_files, calls=done.calls,
                     webhooks=done.webhooks)
        return done

    async def _events(self, before: datetime, done: RetentionRound) -> int:
        """One batch of old events with content: erased, each case marked; how many were picked."""
        async with self.sessions() as session, session.begin():
            await _lock(session)
            await overwrite_freed(session)
            events = list(await session.scalars(
                select(TimelineEvent).where(TimelineEvent.created_at < before,
                                            TimelineEvent.content_salt.is_not(None),
                                            TimelineEvent.kind != MARKER_KIND)
                .order_by(TimelineEvent.id).limit(self.batch)))
            if not events:
                return 0
            cases = sorted({e.case_id for e in events})
            erased, files = await erase_event_content(session, events, self.media_dir)
            reason = f"retention: message_text after {self.policy.message_text} days"
            for row in await session.execute(select(Case.id, Case.customer_id, Case.channel)
                                             .where(Case.id.in_(cases)).order_by(Case.id)):
                await append_event(session, CaseRef(row.id, row.customer_id), channel=row.channel,
                                   direction="internal", actor=ACTOR, kind=MARKER_KIND,
                                   payload={"erased_by": ACTOR, "reason": reason})
            await audit.record(session, ACTOR, "retention_erased", events=erased, media_files=files,
                               cases=len(cases))
            done.events += erased
            done.media_files += files
            return len(events)

    async def run_forever(self, every_seconds: float) -> None:
        await repeat(self.sweep, every_seconds, "retention_round_failed")
