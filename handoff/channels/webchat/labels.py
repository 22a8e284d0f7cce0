"""The label agents read for a quick-reply click: the one the service offered, never the one the client claims."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.customers import find_by_identity
from handoff.store.models import TimelineEvent


async def offered_label(session: AsyncSession, identity_kind: str, identity_value: str, payload: str) -> str | None:
    """The title of `payload` among the quick replies of the latest message sent to this customer, if offered."""
    customer = await find_by_identity(session, identity_kind, identity_value)
    if customer is None:
        return None
    latest = await session.scalar(
        select(TimelineEvent)
        .where(TimelineEvent.customer_id == customer.id, TimelineEvent.direction == "out",
               TimelineEvent.kind == "message")
        .order_by(TimelineEvent.created_at.desc(), TimelineEvent.id.desc())
        .limit(1)
    )
    replies = (latest.payload or {}).get("quick_replies") if latest is not None else None
    for reply in replies if isinstance(replies, list) else []:
        if isinstance(reply, dict) and reply.get("payload") == payload and isinstance(reply.get("title"), str):
            return str(reply["title"])
    return None
