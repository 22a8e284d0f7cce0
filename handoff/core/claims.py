"""Leases on background work, so several workers share a backlog and a dead worker's items are taken over.

A row that is background work has a `claimed_until` column. A worker claims rows with one conditional UPDATE
(`claimed_until` empty or past), so two workers never hold one row: on PostgreSQL the candidates are picked
`FOR UPDATE SKIP LOCKED` (a row another worker is claiming is skipped, not waited for), on SQLite the UPDATE
takes the database's single write lock. The holder finishes the item (deleting the row or marking it done) within
the lease; if it dies the lease lapses and the next worker's round claims the row again. An item whose side
effect reaches a provider must say, in its own module, what a second attempt does (docs/architecture.md).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

LEASE = timedelta(seconds=120)  # WORK_LEASE_SECONDS: longer than any one item takes (a Rasa turn, a webhook)


def free(claimed_until: InstrumentedAttribute[Any], now: datetime) -> ColumnElement[bool]:
    """The row is nobody's now: never claimed, released, or its holder's lease has lapsed."""
    return or_(claimed_until.is_(None), claimed_until < now)


async def claim(session: AsyncSession, key: InstrumentedAttribute[Any], where: Sequence[ColumnElement[bool]], *,
                now: datetime, lease: timedelta, order_by: Sequence[Any] = (), limit: int = 1) -> list[Any]:
    """Leases up to `limit` free rows matching `where` (oldest by `order_by`) to this worker; returns their keys.

    The model's lease column is `claimed_until`. The caller commits: until then PostgreSQL holds the rows' locks.
    """
    model = key.class_
    column = model.claimed_until
    picked = (select(key).where(*where, free(column, now)).order_by(*order_by).limit(limit)
              .with_for_update(skip_locked=True))  # SQLite renders no FOR UPDATE: its write lock serializes
    claimed = await session.execute(
        update(model).where(key.in_(picked.scalar_subquery()), free(column, now))
        .values(claimed_until=now + lease).returning(key).execution_options(synchronize_session=False))
    return list(claimed.scalars())


async def release(session: AsyncSession, key: InstrumentedAttribute[Any], keys: Sequence[Any],
                  *, until: datetime | None = None) -> int:
    """Gives rows back (to any worker at once, or from `until`: a retry's delay); the caller commits."""
    if not keys:
        return 0
    released = await session.execute(update(key.class_).where(key.in_(list(keys))).values(claimed_until=until)
                                     .execution_options(synchronize_session=False))
    return int(cast("CursorResult[Any]", released).rowcount or 0)
