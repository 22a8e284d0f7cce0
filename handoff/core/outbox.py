"""The outbox sender: every staged provider message is sent once, in order per recipient, retried with backoff.

Rows are claimed with a conditional UPDATE (pending → sending), so two workers never send the same row; a
recipient's later rows wait while one is pending or sending, on every worker. A row left in `sending` by a
crash is not sent again (it may have reached the provider, and Meta's API takes no idempotency key): any
worker marks it failed, visibly on the message, once it is older than any send could take (`stale_after`, the
lease), and the recipient's next rows go out.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, cast

import structlog
from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handoff.core.delivery import advance_status, record_delivery
from handoff.store.models import Outbox, TimelineEvent, utcnow

log = structlog.get_logger(__name__)
SCAN_LIMIT = 500
UNSENT_COLUMNS = (Outbox.id, Outbox.channel, Outbox.recipient, Outbox.status, Outbox.next_attempt_at, Outbox.updated_at)


@dataclass(frozen=True)
class SendError:
    """Why a provider did not take a message, in words an agent can act on."""

    summary: str  # one line for agents and logs: the provider's code and title, and what it means
    code: int | None = None
    title: str = ""


@dataclass(frozen=True)
class SendResult:
    """What a channel's sender reports for one row: the provider's message id, or the error and whether to retry."""

    message_id: str | None = None
    error: SendError | None = None
    retry: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


class Sender(Protocol):
    """A channel's provider client: sends one staged body and classifies the answer."""

    async def send(self, body: dict[str, Any]) -> SendResult: ...


def backoff_delay(attempts: int, base: float, cap: float) -> float:
    """Capped exponential backoff: base, 2·base, 4·base, … never more than cap."""
    return min(cap, base * (2.0 ** max(attempts - 1, 0)))


def aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def due_runs(rows: list[Any], now: datetime) -> tuple[list[list[int]], datetime | None]:
    """Each recipient's due rows from its head on, in order, up to the first one not pending or not yet due (sent
    one after the other, each once the one before went out); and when the next head falls due (pure, ordered by
    id)."""
    runs: dict[tuple[str, str], list[int]] = {}
    ended: set[tuple[str, str]] = set()
    next_due: datetime | None = None
    for row in rows:
        key = (row.channel, row.recipient)
        if key in ended:
            continue
        head = key not in runs
        at = aware(row.next_attempt_at)
        if row.status != "pending" or at > now:  # later messages wait for this one: the customer reads them in order
            ended.add(key)
            if head and row.status == "pending" and (next_due is None or at < next_due):
                next_due = at
            continue
        runs.setdefault(key, []).append(row.id)
    return list(runs.values()), next_due


class OutboxWorker:
    """Sends due rows through each channel's sender; one worker task per process."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], senders: dict[str, Sender], *,
                 max_attempts: int = 6, backoff: float = 2.0, backoff_max: float = 300.0,
                 stale_after: float = 300.0, poll_seconds: float = 30.0, concurrency: int = 8) -> None:
        self.sessions = sessions
        self.senders = senders
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.stale_after = timedelta(seconds=stale_after)
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(concurrency)

    def wake(self) -> None:
        """Something was staged: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: send what is due, then sleep until the next row is due, a wake-up or the poll interval."""
        while True:
            try:
                next_due = await self.drain()
            except Exception:  # the database may be briefly unavailable; try again at the next poll
                log.exception("outbox_drain_failed")
                next_due = None
            timeout = self.poll_seconds
            if next_due is not None:
                timeout = min(timeout, max((next_due - utcnow()).total_seconds(), 0.0))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def drain(self) -> datetime | None:
        """Sends every row due now (rows that fall due meanwhile too); returns when the next one is due."""
        while True:
            self._wake.clear()
            async with self.sessions() as session:
                rows = await self.unsent(session)
            now = utcnow()
            interrupted = [row.id for row in rows
                           if row.status == "sending" and aware(row.updated_at) < now - self.stale_after]
            for row_id in interrupted:
                await self._interrupted(row_id)
            if interrupted:  # the messages behind them go out now, not at the next poll
                continue
            runs, next_due = due_runs(rows, now)
            if not runs:
                return next_due
            await asyncio.gather(*(self._send_in_order(run) for run in runs))

    async def unsent(self, session: AsyncSession) -> list[Any]:
        """Pending and sending rows of this worker's channels, oldest first (the first SCAN_LIMIT)."""
        return list((await session.execute(
            select(*UNSENT_COLUMNS)
            .where(Outbox.status.in_(("pending", "sending")), Outbox.channel.in_(list(self.senders)))
            .order_by(Outbox.id).limit(SCAN_LIMIT)
        )).all())

    async def _claim(self, row_id: int) -> Outbox | None:
        """pending → sending, only if nobody else did it first; the claimed row comes back with the write."""
        async with self.sessions() as session, session.begin():
            claimed = await session.scalars(
                update(Outbox).where(Outbox.id == row_id, Outbox.status == "pending")
                .values(status="sending", attempts=Outbox.attempts + 1, updated_at=utcnow())
                .returning(Outbox).execution_options(synchronize_session=False)
            )
            return claimed.one_or_none()

    async def _send_in_order(self, run: list[int]) -> None:
        """One recipient's due rows, each once the one before went out (a scan of the outbox less per row)."""
        for row_id in run:
            if not await self._attempt(row_id):
                return  # a retry or failure: the next scan decides what follows

    async def _attempt(self, row_id: int) -> bool:
        """Claims and sends one row; True when the provider took it."""
        async with self._limit:
            row = await self._claim(row_id)
            if row is None:
                return False
            sender = self.senders[row.channel]
            result = await sender.send(row.payload.get("body") or {})
            await self._record(row, result)
            return result.ok

    async def _record(self, row: Outbox, result: SendResult) -> None:
        """Success, a retry later, or a failure shown on the message."""
        # The timeline event a message row delivers (None for other kinds): its status follows the send.
        event_id = row.event_id if row.payload.get("kind", "message") == "message" else None
        if result.ok:
            await self._sent(row, result, event_id)
            return
        async with self.sessions() as session, session.begin():
            current = await session.get(Outbox, row.id, with_for_update=True)
            if current is None or current.status != "sending":
                return
            error = result.error.summary if result.error else "unknown error"
            current.last_error = error
            if result.retry and current.attempts < self.max_attempts:
                delay = backoff_delay(current.attempts, self.backoff, self.backoff_max)
                current.status, current.next_attempt_at = "pending", utcnow() + timedelta(seconds=delay)
                log.warning("outbox_retry", outbox_id=row.id, attempts=current.attempts, delay=delay, error=error)
                return
            if result.retry:
                error = f"{error} (gave up after {current.attempts} attempts)"
                current.last_error = error
            current.status = "failed"
            log.warning("outbox_failed", outbox_id=row.id, attempts=current.attempts, error=error)
            if event_id is not None:
                await self._show_failure(session, current, error, result)

    async def _sent(self, row: Outbox, result: SendResult, event_id: int | None) -> None:
        """sending → sent with the provider's id (one conditional write: still ours, not marked failed meanwhile),
        and the message it delivers shown as accepted."""
        async with self.sessions() as session, session.begin():
            sent = await session.execute(
                update(Outbox).where(Outbox.id == row.id, Outbox.status == "sending")
                .values(status="sent", provider_message_id=result.message_id, last_error=None, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if cast("CursorResult[Any]", sent).rowcount != 1:
                return
            if event_id is not None:
                await advance_status(session, event_id, "accepted")
        log.info("outbox_sent", outbox_id=row.id, attempts=row.attempts)

    async def _show_failure(self, session: AsyncSession, row: Outbox, error: str, result: SendResult | None) -> None:
        event = await session.get(TimelineEvent, row.event_id)
        if event is None:
            return
        detail: dict[str, Any] = {"outbox_id": row.id}
        if result is not None and result.error is not None:
            detail.update({"error_code": result.error.code, "error_title": result.error.title})
        await record_delivery(session, event, "failed", provider_id=f"outbox:{row.id}:failed", error=error,
                              detail=detail)

    async def _interrupted(self, row_id: int) -> None:
        """A send cut off by a crash: its outcome is unknown, so it is shown as failed rather than sent twice."""
        async with self.sessions() as session, session.begin():
            row = await session.get(Outbox, row_id, with_for_update=True)
            if row is None or row.status != "sending":
                return
            row.status = "failed"
            row.last_error = "Sending was interrupted by a restart; not resent to avoid a duplicate"
            log.warning("outbox_interrupted", outbox_id=row_id)
            if row.payload.get("kind", "message") == "message" and row.event_id is not None:
                await self._show_failure(session, row, row.last_error, None)
