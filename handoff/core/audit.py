"""The audit log: who did what, hash-chained with the timeline's own functions so tampering shows."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.core.hashchain import GENESIS, ChainCheck, content_digest, event_hash, new_salt, verify_chain
from handoff.core.locks import xact_lock
from handoff.store.models import AuditEntry, utcnow

LOCK_KEY = "audit_log"  # one chain: one writer at a time, on every worker


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """The entry in the timeline's hashed shape (action as kind, detail as payload), so one hash serves both."""
    return {
        "case_id": entry.case_id, "seq": entry.seq, "created_at": entry.created_at, "channel": None,
        "direction": None, "actor": entry.actor, "kind": entry.action, "text": None, "payload": entry.detail,
        "content_salt": entry.content_salt, "content_digest": entry.content_digest,
        "provider_id": None, "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


async def record(session: AsyncSession, actor: str, action: str, *, case_id: str | None = None,
                 **detail: Any) -> AuditEntry:
    """Appends an entry in the caller's transaction, so the action and its record commit together.

    The chain's end is read only once the transaction holds the log's lock until its commit, which serializes
    writers across workers by itself: PostgreSQL's advisory lock (also between two sessions of one process),
    SQLite's database write lock. So no per-process lock is taken: it added nothing (it was released at the
    flush, before the commit that frees the database's lock).
    """
    if session.get_bind().dialect.name == "postgresql":
        await xact_lock(session, LOCK_KEY)
    else:  # SQLite's write lock even in a transaction begun DEFERRED; held until this transaction commits
        await session.execute(text("UPDATE audit_log SET seq = seq WHERE 1 = 0"))
    last = (await session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    )).first()
    salt = new_salt()
    entry = AuditEntry(seq=(last.seq + 1) if last else 1, actor=actor, action=action, case_id=case_id,
                       detail=detail, created_at=utcnow(), prev_hash=last.hash if last else GENESIS,
                       content_salt=salt, content_digest=content_digest(None, detail, salt))
    entry.hash = event_hash(entry_fields(entry))
    session.add(entry)
    await session.flush()
    return entry


async def entries(session: AsyncSession, case_id: str | None = None) -> list[AuditEntry]:
    """The log in order, optionally one case's entries."""
    query = select(AuditEntry).order_by(AuditEntry.seq)
    if case_id is not None:
        query = query.where(AuditEntry.case_id == case_id)
    return list(await session.scalars(query))


async def verify(session: AsyncSession) -> ChainCheck:
    """Re-hashes the whole log."""
    return verify_chain(entry_fields(entry) for entry in await entries(session))
