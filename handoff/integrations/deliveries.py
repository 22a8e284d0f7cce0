"""An integration's webhook deliveries as the outbox holds them: the admins' log and the integration's own."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.store.models import Outbox

CHANNEL = "webhook"  # the outbox channel of webhook deliveries; the recipient is the integration's id
PAGE = 50


def delivery_view(row: Outbox) -> dict[str, Any]:
    """One delivery: what was sent and what became of it (never the body's signature)."""
    payload = row.payload or {}
    return {"id": row.id, "integration_id": row.recipient, "event": payload.get("event", ""), "case_id": row.case_id,
            "status": row.status, "attempts": row.attempts, "last_error": row.last_error,
            "response": row.provider_message_id, "created_at": row.created_at, "updated_at": row.updated_at,
            "next_attempt_at": row.next_attempt_at if row.status == "pending" else None}


async def deliveries(session: AsyncSession, integration_id: str | None, *, before: int | None = None,
                     limit: int = PAGE) -> list[dict[str, Any]]:
    """Newest first, a page at a time (`before` an id); every integration's when `integration_id` is None."""
    query = select(Outbox).where(Outbox.channel == CHANNEL)
    if integration_id is not None:
        query = query.where(Outbox.recipient == integration_id)
    if before is not None:
        query = query.where(Outbox.id < before)
    rows = await session.scalars(query.order_by(Outbox.id.desc()).limit(limit))
    return [delivery_view(row) for row in rows]
