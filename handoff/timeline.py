"""Appending to and reading a case's timeline; the only writer of timeline_events."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from handoff.hashchain import GENESIS, ChainCheck, event_hash, verify_chain
from handoff.store.models import Case, TimelineEvent, utcnow

# The (seq, hash) each case's chain ends at, known inside the current transaction once its lock is held.
HEADS = "timeline_heads"


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, _transaction: SessionTransaction) -> None:
    """A head is only trustworthy while the transaction that read it holds the case's lock."""
    session.info.pop(HEADS, None)


class DuplicateProviderMessage(Exception):
    """The provider delivered a message id we already stored: acknowledge and ignore."""


async def provider_id_seen(session: AsyncSession, channel: str, provider_id: str) -> bool:
    """Whether this provider id is already on some timeline."""
    found = await session.scalar(
        select(TimelineEvent.id).where(TimelineEvent.channel == channel, TimelineEvent.provider_id == provider_id)
    )
    return found is not None


async def append_event(
    session: AsyncSession,
    case: Case,
    *,
    channel: str,
    direction: str,
    actor: str,
    kind: str,
    text: str | None = None,
    payload: dict[str, Any] | None = None,
    provider_id: str | None = None,
    delivery_status: str | None = None,
    case_updates: dict[str, Any] | None = None,
) -> TimelineEvent:
    """Adds the next event of the case, chained to the previous one; the caller commits.

    `case_updates` are columns of the case written by the same statement (one write per message).
    The case row is written first and that lock (a row lock on PostgreSQL, the write lock on SQLite) is
    held until the commit, so concurrent appends to one case queue up in the database. No in-process lock
    is held across awaits: a transaction appending twice cannot deadlock against another one.
    """
    heads: dict[str, tuple[int, str]] = session.info.setdefault(HEADS, {})
    head = heads.get(case.id)
    if head is None or case_updates:  # writing the case row takes its lock until the commit
        await session.execute(update(Case).where(Case.id == case.id)
                              .values(updated_at=utcnow(), **(case_updates or {}))
                              .execution_options(synchronize_session=False))
    if provider_id is not None and await provider_id_seen(session, channel, provider_id):
        raise DuplicateProviderMessage(provider_id)
    if head is None:
        last = (
            await session.execute(
                select(TimelineEvent.seq, TimelineEvent.hash)
                .where(TimelineEvent.case_id == case.id)
                .order_by(TimelineEvent.seq.desc())
                .limit(1)
            )
        ).first()
        head = (last.seq, last.hash) if last else (0, GENESIS)
    event = TimelineEvent(
        case_id=case.id,
        customer_id=case.customer_id,
        seq=head[0] + 1,
        channel=channel,
        direction=direction,
        actor=actor,
        kind=kind,
        text=text,
        payload=payload or {},
        provider_id=provider_id,
        delivery_status=delivery_status,
        created_at=utcnow(),
        prev_hash=head[1],
    )
    event.hash = event_hash(event_fields(event))
    session.add(event)
    await session.flush()
    heads[case.id] = (event.seq, event.hash)
    return event


def event_fields(event: TimelineEvent) -> dict[str, Any]:
    """The event as a plain dict: the form that is hashed, exported and verified."""
    return {
        "id": event.id,
        "case_id": event.case_id,
        "customer_id": event.customer_id,
        "seq": event.seq,
        "channel": event.channel,
        "direction": event.direction,
        "actor": event.actor,
        "kind": event.kind,
        "text": event.text,
        "payload": event.payload,
        "provider_id": event.provider_id,
        "delivery_status": event.delivery_status,
        "created_at": event.created_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


async def case_events(session: AsyncSession, case_id: str) -> list[TimelineEvent]:
    """The case's events in order."""
    result = await session.scalars(
        select(TimelineEvent).where(TimelineEvent.case_id == case_id).order_by(TimelineEvent.seq)
    )
    return list(result)


async def verify_case(session: AsyncSession, case_id: str) -> ChainCheck:
    """Re-hashes the stored events of a case and checks the chain."""
    return verify_chain(event_fields(event) for event in await case_events(session, case_id))
