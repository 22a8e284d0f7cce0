"""A customer's open case across all channels, and the recontact link to the one before it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from handoff.core.hashchain import utc_iso
from handoff.core.merge_rules import MERGED
from handoff.core.operations import Operations
from handoff.store.models import Case, Customer, utcnow

OPEN_STATUSES = ("bot", "queued", "assigned")
CLOSED_STATUSES = ("resolved", "abandoned")


def is_recontact(previous_closed_at: datetime | None, now: datetime, window_hours: int) -> bool:
    """A customer back within the follow-up window continues a story, not a new one."""
    if previous_closed_at is None:
        return False
    if previous_closed_at.tzinfo is None:
        previous_closed_at = datetime.fromisoformat(utc_iso(previous_closed_at).replace("Z", "+00:00"))
    return now - previous_closed_at <= timedelta(hours=window_hours)


def case_language(operations: Operations, case: Case, customer: Customer | None = None) -> str:
    """The language the service speaks on a case: the case's, else the customer's, else the default."""
    return operations.language_or_default(case.language or (customer.language if customer else None))


LATEST = "latest_cases"


@event.listens_for(Session, "after_transaction_end")
def _forget_latest(session: Session, _transaction: SessionTransaction) -> None:
    """Another transaction may open a case; the memo lives only as long as the one that read it."""
    session.info.pop(LATEST, None)


def remember_latest(session: AsyncSession, customer_id: str, case: Case | None) -> None:
    """The customer's latest case as read with them (customers.resolve_contact), so nobody reads it again."""
    session.info.setdefault(LATEST, {})[customer_id] = case


async def latest_case(session: AsyncSession, customer_id: str) -> Case | None:
    """The customer's most recent case, read once per transaction (CSAT and case opening both ask)."""
    memo: dict[str, Case | None] = session.info.setdefault(LATEST, {})
    if customer_id not in memo:
        memo[customer_id] = await session.scalar(
            select(Case).where(Case.customer_id == customer_id).order_by(Case.created_at.desc()).limit(1)
        )
    return memo[customer_id]


async def continued_case(session: AsyncSession, case: Case | None) -> Case | None:
    """The case a conversation continues on: `case`, or the one it was merged into (followed to the end)."""
    seen: set[str] = set()
    while case is not None and case.status == MERGED and case.merged_into_case_id and case.id not in seen:
        seen.add(case.id)
        case = await session.get(Case, case.merged_into_case_id)
    return case


async def open_case(
    session: AsyncSession, customer: Customer, channel: str, *, follow_up_window_hours: int
) -> Case:
    """The customer's open case (moved to `channel`), or a new one linked to a recent closed case."""
    latest = await continued_case(session, await latest_case(session, customer.id))
    if latest is not None and latest.status in OPEN_STATUSES:
        if latest.channel != channel:  # an unchanged value would still cost a flush
            latest.channel = channel
        return latest
    now = utcnow()
    previous = latest if latest and is_recontact(latest.resolved_at, now, follow_up_window_hours) else None
    case = Case(
        customer_id=customer.id,
        status="bot",
        channel=channel,
        language=customer.language,
        previous_case_id=previous.id if previous else None,
        created_at=now,
    )
    session.add(case)
    await session.flush()
    remember_latest(session, customer.id, case)
    return case
