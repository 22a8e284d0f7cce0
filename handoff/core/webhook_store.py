"""Provider webhook bodies persisted before they are acknowledged, with group commit for bursts.

Concurrent requests share one transaction (one write, one commit) and each is still answered only after
that commit, so a 200 always means the body is on disk.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.store.models import InboundWebhook, RefusedWebhookItem, utcnow

MAX_REFUSED_KEPT = 100  # per body: a batch of thousands of broken items keeps the first ones and a count


async def store_webhook(sessions: async_sessionmaker[AsyncSession], channel: str, body: bytes,
                        hold: timedelta | None = None) -> int:
    """Persists one raw signed body on its own; returns its row id."""
    return (await store_webhooks(sessions, [(channel, body)], hold))[0]


async def store_webhooks(sessions: async_sessionmaker[AsyncSession], items: list[tuple[str, bytes]],
                         hold: timedelta | None = None) -> list[int]:
    """Persists several bodies in one transaction; the ids come back in the same order. With `hold`, the storing
    worker holds the lease on processing them (core.claims), so no other worker's round takes them meanwhile."""
    now = utcnow()
    until = now + hold if hold is not None else None
    rows = [{"channel": channel, "body": body, "received_at": now, "attempts": 0, "claimed_until": until}
            for channel, body in items]
    async with sessions() as session, session.begin():
        result = await session.execute(
            insert(InboundWebhook).returning(InboundWebhook.id, sort_by_parameter_order=True), rows)
        return list(result.scalars())


async def keep_refused(session: AsyncSession, webhook_id: int, channel: str,
                       items: list[tuple[str, str, str]]) -> None:
    """Keeps the (path, error, raw JSON) of items a batch could not read; the caller commits."""
    now = utcnow()
    kept = items[:MAX_REFUSED_KEPT]
    if len(items) > len(kept):
        kept[-1] = (kept[-1][0], f"{kept[-1][1]} (and {len(items) - len(kept)} more refused items in this body, "
                                 f"see inbound_webhooks id {webhook_id})", kept[-1][2])
    await session.execute(insert(RefusedWebhookItem), [
        {"webhook_id": webhook_id, "channel": channel, "path": path[:200], "error": error, "raw": raw,
         "created_at": now} for path, error, raw in kept])


@dataclass(frozen=True)
class Refused:
    """A refused item as operators see it."""

    id: int
    webhook_id: int
    channel: str
    path: str
    error: str
    raw: str
    received_at: datetime


async def refused_items(session: AsyncSession, limit: int = 100, before_id: int | None = None) -> list[Refused]:
    """The newest refused items first (page back with `before_id`)."""
    query = select(RefusedWebhookItem).order_by(RefusedWebhookItem.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(RefusedWebhookItem.id < before_id)
    return [Refused(row.id, row.webhook_id, row.channel, row.path, row.error, row.raw, row.created_at)
            for row in await session.scalars(query)]


@dataclass(frozen=True)
class Failing:
    """A stored webhook whose processing keeps failing (retried every 30 s up to 5 times, then left for operators)."""

    id: int
    channel: str
    received_at: datetime
    attempts: int
    last_error: str | None


async def failing_webhooks(session: AsyncSession, limit: int = 100) -> list[Failing]:
    """Unprocessed webhooks that failed at least once, oldest first."""
    rows = await session.scalars(select(InboundWebhook).where(
        InboundWebhook.processed_at.is_(None), InboundWebhook.attempts > 0).order_by(InboundWebhook.id).limit(limit))
    return [Failing(row.id, row.channel, row.received_at, row.attempts, row.last_error) for row in rows]


async def count_refused(session: AsyncSession, since: datetime | None = None) -> int:
    """How many items were refused (since a moment), for dashboards and readiness."""
    query = select(func.count()).select_from(RefusedWebhookItem)
    if since is not None:
        query = query.where(RefusedWebhookItem.created_at >= since)
    return int(await session.scalar(query) or 0)


class WebhookWriter:
    """Batches the bodies of concurrent requests into one commit; a burst gets cheaper per request."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = 128,
                 hold: timedelta | None = None) -> None:
        self.sessions = sessions
        self.hold = hold  # the lease the accepting worker takes on processing what it stored
        self.max_batch = max_batch
        self._waiting: list[tuple[str, bytes, asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def store(self, channel: str, body: bytes) -> int:
        """Returns the row id once the body is committed (raises if the commit failed)."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((channel, body, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch:]
            try:
                ids = await store_webhooks(self.sessions, [(channel, body) for channel, body, _ in batch], self.hold)
            except Exception as exc:  # every request of the batch gets the error: none is acknowledged
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (*_, future), row_id in zip(batch, ids, strict=False):
                if not future.done():
                    future.set_result(row_id)
