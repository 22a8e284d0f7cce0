"""Commitments: what an agent promised on a case and by when; kept, broken, or overdue (open past due).

The rules are pure functions; the writes run in the caller's transaction and keep the customer's snapshot of
open promises (`customers.open_commitments`, what the assistant's metadata carries) true with every change.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.hashchain import utc_iso
from handoff.core.timeline import append_event
from handoff.store.models import Case, Commitment, Customer, TimelineEvent
from handoff.store.models.commitments import MAX_COMMITMENT_CHARS

STATES = ("open", "overdue", "kept", "broken")  # overdue: open past its due time (never stored)
OUTCOMES = ("kept", "broken")
SNAPSHOT_LIMIT = 5  # the customer's soonest open promises the assistant is told
LAST_YEAR = 2199


class CommitmentRefused(ValueError):
    """A promise the rules refuse, with the body field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC; every comparison is in aware UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def check_promise(text: str, due_at: datetime, now: datetime) -> tuple[str, datetime]:
    """The promise as stored (text trimmed, due time in UTC), or why not: 1..500 characters, due in the future."""
    body = text.strip()
    if not body:
        raise CommitmentRefused("text", "text is required")
    if len(body) > MAX_COMMITMENT_CHARS:
        raise CommitmentRefused("text", f"at most {MAX_COMMITMENT_CHARS} characters")
    if due_at.tzinfo is None or due_at.utcoffset() is None:
        raise CommitmentRefused("due_at", "due_at needs a time zone (UTC: a trailing Z)")
    due = due_at.astimezone(timezone.utc)
    if due <= now:
        raise CommitmentRefused("due_at", "due_at must be in the future")
    if due.year > LAST_YEAR:
        raise CommitmentRefused("due_at", f"due_at must be before {LAST_YEAR + 1}")
    return body, due


def state(status: str, due_at: datetime, now: datetime) -> str:
    """open, overdue (open past due), kept or broken."""
    return "overdue" if status == "open" and aware(due_at) <= now else status


def kept_on_time(status: str, kept_at: datetime | None, due_at: datetime) -> bool:
    """Kept, and marked kept no later than it was due."""
    return status == "kept" and kept_at is not None and aware(kept_at) <= aware(due_at)


def snapshot(open_ones: Iterable[Commitment]) -> list[dict[str, Any]] | None:
    """The soonest open promises as the assistant reads them (id, text, due_at); None when there is none."""
    rows = sorted(open_ones, key=lambda c: (aware(c.due_at), c.id))[:SNAPSHOT_LIMIT]
    return [{"id": c.id, "text": c.text, "due_at": utc_iso(c.due_at), "case_id": c.case_id} for c in rows] or None


async def refresh_open(session: AsyncSession, customer_id: str) -> None:
    """Rewrites the customer's snapshot from the open promises of all their cases (merges followed by the case)."""
    open_ones = await session.scalars(
        select(Commitment).join(Case, Case.id == Commitment.case_id)
        .where(Case.customer_id == customer_id, Commitment.status == "open")
        .order_by(Commitment.due_at, Commitment.id).limit(SNAPSHOT_LIMIT))
    # Derived data, not a change of the customer: updated_at stays (merges compare it to undo exactly).
    await session.execute(update(Customer).where(Customer.id == customer_id)
                          .values(open_commitments=snapshot(open_ones), updated_at=Customer.updated_at))


async def promise(session: AsyncSession, case: Case, *, agent_id: str, actor: str, text: str,
                  due_at: datetime) -> tuple[Commitment, TimelineEvent]:
    """Records a checked promise on the case, its timeline event, and the customer's snapshot."""
    commitment = Commitment(case_id=case.id, customer_id=case.customer_id, agent_id=agent_id, text=text,
                            due_at=due_at, status="open")
    session.add(commitment)
    await session.flush()
    event = await append_event(session, case, channel=case.channel, direction="internal", actor=actor,
                               kind="commitment", text=text,
                               payload={"commitment_id": commitment.id, "status": "open", "due_at": utc_iso(due_at)})
    await refresh_open(session, case.customer_id)
    return commitment, event


async def settle(session: AsyncSession, commitment: Commitment, case: Case, *, outcome: str, actor: str,
                 now: datetime) -> TimelineEvent:
    """Marks an open promise kept or broken (once), on the timeline, and refreshes the customer's snapshot."""
    commitment.status, commitment.kept_at, commitment.settled_by = outcome, now, actor
    event = await append_event(session, case, channel=case.channel, direction="internal", actor=actor,
                               kind="commitment", text=commitment.text,
                               payload={"commitment_id": commitment.id, "status": outcome,
                                        "due_at": utc_iso(commitment.due_at),
                                        "on_time": kept_on_time(outcome, now, commitment.due_at)})
    await refresh_open(session, case.customer_id)
    return event


@dataclass(frozen=True)
class Due:
    """A promise the due pass claimed: who to alert."""

    commitment_id: int
    case_id: str
    agent_id: str
    team: str | None
    assignee_id: str | None


async def claim_due(session: AsyncSession, now: datetime, limit: int = 100) -> Sequence[Due]:
    """Open promises past due not yet alerted, marked alerted in this transaction (two workers never both claim one)."""
    rows = (await session.execute(
        select(Commitment, Case.team, Case.assignee_id).join(Case, Case.id == Commitment.case_id)
        .where(Commitment.status == "open", Commitment.due_at <= now, Commitment.alerted_at.is_(None))
        .order_by(Commitment.due_at).limit(limit)
        .with_for_update(of=Commitment, skip_locked=True))).all()
    claimed = []
    for commitment, team, assignee_id in rows:
        commitment.alerted_at = now
        claimed.append(Due(commitment.id, commitment.case_id, commitment.agent_id, team, assignee_id))
    return claimed
