"""content_digest: the timeline's chain covers a salted digest of each event's content, so content can be erased

Every existing chain is recomputed: each event gets a random salt and the digest of (salt, text, payload), and its
hash the new canonical form (core/hashchain.py as of this revision); the audit log's chain too (its entries are
digested unsalted). The hash functions are copied here, so later changes to core/hashchain.py never change what
this migration did. Downgrading recomputes the previous form (content in the hash).

Revision ID: 0012_content_digest
Revises: 0003_inbox
Create Date: 2026-12-01 11:50:00
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_content_digest"
down_revision = "0003_inbox"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
OLD_FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "text", "payload",
              "provider_id", "prev_hash")
NEW_FIELDS = ("case_id", "seq", "created_at", "channel", "direction", "actor", "kind", "content_digest",
              "provider_id", "prev_hash")
BATCH = 1000

_EVENTS = sa.table(
    "timeline_events", sa.column("id", sa.BigInteger), sa.column("case_id", sa.String),
    sa.column("seq", sa.Integer), sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("channel", sa.String), sa.column("direction", sa.String), sa.column("actor", sa.String),
    sa.column("kind", sa.String), sa.column("text", sa.Text), sa.column("payload", sa.JSON),
    sa.column("provider_id", sa.String), sa.column("prev_hash", sa.String), sa.column("hash", sa.String),
    sa.column("content_salt", sa.String), sa.column("content_digest", sa.String))
_AUDIT = sa.table(
    "audit_log", sa.column("id", sa.BigInteger), sa.column("seq", sa.Integer), sa.column("actor", sa.String),
    sa.column("action", sa.String), sa.column("case_id", sa.String), sa.column("detail", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)), sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String))


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(body: object) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _digest(text: str | None, payload: Any, salt: str | None) -> str:
    return hashlib.sha256(_dumps({"payload": payload or {}, "salt": salt, "text": text})).hexdigest()


def _hash(event: dict[str, Any], fields: tuple[str, ...]) -> str:
    body = {field: event.get(field) for field in fields}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = _iso(body["created_at"])
    return hashlib.sha256(_dumps(body)).hexdigest()


def _events(bind: sa.engine.Connection) -> Iterator[dict[str, Any]]:
    """Every event, case by case in chain order, read in pages (keyset on case and seq)."""
    last: tuple[str, int] = ("", 0)
    columns = [c for c in _EVENTS.c if c.name not in ("hash",)]
    while True:
        after = sa.tuple_(sa.literal(last[0]), sa.literal(last[1]))
        rows = bind.execute(sa.select(*columns).where(sa.tuple_(_EVENTS.c.case_id, _EVENTS.c.seq) > after)
                            .order_by(_EVENTS.c.case_id, _EVENTS.c.seq).limit(BATCH)).mappings().all()
        if not rows:
            return
        yield from (dict(row) for row in rows)
        last = (rows[-1]["case_id"], rows[-1]["seq"])


def _rechain(bind: sa.engine.Connection, new: bool) -> None:
    """Recomputes each case's chain in the new (salted digest) or the old (content) form."""
    update = (sa.update(_EVENTS).where(_EVENTS.c.id == sa.bindparam("event_id"))
              .values(content_salt=sa.bindparam("salt"), content_digest=sa.bindparam("digest"),
                      prev_hash=sa.bindparam("prev"), hash=sa.bindparam("new_hash")))
    if not new:
        update = (sa.update(_EVENTS).where(_EVENTS.c.id == sa.bindparam("event_id"))
                  .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("new_hash")))
    case_id, previous, pending = None, GENESIS, []
    for event in _events(bind):
        if event["case_id"] != case_id:
            case_id, previous = event["case_id"], GENESIS
        event["prev_hash"] = previous
        row: dict[str, Any] = {"event_id": event["id"], "prev": previous}
        if new:
            erased = event["content_salt"] is None and event["content_digest"] is not None
            salt = None if erased else secrets.token_hex(32)
            event["content_digest"] = event["content_digest"] if erased else _digest(
                event["text"], event["payload"], salt)
            row.update(salt=salt, digest=event["content_digest"])
            previous = _hash(event, NEW_FIELDS)
        else:
            previous = _hash({**event, "payload": event["payload"] or {}}, OLD_FIELDS)
        pending.append({**row, "new_hash": previous})
        if len(pending) >= BATCH:
            bind.execute(update, pending)
            pending = []
    if pending:
        bind.execute(update, pending)


def _rechain_audit(bind: sa.engine.Connection, new: bool) -> None:
    """The audit log's one chain, in the new form (its detail digested unsalted) or the old one."""
    previous, pending = GENESIS, []
    for entry in bind.execute(sa.select(_AUDIT).order_by(_AUDIT.c.seq)).mappings():
        event = {"case_id": entry["case_id"], "seq": entry["seq"], "created_at": entry["created_at"],
                 "channel": None, "direction": None, "actor": entry["actor"], "kind": entry["action"],
                 "text": None, "payload": entry["detail"], "provider_id": None, "prev_hash": previous}
        if new:
            event["content_digest"] = _digest(None, entry["detail"], None)
        previous = _hash(event, NEW_FIELDS if new else OLD_FIELDS)
        pending.append({"entry_id": entry["id"], "prev": event["prev_hash"], "new_hash": previous})
    if pending:
        bind.execute(sa.update(_AUDIT).where(_AUDIT.c.id == sa.bindparam("entry_id"))
                     .values(prev_hash=sa.bindparam("prev"), hash=sa.bindparam("new_hash")), pending)


def upgrade() -> None:
    op.add_column("timeline_events", sa.Column("content_salt", sa.String(length=64), nullable=True))
    op.add_column("timeline_events", sa.Column("content_digest", sa.String(length=64), nullable=True))
    _rechain(op.get_bind(), new=True)
    _rechain_audit(op.get_bind(), new=True)


def downgrade() -> None:
    _rechain(op.get_bind(), new=False)
    _rechain_audit(op.get_bind(), new=False)
    op.drop_column("timeline_events", "content_digest")  # SQLite 3.35+ drops a column in place: triggers stay
    op.drop_column("timeline_events", "content_salt")
