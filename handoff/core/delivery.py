"""The delivery state of outbound messages: set from the outbox and provider statuses, shown on the timeline."""
from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.timeline import append_event, provider_id_seen
from handoff.store.models import Case, TimelineEvent

# A later stage never goes back to an earlier one, whatever order the provider's callbacks arrive in.
PROGRESS = ("pending", "accepted", "sent", "delivered", "read")


def replaceable_by(status: str) -> tuple[str, ...]:
    """The stored states `status` may overwrite; a failure after delivery changes nothing."""
    if status == "failed":
        return ("pending", "accepted", "sent")
    if status not in PROGRESS:
        return ()
    return (*PROGRESS[: PROGRESS.index(status)], "failed")


def delivery_text(status: str, error: str | None) -> str:
    """The timeline line agents read."""
    if status == "failed":
        return f"Not delivered: {error}" if error else "Not delivered"
    return {"accepted": "Accepted by the provider", "sent": "Sent", "delivered": "Delivered",
            "read": "Read by the customer"}.get(status, status)


async def advance_status(session: AsyncSession, event_id: int, status: str) -> bool:
    """Moves the event's delivery status forward atomically; False when it was already further along."""
    allowed = replaceable_by(status)
    if not allowed:
        return False
    result = await session.execute(
        update(TimelineEvent)
        .where(TimelineEvent.id == event_id,
               or_(TimelineEvent.delivery_status.is_(None), TimelineEvent.delivery_status.in_(allowed)))
        .values(delivery_status=status)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount == 1


async def record_delivery(session: AsyncSession, event: TimelineEvent, status: str, *, provider_id: str,
                          error: str | None = None, detail: dict[str, Any] | None = None) -> bool:
    """Updates the message's delivery status and adds a `delivery` event once per provider id; the caller commits."""
    if await provider_id_seen(session, event.channel, provider_id):
        return False
    case = await session.get(Case, event.case_id)
    if case is None:
        return False
    await append_event(
        session, case, channel=event.channel, direction="internal", actor="system", kind="delivery",
        text=delivery_text(status, error), provider_id=provider_id,
        payload={"message_event_id": event.id, "status": status, **({"error": error} if error else {}),
                 **(detail or {})},
    )
    changed = await advance_status(session, event.id, status)
    if changed:
        event.delivery_status = status
    return True
