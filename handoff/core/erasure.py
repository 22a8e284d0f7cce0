"""Erasing a customer on request: what they said, sent and are known by leaves the database and the media folder;
an "erased" marker (who, when, why) goes on each of their cases and in the audit log, and every chain still
verifies because it covers salted digests of the content (core/hashchain.py), never the content.

The content of a timeline event is erased by `erase_event_content` (retention uses it too): text, payload and salt
go, the digest stays. Everything else the customer is known by is removed or blanked here; the assistant's
trackers of the cases are removed by the caller (core/assistant_trackers.py), after the commit.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Text, bindparam, cast, delete, func, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from handoff.core import audit
from handoff.core.assistant_trackers import AssistantTrackers
from handoff.core.hashchain import digest_of, is_erased
from handoff.core.timeline import CaseRef, append_event
from handoff.store.models import (
    AuditEntry,
    Call,
    Callback,
    Case,
    Commitment,
    Customer,
    CustomerKey,
    Handoff,
    Identity,
    InboundWebhook,
    Merge,
    MergeSuggestion,
    NluSample,
    Notification,
    Outbox,
    PendingTurn,
    RefusedWebhookItem,
    TimelineEvent,
    VerificationCode,
)

log = structlog.get_logger(__name__)

ERASED = "erased"  # what stands where a value that may not be null was
ERASED_BODY = b'{"erased":true}'
MARKER_KIND = "erasure"  # the timeline event that says who erased what, when and why (never itself erased)
MIN_NEEDLE = 6  # shorter values would match unrelated stored bodies
_EVENTS = TimelineEvent.__table__
_ERASE = (update(_EVENTS).where(_EVENTS.c.id == bindparam("event_id"))
          .values(text=None, payload={}, content_salt=None, content_digest=bindparam("digest")))


@dataclass
class Erased:
    """What one erasure removed, counted (never the values)."""

    customer_ids: list[str] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    events: int = 0
    media_files: int = 0
    calls: int = 0
    identities: int = 0
    webhooks: int = 0
    samples: int = 0
    tracker_events: int = 0


def media_paths(payloads: Iterable[dict[str, Any] | None]) -> set[str]:
    """The stored media files (MEDIA_DIR-relative) that events' payloads point at."""
    paths = set()
    for payload in payloads:
        media = (payload or {}).get("media")
        if isinstance(media, dict) and isinstance(media.get("path"), str) and media["path"]:
            paths.add(media["path"])
    return paths


def needles(identity_values: Iterable[str], provider_ids: Iterable[str | None]) -> set[str]:
    """The strings that find a customer's stored webhook bodies: identities (a phone also without its +, as
    WhatsApp writes it) and the provider ids of their messages."""
    found: set[str] = set()
    for value in identity_values:
        found.update({value, value.lstrip("+")})
    found.update(pid for pid in provider_ids if pid)
    return {needle for needle in found if len(needle) >= MIN_NEEDLE}


def _content(event: TimelineEvent) -> dict[str, Any]:
    return {"text": event.text, "payload": event.payload, "content_salt": event.content_salt,
            "content_digest": event.content_digest}


async def erase_event_content(session: AsyncSession, events: Sequence[TimelineEvent],
                              media_dir: Path) -> tuple[int, int]:
    """Erases the content of events not yet erased (markers kept): (events erased, media files removed)."""
    todo = [e for e in events if e.kind != MARKER_KIND and not is_erased(_content(e))]
    if not todo:
        return 0, 0
    paths = media_paths(e.payload for e in todo)
    await session.execute(_ERASE, [{"event_id": e.id, "digest": digest_of(_content(e))} for e in todo])
    for event in todo:
        session.expire(event)
    return len(todo), await _remove_media(session, paths, media_dir)


async def _remove_media(session: AsyncSession, paths: set[str], media_dir: Path) -> int:
    """Removes files no other (unerased) event still points at; files are content-addressed, so shared."""
    removed = 0
    root = media_dir.resolve()
    for relative in sorted(paths):
        still = await session.scalar(select(TimelineEvent.id).where(
            cast(TimelineEvent.payload, Text).contains(relative)).limit(1))
        path = (root / relative).resolve()
        if still is None and path.is_relative_to(root) and path.is_file():
            path.unlink()
            removed += 1
    return removed


async def _scrub_webhooks(session: AsyncSession, found: set[str]) -> int:
    """Stored webhook bodies and refused items that mention the customer: bodies replaced by a marker."""
    if not found:
        return 0
    postgres = session.get_bind().dialect.name == "postgresql"
    count = 0
    for needle in sorted(found):
        raw = literal(needle.encode(), type_=InboundWebhook.body.type)
        matches = func.position(raw.op("IN")(InboundWebhook.body)) > 0 if postgres \
            else func.instr(InboundWebhook.body, raw) > 0
        hit = await session.execute(update(InboundWebhook).where(matches, InboundWebhook.body != ERASED_BODY)
                                    .values(body=ERASED_BODY).execution_options(synchronize_session=False))
        count += hit.rowcount  # type: ignore[attr-defined]
        await session.execute(update(RefusedWebhookItem).where(RefusedWebhookItem.raw.contains(needle))
                              .values(raw=ERASED, error=ERASED).execution_options(synchronize_session=False))
    return count


async def erase_customer(session: AsyncSession, customer_id: str, *, actor: str, reason: str,
                         media_dir: Path) -> Erased | None:
    """Erases the customer (and customers merged into them) in the caller's transaction; None if unknown."""
    customer = await session.get(Customer, customer_id)
    if customer is None:
        return None
    done = Erased(customer_ids=[customer_id, *await session.scalars(
        select(Customer.id).where(Customer.merged_into_id == customer_id))])
    ids = done.customer_ids
    cases = list(await session.scalars(select(Case).where(Case.customer_id.in_(ids)).order_by(Case.created_at)))
    done.case_ids = [c.id for c in cases]
    events = list(await session.scalars(select(TimelineEvent).where(
        or_(TimelineEvent.case_id.in_(done.case_ids), TimelineEvent.customer_id.in_(ids)))))
    values = list(await session.scalars(select(Identity.value).where(Identity.customer_id.in_(ids))))
    done.webhooks = await _scrub_webhooks(session, needles(values, (e.provider_id for e in events)))
    done.events, done.media_files = await erase_event_content(session, events, media_dir)
    done.identities = len(values)
    await _redact_audit(session, values)
    await _blank_records(session, ids, done)
    for case in cases:
        await append_event(session, CaseRef(case.id, case.customer_id), channel=case.channel,
                           direction="internal", actor=actor, kind=MARKER_KIND,
                           payload={"erased_by": actor, "reason": reason})
    await audit.record(session, actor, "customer_erased", customer_id=customer_id, reason=reason,
                       cases=done.case_ids, events=done.events, media_files=done.media_files)
    log.info("customer_erased", customer_id=customer_id, cases=len(done.case_ids), events=done.events,
             media_files=done.media_files, webhooks=done.webhooks)
    return done


_REDACT = (update(AuditEntry.__table__).where(AuditEntry.__table__.c.id == bindparam("entry_id"))
           .values(detail={}, content_salt=None, content_digest=bindparam("digest")))


async def _redact_audit(session: AsyncSession, values: list[str]) -> None:
    """Audit entries whose detail names one of the customer's identities (a merge's verified evidence): the detail
    and its salt go, the digest stays, so the audit log still verifies."""
    for value in sorted({v for v in values if len(v) >= MIN_NEEDLE}):
        entries = list(await session.scalars(select(AuditEntry).where(
            cast(AuditEntry.detail, Text).contains(value))))
        todo = [{"entry_id": e.id, "digest": digest_of(audit.entry_fields(e))} for e in entries
                if not is_erased(audit.entry_fields(e))]
        if todo:
            await session.execute(_REDACT, todo)
            for entry in entries:
                session.expire(entry)


async def _blank_records(session: AsyncSession, ids: list[str], done: Erased) -> None:
    """Identities, facts, names, numbers, transcripts, samples, summaries: removed or blanked."""
    cases = select(Case.id).where(Case.customer_id.in_(ids)).scalar_subquery()
    quiet = {"synchronize_session": False}
    await session.execute(delete(Identity).where(Identity.customer_id.in_(ids)).execution_options(**quiet))
    await session.execute(delete(VerificationCode).where(VerificationCode.customer_id.in_(ids))
                          .execution_options(**quiet))
    await session.execute(delete(MergeSuggestion).where(or_(MergeSuggestion.customer_id.in_(ids),
                                                            MergeSuggestion.other_customer_id.in_(ids)))
                          .execution_options(**quiet))
    await session.execute(update(Merge).where(or_(Merge.survivor_customer_id.in_(ids),
                                                  Merge.absorbed_customer_id.in_(ids)))
                          .values(evidence={}, moved={}).execution_options(**quiet))
    calls = await session.execute(update(Call).where(Call.customer_id.in_(ids)).values(
        from_number=None, to_number=None, recording_url=None, transcript=None, transcript_segments=[])
        .execution_options(**quiet))
    done.calls = calls.rowcount  # type: ignore[attr-defined]
    await session.execute(update(Callback).where(Callback.customer_id.in_(ids)).values(phone=ERASED)
                          .execution_options(**quiet))
    await session.execute(update(Outbox).where(Outbox.case_id.in_(cases)).values(
        recipient=ERASED, payload={}, last_error=None).execution_options(**quiet))
    await session.execute(update(Outbox).where(Outbox.case_id.in_(cases), Outbox.status.in_(("pending", "sending")))
                          .values(status="failed", last_error=ERASED).execution_options(**quiet))
    await session.execute(delete(PendingTurn).where(PendingTurn.case_id.in_(cases)).execution_options(**quiet))
    # Notifications' values (names, order numbers) and free text blanked; one queued or held is never sent.
    await session.execute(update(Notification).where(Notification.customer_id.in_(ids),
                                                     Notification.status.in_(("queued", "held")))
                          .values(status="refused", reason="erased").execution_options(**quiet))
    await session.execute(update(Notification).where(Notification.customer_id.in_(ids))
                          .values(parameters=[], detail={}).execution_options(**quiet))
    await session.execute(update(Case).where(Case.customer_id.in_(ids)).values(notified=None)
                          .execution_options(**quiet))  # what the assistant was told of the last one
    await session.execute(update(Handoff).where(Handoff.case_id.in_(cases)).values(
        summary=None, slots={}, review_note=None).execution_options(**quiet))
    await session.execute(update(Commitment).where(Commitment.case_id.in_(cases)).values(text=ERASED)
                          .execution_options(**quiet))
    samples = await session.execute(delete(NluSample).where(NluSample.case_id.in_(cases)).execution_options(**quiet))
    done.samples = samples.rowcount  # type: ignore[attr-defined]
    for customer in await session.scalars(select(Customer).where(Customer.id.in_(ids))):
        customer.display_name, customer.handle, customer.facts, customer.open_commitments = None, None, {}, None
    await session.flush()  # the mapper events recompute the search keys from nothing
    await session.execute(delete(CustomerKey).where(CustomerKey.customer_id.in_(ids)).execution_options(**quiet))



async def overwrite_freed(session: AsyncSession) -> None:
    """SQLite keeps a deleted or shortened value in the page's free space unless told to overwrite it."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete = ON"))


async def drop_old_pages(sessions: async_sessionmaker[AsyncSession]) -> None:
    """SQLite in WAL mode keeps earlier page images in the -wal file until a checkpoint truncates it (outside any
    transaction: the driver's own call, no BEGIN)."""
    async with sessions() as session:
        engine = session.bind
    if not isinstance(engine, AsyncEngine) or engine.dialect.name != "sqlite":
        return
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # a live pooled connection
        await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class Erasures:
    """An erasure end to end: the database in one transaction, then the assistant's trackers and SQLite's WAL."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], media_dir: Path,
                 trackers: AssistantTrackers) -> None:
        self.sessions = sessions
        self.media_dir = media_dir
        self.trackers = trackers

    async def erase(self, customer_id: str, *, actor: str, reason: str) -> Erased | None:
        """Erases the customer; None when there is no such customer."""
        async with self.sessions() as session, session.begin():
            await overwrite_freed(session)
            done = await erase_customer(session, customer_id, actor=actor, reason=reason, media_dir=self.media_dir)
        if done is None:
            return None
        done.tracker_events = await self.trackers.forget(done.case_ids)
        await drop_old_pages(self.sessions)
        return done
