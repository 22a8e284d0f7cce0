"""Appending to and reading a case's timeline; the only writer of timeline_events."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import CursorResult, Delete, Row, Select, bindparam, exists, insert, literal_column, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningDelete

from handoff.core.hashchain import GENESIS, ChainCheck, content_digest, event_hash, new_salt, verify_chain
from handoff.core.json_values import finite
from handoff.store.db import write_lock_at_begin
from handoff.store.models import Case, TimelineEvent, utcnow

# The (seq, hash) each case's chain ends at, known inside the current transaction once its lock is held.
HEADS = "timeline_heads"
# Cases whose row lock the current transaction already holds (PostgreSQL), taken by a caller's statement.
LOCKED = "timeline_locked"

# Built once: every append runs these same Core statements (no per-call statement building or ORM flush).
_EVENTS = TimelineEvent.__table__
_CASES = Case.__table__
_UPDATE_CASE = update(_CASES).where(_CASES.c.id == bindparam("case_key"))
# Who holds the case, as it is once the write has its lock: a loaded case is brought up to date without a read.
_OWNERSHIP = ("status", "assignee_id")
_UPDATE_CASE_OWNERSHIP = _UPDATE_CASE.returning(*(_CASES.c[name] for name in _OWNERSHIP))
_LOCK_CASE = select(_CASES.c.id).where(_CASES.c.id == bindparam("case_key")).with_for_update(key_share=True)
_SEEN = select(_EVENTS.c.id).where(_EVENTS.c.channel == bindparam("channel"),
                                   _EVENTS.c.provider_id == bindparam("provider_id"))
_HEAD = (select(_EVENTS.c.seq, _EVENTS.c.hash).where(_EVENTS.c.case_id == bindparam("case_id"))
         .order_by(_EVENTS.c.seq.desc()).limit(1))
_HEAD_AND_SEEN = _HEAD.add_columns(_SEEN.scalar_subquery().label("seen"))
# Where the write lock is held from BEGIN (SQLite), a write's RETURNING may read the head: one statement, not two.
_HEAD_OF = (select(_EVENTS.c.seq, _EVENTS.c.hash).where(_EVENTS.c.case_id == bindparam("head_case"))
            .order_by(_EVENTS.c.seq.desc()).limit(1))
_HEAD_COLUMNS = (_HEAD_OF.with_only_columns(_EVENTS.c.seq).scalar_subquery().label("head_seq"),
                 _HEAD_OF.with_only_columns(_EVENTS.c.hash).scalar_subquery().label("head_hash"))
_UPDATE_CASE_READ_HEAD = _UPDATE_CASE.returning(
    *_HEAD_COLUMNS,
    select(_EVENTS.c.id).where(_EVENTS.c.channel == bindparam("seen_channel"),
                               _EVENTS.c.provider_id == bindparam("seen_provider_id"))
    .scalar_subquery().label("seen"),
)
_INSERT = insert(_EVENTS)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_heads(session: Session, _transaction: SessionTransaction) -> None:
    """A head is only trustworthy while the transaction that read it holds the case's lock."""
    session.info.pop(HEADS, None)
    session.info.pop(LOCKED, None)


class DuplicateProviderMessage(Exception):
    """The provider delivered a message id we already stored: acknowledge and ignore."""


class CaseKey(Protocol):
    """What appending needs of a case: a loaded Case or a CaseRef."""

    @property
    def id(self) -> str: ...

    @property
    def customer_id(self) -> str: ...


@dataclass(frozen=True)
class CaseRef:
    """A case known by its keys, so the assistant's answer is appended without loading the case row."""

    id: str
    customer_id: str


async def provider_id_seen(session: AsyncSession, channel: str, provider_id: str) -> bool:
    """Whether this provider id is already on some timeline."""
    found = await session.scalar(_SEEN, {"channel": channel, "provider_id": provider_id})
    return found is not None


async def _read_head(session: AsyncSession, case_id: str, channel: str,
                     provider_id: str | None) -> tuple[tuple[int, str], bool]:
    """The case's last (seq, hash) and whether the provider id is already stored, in one statement."""
    if provider_id is None:
        row = (await session.execute(_HEAD, {"case_id": case_id})).first()
        return ((row.seq, row.hash) if row else (0, GENESIS)), False
    row = (await session.execute(_HEAD_AND_SEEN, {"case_id": case_id, "channel": channel,
                                                  "provider_id": provider_id})).first()
    if row is None:  # the case's first event: no row to carry the answer
        return (0, GENESIS), await provider_id_seen(session, channel, provider_id)
    return (row.seq, row.hash), row.seen is not None


def _head_of(row: Row[Any]) -> tuple[int, str]:
    return (row.head_seq, row.head_hash) if row.head_seq is not None else (0, GENESIS)


async def _write_case_read_head(session: AsyncSession, case_id: str, channel: str, provider_id: str | None,
                                case_updates: dict[str, Any]) -> tuple[tuple[int, str], bool]:
    """Where the transaction holds the write lock from BEGIN: the case's write returns its head and whether the
    provider id is already stored, one statement instead of two."""
    row = (await session.execute(_UPDATE_CASE_READ_HEAD, {
        "case_key": case_id, "head_case": case_id, "updated_at": utcnow(), **case_updates,
        "seen_channel": channel, "seen_provider_id": provider_id})).first()
    if row is None:  # no such case row: nothing was written, the head is read on its own
        return await _read_head(session, case_id, channel, provider_id)
    return _head_of(row), row.seen is not None


async def _update_case(session: AsyncSession, case: CaseKey, case_updates: dict[str, Any]) -> None:
    """The case's write; a Case loaded in this session gets its status and assignee as they are under the lock
    this write took (another worker's turn may have changed them since the case was read), from the same
    statement."""
    parameters = {"case_key": case.id, "updated_at": utcnow(), **case_updates}
    if not (isinstance(case, Case) and case in session.sync_session):
        await session.execute(_UPDATE_CASE, parameters)
        return
    row = (await session.execute(_UPDATE_CASE_OWNERSHIP, parameters)).first()
    if row is not None:
        for name, value in zip(_OWNERSHIP, row, strict=True):
            set_committed_value(case, name, value)


def returning_head(statement: Delete) -> ReturningDelete[Any]:
    """The statement, also returning the head of the case bound as `head_case` (for `write_reading_head`)."""
    return statement.returning(*_HEAD_COLUMNS)


def locking_case(statement: Delete) -> Select[Any]:
    """The statement, then the lock append_event takes on the case bound as `head_case` (FOR NO KEY UPDATE) if it
    matched a row, in one statement (a data-modifying WITH; PostgreSQL, for `write_reading_head`)."""
    written = statement.returning(literal_column("1").label("written")).cte("written")
    return (select(_CASES.c.id).where(_CASES.c.id == bindparam("head_case"), exists(select(written.c.written)))
            .with_for_update(key_share=True, of=_CASES))


async def write_reading_head(session: AsyncSession, statement: Delete, reading_head: ReturningDelete[Any],
                             parameters: dict[str, Any], case_id: str, locking: Select[Any] | None = None) -> int:
    """Runs a write of the caller's and returns how many rows it matched (0 or 1 for `locking`). Where the
    transaction holds the write lock from BEGIN (SQLite), `reading_head` runs instead and the case's head it returns
    spares the next append_event of the transaction its own read; elsewhere `locking` (see `locking_case`), if
    given, runs instead and the case's lock it takes spares append_event its own locking statement (the head is
    still read after the lock, by a statement of its own)."""
    if not write_lock_at_begin(session.get_bind()):
        if locking is None:
            return cast("CursorResult[Any]", await session.execute(statement, parameters)).rowcount
        locked = (await session.execute(locking, {**parameters, "head_case": case_id})).all()
        if locked:
            session.info.setdefault(LOCKED, set()).add(case_id)
        return len(locked)
    rows = (await session.execute(reading_head, {**parameters, "head_case": case_id})).all()
    if rows:
        session.info.setdefault(HEADS, {})[case_id] = _head_of(rows[0])
    return len(rows)


async def append_event(
    session: AsyncSession,
    case: CaseKey,
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
    Before the chain head is read, the transaction holds the case's lock until its commit: the write of
    `case_updates`, else a row lock (FOR NO KEY UPDATE, what that write would take) on PostgreSQL; SQLite's
    transactions hold the database write lock from BEGIN. So concurrent appends to one case queue up in the
    database, and the head is read after the lock: by a statement of its own, or on SQLite by the case write's
    RETURNING. No in-process lock is held across awaits: a transaction appending twice cannot deadlock against
    another one. The event is returned attached to the session, so a channel may still set its delivery status
    before the commit.
    """
    await session.flush()  # pending ORM rows (a new case, say) first: the statements below are Core
    heads: dict[str, tuple[int, str]] = session.info.setdefault(HEADS, {})
    known = heads.get(case.id)
    locked_at_begin = write_lock_at_begin(session.get_bind())
    if case_updates and known is None and locked_at_begin:
        head, seen = await _write_case_read_head(session, case.id, channel, provider_id, case_updates)
    else:
        if case_updates:
            await _update_case(session, case, case_updates)
        elif known is None and not locked_at_begin and case.id not in session.info.get(LOCKED, ()):
            await session.execute(_LOCK_CASE, {"case_key": case.id})
        if known is None:
            head, seen = await _read_head(session, case.id, channel, provider_id)
        else:
            head, seen = known, provider_id is not None and await provider_id_seen(session, channel, provider_id)
    if seen:
        raise DuplicateProviderMessage(provider_id)
    fields: dict[str, Any] = {
        "case_id": case.id,
        "customer_id": case.customer_id,
        "seq": head[0] + 1,
        "channel": channel,
        "direction": direction,
        "actor": actor,
        "kind": kind,
        "text": text,
        "payload": finite(payload) if payload else {},  # NaN has no JSON form (PostgreSQL refuses it): null
        "provider_id": provider_id,
        "delivery_status": delivery_status,
        "created_at": utcnow(),
        "prev_hash": head[1],
        "content_salt": new_salt(),
    }
    fields["content_digest"] = content_digest(text, fields["payload"], fields["content_salt"])
    fields["hash"] = event_hash(fields)
    inserted = cast("CursorResult[Any]", await session.execute(_INSERT, fields))
    key = inserted.inserted_primary_key
    assert key is not None  # a single-row INSERT always reports its key
    event = TimelineEvent(id=key[0], **fields)
    make_transient_to_detached(event)  # as if loaded: persistent once added, later changes flush as updates
    session.add(event)
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
        "content_salt": event.content_salt,
        "content_digest": event.content_digest,
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
