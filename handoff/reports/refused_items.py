"""`GET /inbox/api/webhooks/refused`: the parts of signed provider batches that failed their schema, and the
stored webhooks whose processing keeps failing.

Meta sends many messages and statuses in one body; one that cannot be read is kept here (where in the body, why,
its JSON) while the others are processed, so supervisors see what no customer's case shows.
"""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from handoff.core.webhook_store import count_refused, failing_webhooks, refused_items
from handoff.inbox.deps import Supervisor
from handoff.reports.schemas import UtcTime
from handoff.web.deps import SessionsDep
from handoff.web.errors import errors
from handoff.web.params import MAX_ROW_ID

router = APIRouter(prefix="/inbox/api")


class RefusedItemView(BaseModel):
    id: int
    webhook_id: int  # the stored body (inbound_webhooks) it came in
    channel: str
    path: str  # where in the body, e.g. entry[0].changes[0].value.messages[1]
    error: str  # why, field by field
    raw: str  # the item's JSON as received (cut to 16,000 characters)
    received_at: UtcTime


class FailingWebhook(BaseModel):
    id: int
    channel: str
    received_at: UtcTime
    attempts: int  # failed processing attempts (retried every 30 s, 5 times)
    last_error: str | None


class RefusedItems(BaseModel):
    total: int
    items: list[RefusedItemView]  # newest first
    failing: list[FailingWebhook]  # stored bodies whose processing keeps failing, oldest first


@router.get("/webhooks/refused", response_model=RefusedItems, responses=errors(401, 403))
async def list_refused(principal: Supervisor, sessions: SessionsDep,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100,
                       before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None) -> RefusedItems:
    """Supervisors and admins: refused items, newest first (page back with `before_id`), and the stored webhooks
    whose processing keeps failing."""
    async with sessions() as session:
        rows = await refused_items(session, limit, before_id)
        total = await count_refused(session)
        failing = await failing_webhooks(session)
    return RefusedItems(total=total, items=[RefusedItemView(
        id=r.id, webhook_id=r.webhook_id, channel=r.channel, path=r.path, error=r.error, raw=r.raw,
        received_at=r.received_at) for r in rows], failing=[FailingWebhook(
            id=f.id, channel=f.channel, received_at=f.received_at, attempts=f.attempts, last_error=f.last_error)
            for f in failing])
